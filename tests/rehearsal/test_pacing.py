"""The rehearsal's schedule (pure): due times compressed by the speed, `ts` moved but never
compressed, batches, segment moves in their place, ties in file order; and the report comparison."""

from __future__ import annotations

import copy

import orjson
import pytest

from livecompanion.rehearsal.compare import compare_reports
from livecompanion.rehearsal.pacing import Step, plan, read_log

T0 = 1_730_548_800_000


def _log(events: list[dict[str, object]]) -> bytes:
    return b"\n".join(orjson.dumps(e) for e in events) + b"\n"


def _read(events: list[dict[str, object]]) -> tuple[object, list[tuple[int, str]]]:
    errors: list[tuple[int, str]] = []
    return read_log(_log(events), lambda n, r: errors.append((n, r))), errors


def _c(ms: int, n: int = 0) -> dict[str, object]:
    return {"type": "comment", "user_id": f"u{n}", "text": f"c{n}", "ts": T0 + ms}


@pytest.mark.parametrize("speed", [1.0, 20.0])
def test_due_times_divide_by_the_speed_and_ts_only_moves(speed: float) -> None:
    log, _ = _read([_c(0, 0), _c(1_000, 1), _c(60_000, 2), _c(3_600_000, 3)])
    shift = 5_000_000
    steps = list(plan(log, speed, shift, window_ms=0))
    assert [s.due_ms for s in steps] == [0.0, 1_000 / speed, 60_000 / speed, 3_600_000 / speed]
    # ts moved by the shift, never compressed: the gaps between events are the recorded ones.
    assert [s.events[0]["ts"] for s in steps] == [T0 + shift, T0 + 1_000 + shift, T0 + 60_000 + shift,
                                                  T0 + 3_600_000 + shift]


def test_batches_by_window_and_size() -> None:
    log, _ = _read([_c(ms, n) for n, ms in enumerate([0, 50, 100, 2_000, 2_010, 2_020, 2_030])])
    steps = list(plan(log, 1.0, 0, window_ms=100, max_batch=3))
    assert [len(s.events) for s in steps] == [3, 3, 1]
    assert [s.due_ms for s in steps] == [0.0, 2_000.0, 2_030.0]
    # At 20x the 2 s gap is 100 ms of wall time: within a 200 ms window, so one batch.
    assert [len(s.events) for s in plan(log, 20.0, 0, window_ms=200, max_batch=10)] == [7]
    assert [len(s.events) for s in plan(log, 20.0, 0, window_ms=100, max_batch=10)] == [4, 3]


def test_segment_changes_are_steps_in_their_place() -> None:
    events = [_c(0, 0), {"type": "segment", "segment": "open", "ts": T0 + 1_000, "id": "s1"}, _c(1_000, 1),
              _c(1_050, 2), {"type": "segment", "segment": "mask", "ts": T0 + 2_000}, _c(3_000, 3)]
    log, _ = _read(events)
    assert log.segments == ["open", "mask"]
    steps = list(plan(log, 10.0, 7, window_ms=1_000))
    assert steps == [
        Step(0.0, (events[0] | {"ts": T0 + 7},)),
        Step(100.0, segment="open", ts=T0 + 1_007, event_id="s1"),
        Step(100.0, (events[2] | {"ts": T0 + 1_007}, events[3] | {"ts": T0 + 1_057})),
        Step(200.0, segment="mask", ts=T0 + 2_007),
        Step(300.0, (events[5] | {"ts": T0 + 3_007},)),
    ]
    # Left to the operator: no segment steps, and no segment events sent either.
    left = list(plan(log, 10.0, 7, window_ms=1_000, move_segments=False))
    assert all(s.segment is None for s in left)
    assert [e["user_id"] for s in left for e in s.events] == ["u0", "u1", "u2", "u3"]


def test_ts_order_with_ties_in_file_order() -> None:
    events = [_c(2_000, 0), _c(1_000, 1), _c(2_000, 2), _c(1_000, 3),
              {"type": "like", "user_id": "x", "ts": "2024-11-02T12:00:01+00:00"}]
    log, _ = _read(events)
    order = [e.get("user_id") for _, e in log.events]
    assert order == ["u1", "u3", "x", "u0", "u2"]  # the ISO ts is T0 + 1 s: after the two ties before it
    assert [e["ts"] for s in plan(log, 1.0, 0, window_ms=10_000) for e in s.events][2] == T0 + 1_000


