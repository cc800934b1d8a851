"""Properties over random logs: the fast report equals the literal one, and splitting a stream into
segments never changes the whole-stream figures."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livecompanion.analytics.cli import build_report_from_file
from livecompanion.analytics.metrics import ADDITIVE_KEYS, KEYS
from tests.analytics.helpers import ALIAS, T0, report
from tests.analytics.reference import reference_report

USERS = st.sampled_from(["a", "b", "c", "d", "e"])
IDS = st.one_of(st.none(), st.sampled_from(["i1", "i2", "i3", "i4"]))
TS = st.integers(0, 40).map(lambda s: T0 + s * 1000)  # few distinct times: many ties


def _event(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    base: dict[str, Any] = {"type": st.just(kind), "ts": TS, "id": IDS}
    if kind not in ("segment", "viewer_count"):
        base["user_id"] = USERS
    if kind == "viewer_count":
        base["count"] = st.integers(0, 30)
    if kind == "comment":
        base["text"] = st.sampled_from(["hi", "這款適合油皮嗎？", "多少錢"])
    elif kind == "like":
        base["count"] = st.integers(1, 5)
    elif kind in ("product_impression", "product_click"):
        base["sku"] = st.sampled_from(["S1", "S2"])
    elif kind == "order":
        base.update(order_id=st.sampled_from(["o1", "o2", "o3"]), sku=st.just("S1"), qty=st.integers(1, 3),
                    amount=st.sampled_from([0, 5, "19.90", 10.05, 99]),
                    status=st.sampled_from(["created", "paid", "paid", "cancelled", "refunded"]))
    elif kind == "segment":
        base["segment"] = st.sampled_from(["s1", "s2", "s3"])
    return st.fixed_dictionaries(base).map(lambda d: {k: v for k, v in d.items() if v is not None})


KINDS = ["impression", "enter", "enter", "leave", "leave", "comment", "like", "share", "follow",
         "product_impression", "product_click", "order", "segment", "segment", "viewer_count", "viewer_count"]
LOGS = st.lists(st.sampled_from(KINDS).flatmap(_event), max_size=40)
# As platforms send them: no leave event at all (presence counted by activity, docs/report.md).
PLATFORM_LOGS = st.lists(st.sampled_from([k for k in KINDS if k != "leave"]).flatmap(_event), max_size=40)
PROPERTY = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# The report rounds for presentation: money to 2 decimals, seconds to 3, rates to 6.
TOLERANCE = {"gpm": 0.005, "uv_value": 0.005, "aov": 0.005, "avg_watch_seconds": 0.0006, "acu": 0.0006}


def _close(got: dict[str, Any], want: dict[str, Any]) -> None:
    for key in KEYS:
        if want[key] is None:
            assert got[key] is None, key
        else:
            assert got[key] == pytest.approx(want[key], abs=TOLERANCE.get(key, 1e-6)), key


@PROPERTY
@given(st.one_of(LOGS, PLATFORM_LOGS))
def test_report_equals_the_literal_definitions(events: list[dict[str, Any]]) -> None:
    got = report(events)
    want = reference_report(events)
    assert got["avg_watch_method"] == want["avg_watch_method"]
    if want["whole"] is None:
        assert got["start"] is None
        return
    _close(got, want["whole"])
    assert [s["id"] for s in got["segments"]] == [sid for sid, _ in want["segments"]]
    for mine, (_, theirs) in zip(got["segments"], want["segments"]):
        _close(mine, theirs)
    assert (got["before_first_segment"] is None) == (want["before"] is None)
    if want["before"] is not None:
        _close(got["before_first_segment"], want["before"])


@PROPERTY
@given(st.one_of(LOGS, PLATFORM_LOGS))
def test_segments_never_change_the_whole_stream(events: list[dict[str, Any]]) -> None:
    with_segments = report(events)
    # The same stream with no segment: each segment event becomes an inert event (the stop of a
    # 講解 that never started), so the stream keeps its start and end (and its ids, for de-duplication).
    flat = [{**{k: v for k, v in e.items() if k != "segment"}, "type": "product_explain", "user_id": "host",
             "sku": "none", "action": "stop"} if e["type"] == "segment" else e for e in events]
    without = report(flat)
    assert without["segments"] == []
    for key in KEYS:
        assert with_segments[key] == without[key], key
    parts = list(with_segments["segments"])
    if with_segments["before_first_segment"]:
        parts.append(with_segments["before_first_segment"])
    if parts:
        for key in ADDITIVE_KEYS:
            assert sum(p[key] for p in parts) == pytest.approx(with_segments[key]), key
        for key in ("peak_viewers", "pcu"):
            held = [p[key] for p in parts if p[key] is not None]
            assert (max(held) if held else None) == with_segments[key], key
        seconds = [p["viewer_seconds"] for p in parts if p["viewer_seconds"] is not None]
        assert (sum(seconds) if seconds else None) == pytest.approx(with_segments["viewer_seconds"])
        assert sum(p["actual_seconds"] for p in parts) == pytest.approx(with_segments["duration_seconds"])


@PROPERTY
@given(LOGS)
def test_an_event_log_file_gives_the_same_report(events: list[dict[str, Any]]) -> None:
    if not events:
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.ndjson"
        path.write_bytes(b"\n".join(orjson.dumps(e) for e in events) + b"\n")
        from_file = build_report_from_file(path, None, pseudonymizer=ALIAS)
    assert from_file == report(events)
