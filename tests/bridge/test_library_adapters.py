"""The platform libraries' own message objects, built from recorded payloads, through our adapters.

TikTokLive cannot be pointed at a local server (it signs through a third-party service and talks to
TikTok's push servers), so its adapter is tested with TikTokLive's own event classes: the recorded
connector 2.0 like (tests/ingest/fixtures/real/tiktok.ndjson line 16) parsed by TikTokLive 7's
schema, and a comment in the schema's current field names. These tests need the optional extras
(`pip install -e '.[bridges]'`) and are skipped without them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from livecompanion.ingest.bridges.tiktok import map_tiktok

REAL = Path(__file__).resolve().parents[1] / "ingest" / "fixtures" / "real"


def test_tiktoklive_events_through_the_adapter() -> None:
    events = pytest.importorskip("TikTokLive.events", reason="TikTokLive is an optional extra")
    from livecompanion.bridge.sources.tiktok import EVENT_NAMES, event_dict

    assert {name for name in EVENT_NAMES if hasattr(events, name)} == set(EVENT_NAMES)
    recorded = json.loads((REAL / "tiktok.ndjson").read_text("utf-8").splitlines()[15])["data"]
    like = events.LikeEvent.from_dict(recorded, ignore_unknown_fields=True)
    (mapped,) = map_tiktok("like", event_dict(like))
    # The id and time survive TikTokLive's schema; the 2.0 field names (likeCount, userId) do not,
    # which is why the mapper also reads secUid as the viewer.
    assert (mapped["id"], mapped["ts"]) == ("tiktok:7510994817451590418", 1748789758121)
    assert mapped["user_id"].startswith("MS4wLjAB")
    # TikTokLive 7.0's to_dict raises on its User type; the adapter walks the fields instead.
    comment = events.CommentEvent.from_dict(
        {"common": {"msgId": "7600000000000000001", "createTime": "1760000000123", "roomId": "7599"},
         "user": {"id": "6900000000000000000", "nickname": "Ann", "displayId": "ann"}, "content": "size M?"}
    )  # fmt: skip
    (chat,) = map_tiktok("chat", event_dict(comment))
    expected = ("size M?", "6900000000000000000", "tiktok:7600000000000000001")
    assert (chat["text"], chat["user_id"], chat["id"]) == expected
