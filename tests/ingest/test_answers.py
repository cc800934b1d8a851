"""`IngestCounts`: the ingest API's answers added up as every sending client counts them."""

from __future__ import annotations

from dataclasses import dataclass

from livecompanion.ingest.answers import IngestCounts


def answer(accepted: int, duplicates: int, *reasons: str) -> dict[str, object]:
    return {"accepted": accepted, "duplicates": duplicates,
            "rejected": [{"index": i, "reason": r} for i, r in enumerate(reasons)]}


def test_answers_add_up_and_every_reason_is_counted() -> None:
    counts = IngestCounts()
    assert counts.add(answer(3, 1, "no ts", "no ts")) == [{"index": 0, "reason": "no ts"},
                                                          {"index": 1, "reason": "no ts"}]
    counts.add(answer(2, 0, "unknown type"))
    counts.add({"type": "ack", "seq": 9, "accepted": 1})  # a socket ack without rejections
    assert (counts.sent, counts.accepted, counts.duplicates, counts.rejected) == (0, 6, 1, 3)
    assert counts.reasons == {"no ts": 2, "unknown type": 1}


def test_reasons_per_answer_counts_only_the_first_ones() -> None:
    counts = IngestCounts()
    counts.add(answer(0, 0, "a", "b", "c", "d"), reasons_per_answer=3)
    counts.add(answer(0, 0, "e"), reasons_per_answer=0)
    assert counts.rejected == 5 and counts.reasons == {"a": 1, "b": 1, "c": 1}


def test_a_subclass_cuts_long_reasons() -> None:
    @dataclass
    class Cut(IngestCounts):
        REASON_CHARS = 5

    counts = Cut()
    counts.add(answer(0, 0, "0123456789", "01234xyz"))
    assert counts.count_reason("0123456") == "01234"
    assert counts.reasons == {"01234": 3}
    assert IngestCounts().count_reason("0123456789") == "0123456789"
