"""Event times more than a day from the server's clock are refused at ingest, per event, with a
reason; the pydantic path and the plain path agree on the window."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livecompanion.events import parse_event
from livecompanion.events.limits import MAX_TS_SKEW_MS
from livecompanion.events.models import event_to_dict
from livecompanion.events.plain import plain_event
from tests.conftest import start_server
from tests.ingest.ingest_client import create_stream

NOW = 1_796_000_000_000  # 2026-11-28
DAY = 86_400_000


def comment(ts: object) -> dict[str, object]:
    return {"type": "comment", "ts": ts, "user_id": "u1", "text": "多少钱"}


def test_the_year_2286_is_refused_with_a_reason() -> None:
    far = r"ts: 2286-11-20T17:46:40\+00:00 is more than 24 hours from the server's clock"
    with pytest.raises(ValueError, match=far):
        parse_event(comment(10**13), NOW, max_skew_ms=MAX_TS_SKEW_MS)
    with pytest.raises(ValueError, match="more than 24 hours"):
        parse_event(comment("2025-01-01T00:00:00+08:00"), NOW, max_skew_ms=MAX_TS_SKEW_MS)
    assert plain_event(comment(10**13), NOW, MAX_TS_SKEW_MS) is None  # defers to parse_event
    # Inside the window, and without one (the offline report reads old logs): accepted.
    assert parse_event(comment(NOW + DAY), NOW, max_skew_ms=MAX_TS_SKEW_MS).ts == NOW + DAY
    assert parse_event(comment(NOW - 400 * DAY), NOW).ts == NOW - 400 * DAY


@given(st.integers(NOW - 3 * DAY, NOW + 3 * DAY))
def test_plain_and_pydantic_agree_on_the_window(ts: int) -> None:
    plain = plain_event(comment(ts), NOW, MAX_TS_SKEW_MS)
    try:
        typed = event_to_dict(parse_event(comment(ts), NOW, max_skew_ms=MAX_TS_SKEW_MS))
    except ValueError:
        typed = None
    if plain is not None:
        assert plain == typed
    assert (typed is not None) == (abs(ts - NOW) <= MAX_TS_SKEW_MS)


def test_ingest_refuses_far_times_per_event(tmp_path: Path) -> None:
    server = start_server(tmp_path, extra_env={"LIVECOMPANION_MAX_TS_SKEW_HOURS": "24"})
    try:
        sid = create_stream(server)
        body = [comment(10**13) | {"id": "far"}, comment(None) | {"id": "now"}]
        r = httpx.post(f"{server.base_url}/api/streams/{sid}/events", json=body, headers=server.headers("ingest"))
        assert r.status_code == 200, r.text
        result = r.json()
        assert result["accepted"] == 1
        assert [(x["index"], "2286" in x["reason"]) for x in result["rejected"]] == [(0, True)]
    finally:
        server.stop()