def test_what_is_left_out() -> None:
    events = [_c(0, 0), {"type": "alert", "key": "k", "kind": "sold_out", "text": "x", "ts": T0 + 5},
              {"type": "comment", "user_id": "u", "text": "no time"}, {"type": "comment", "ts": "yesterday"},
              [1, 2], _c(10, 1)]
    log, errors = _read(events)
    assert [e["user_id"] for _, e in log.events] == ["u0", "u1"]
    assert log.skipped_alerts == 1 and log.skipped_no_ts == 2
    assert [n for n, _ in errors] == [3, 4, 5] and "ts" in errors[0][1] and "not an event" in errors[2][1]
    array = read_log(orjson.dumps([_c(0, 0), _c(5, 1)]), lambda n, r: None)  # a JSON array too
    assert len(array.events) == 2


def test_speed_must_be_positive() -> None:
    log, _ = _read([_c(0)])
    with pytest.raises(ValueError, match="speed"):
        list(plan(log, 0, 0))


REPORT = {
    "stream_id": None, "start": "2024-11-02T20:00:00+08:00", "end": "2024-11-02T20:02:03.516+08:00",
    "gmv": 1234.5, "orders": 3, "duplicates": 2, "history": [],
    "segments": [{"id": "open", "start": "2024-11-02T20:00:00+08:00", "gmv": 1234.5}],
    "shop_orders": {"live_window": {"start_ms": T0 - 1_800_000}},
    "data_quality": {"duplicates": 2, "rejected": 1, "events": 40,
                     "platforms": [{"platform": "douyin", "events": 40, "duplicates": 2, "rejected": 0},
                                   {"platform": None, "events": 0, "duplicates": 0, "rejected": 1}]},
    "markers": [{"at": "2024-11-02T20:00:00+08:00", "kind": "segment", "label": "1. open", "until": None},
                {"at": "2024-11-02T20:01:00+08:00", "kind": "alert", "label": "售罄", "until": None}],
}


def _shifted(report: dict[str, object], shift_ms: int) -> dict[str, object]:
    from datetime import datetime, timedelta

    def move(value: object, key: str = "") -> object:
        if isinstance(value, dict):
            return {k: move(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [move(v) for v in value]
        if isinstance(value, str) and value[:2] == "20":
            return (datetime.fromisoformat(value) + timedelta(milliseconds=shift_ms)).isoformat(
                timespec="milliseconds")
        if key.endswith("_ms") and isinstance(value, int):
            return value + shift_ms
        return value

    out = move(copy.deepcopy(report))
    assert isinstance(out, dict)
    return out


def test_compare_reports() -> None:
    shift = 66_000_927_927
    stored_quality = {"duplicates": 0, "rejected": 0, "events": 40,
                      "platforms": [{"platform": "douyin", "events": 40, "duplicates": 0, "rejected": 0}]}
    same = _shifted(REPORT, shift) | {"stream_id": "abc", "duplicates": 0, "data_quality": stored_quality}
    assert compare_reports(REPORT, same, shift, ingest_duplicates=2, refused=1) == []
    # The rehearsal's own alerts and cues are its own; the recorded alerts are not sent.
    own = same | {"markers": [same["markers"][0], {"at": "x", "kind": "cue", "label": "c", "until": None}]}
    assert compare_reports(REPORT, own, shift, ingest_duplicates=2, refused=1) == []
    assert compare_reports(REPORT, same, shift + 1, ingest_duplicates=2, refused=1)[0].startswith("end:")
    off = copy.deepcopy(same)
    off["segments"][0]["gmv"] = 1234.0
    assert compare_reports(REPORT, off, shift, ingest_duplicates=2, refused=1) == [
        "segments[0].gmv: 1234.5 (log) != 1234.0 (rehearsal)"]
    assert compare_reports(REPORT, same, shift, ingest_duplicates=0, refused=1) == [
        "duplicates: 2 (log) != 0 (rehearsal: 0 at ingest or not sent, 0 in its log)",
        "data_quality.duplicates: 2 (log) != 0 (rehearsal: 0 at ingest or not sent, 0 in its log)"]
    fewer = same | {"segments": []}
    assert compare_reports(REPORT, fewer, shift, ingest_duplicates=2, refused=1) == [
        "segments: 1 entries (log) != 0 (rehearsal)"]
