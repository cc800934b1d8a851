"""The report's per-source silent minutes."""

from __future__ import annotations

from livecompanion.analytics.silence import source_silence

T0 = 1_796_000_000_000
MIN = 60_000


def ev(platform: str | None, minute: float) -> dict[str, object]:
    out: dict[str, object] = {"type": "comment", "ts": int(T0 + minute * MIN), "user_id": "u", "text": "hi"}
    if platform:
        out["platform"] = platform
    return out


def test_minutes_without_a_sources_events_while_the_stream_ran() -> None:
    events = [ev("douyin", m) for m in (0, 1, 2, 6, 9.5)] + [ev("shopify", 4.2), ev(None, 3)]
    out = source_silence(events)
    assert out["douyin"] == {"events": 5, "silent_minutes": 5, "silent": [[3, 5], [7, 8]]}
    # A source that joined late and left early is silent before and after too.
    assert out["shopify"] == {"events": 1, "silent_minutes": 9, "silent": [[0, 3], [5, 9]]}
    assert set(out) == {"douyin", "shopify"}


def test_no_events_or_a_wrong_ts_gives_nothing() -> None:
    assert source_silence([]) == {}
    assert source_silence([ev("douyin", 0), ev("douyin", 60 * 24 * 8)]) == {}
