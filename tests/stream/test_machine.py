"""The show's state machine, pacing and document sections (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from livecompanion.errors import Conflict
from livecompanion.scripts import check_file
from livecompanion.stream import machine
from livecompanion.stream.document import Show, build_document, cues_section, find_cue, transition_ops
from livecompanion.stream.machine import ShowError
from livecompanion.stream.pacing import pace

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "autumn-hydration.yaml"


@pytest.fixture(scope="module")
def script():  # type: ignore[no-untyped-def]
    result = check_file(EXAMPLE)
    assert result.script is not None
    return result.script


def test_first_next_starts_the_stream_and_last_next_ends_it() -> None:
    show = Show("s1")
    show = machine.next_segment(show, 3, 1000)
    assert (show.status, show.started_ms, show.segment_index, show.segment_started_ms) == ("live", 1000, 0, 1000)
    show = machine.next_segment(show, 3, 2000)
    show = machine.next_segment(show, 3, 3000)
    assert (show.segment_index, show.segment_started_ms, show.started_ms) == (2, 3000, 1000)
    show = machine.next_segment(show, 3, 4000)
    assert (show.status, show.ended_ms, show.segment_index) == ("ended", 4000, 2)
    for step in (lambda: machine.next_segment(show, 3, 5000), lambda: machine.previous_segment(show, 3, 5000),
                 lambda: machine.goto_segment(show, 0, 3, 5000), lambda: machine.end(show, 5000)):
        with pytest.raises(Conflict) as refused:
            step()
        assert refused.value.code == "ended"  # a stray click never puts an ended show back on air
    resumed = machine.reopen(show, 3, 6000)
    assert (resumed.status, resumed.segment_index, resumed.ended_ms, resumed.started_ms) == ("live", 2, None, 1000)
    with pytest.raises(ShowError):
        machine.reopen(resumed, 3, 7000)


def test_previous_and_goto_edges() -> None:
    with pytest.raises(ShowError):
        machine.previous_segment(Show("s1"), 3, 1)
    live = machine.next_segment(Show("s1"), 3, 1)
    with pytest.raises(ShowError):
        machine.previous_segment(live, 3, 2)
    jumped = machine.goto_segment(Show("s1"), 2, 3, 5)  # goto may start the show too
    assert (jumped.status, jumped.segment_index, jumped.started_ms) == ("live", 2, 5)
    assert machine.previous_segment(jumped, 3, 9).segment_index == 1
    with pytest.raises(ShowError):
        machine.goto_segment(jumped, 2, 3, 9)
    with pytest.raises(LookupError):
        machine.goto_segment(jumped, 3, 3, 9)
    with pytest.raises(ShowError):
        machine.end(Show("s1"), 1)


@pytest.mark.parametrize(
    ("elapsed", "low", "high", "expected"),
    [
        (0, 300, 600, "ok"), (299, 300, 600, "ok"), (480, 300, 600, "amber"), (600, 300, 600, "amber"),
        (601, 300, 600, "red"), (383, 480, 480, "ok"), (384, 480, 480, "amber"), (481, 480, 480, "red"),
        (10_000, None, None, "ok"), (540, 540, 600, "amber"),
    ],
)
def test_pacing(elapsed: float, low: int | None, high: int | None, expected: str) -> None:
    assert pace(elapsed, low, high) == expected


def test_document_of_a_fresh_stream(script) -> None:  # type: ignore[no-untyped-def]
    doc = build_document(script, Show("s1"), {}, 123)
    assert doc["stream"] == {"id": "s1", "title": "秋冬補水專場", "host": "小林", "status": "ready",
                             "started_ms": None, "ended_ms": None, "segment_count": len(script.segments),
                             "targets": dict(script.targets)}
    assert doc["stream"]["targets"]["gmv"] == 50000
    assert doc["segment"] is None and doc["pinned"] is None
    assert [s["id"] for s in doc["run_sheet"]] == script.segment_ids()
    opening = doc["run_sheet"][0]
    assert (opening["target_min_seconds"], opening["target_max_seconds"]) == (300, 600)
    assert opening["cues"][0]["key"] == "open/0" and opening["cues"][0]["seconds"] == 60
    assert all(c["due_ms"] is None for c in doc["cues"].values())
    assert doc["products"]["MASK-01"]["benefits"] == ["買二送一", "滿199減30"]
    for section in ("flash_sales", "lotteries", "countdowns"):
        assert doc[section] == {}
    assert doc["metrics"]["intent"] == {} and doc["questions"] == [] and doc["ticker"] == []


def test_cues_of_the_live_segment_fall_due_at_start_plus_offset(script) -> None:  # type: ignore[no-untyped-def]
    show = Show("s1", status="live", started_ms=0, segment_index=0, segment_started_ms=1_000_000,
                fired_cues={"open/1": 1_200_000})
    cues = cues_section(script, show)
    assert cues["open/0"]["due_ms"] == 1_000_000 + 120_000
    assert cues["open/1"]["fired_ms"] == 1_200_000
    assert cues["mask-intro/0"]["due_ms"] is None  # not the live segment
    ops = transition_ops(script, show)
    paths = [op["path"] for op in ops]
    assert ["segment"] in paths and ["cues"] in paths and ["note"] in paths and ["pinned"] not in paths
    segment = next(op["value"] for op in ops if op["path"] == ["segment"])
    assert segment["next"]["id"] == "mask-intro" and segment["started_ms"] == 1_000_000


def test_find_cue(script) -> None:  # type: ignore[no-untyped-def]
    index, segment, cue = find_cue(script, "mask-close/0")
    assert (index, segment.id, cue.action, cue.stock) == (3, "mask-close", "flash_sale", 200)
    for bad in ("mask-close/9", "nope/0", "mask-close", "mask-close/x"):
        with pytest.raises(LookupError):
            find_cue(script, bad)
