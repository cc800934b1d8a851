"""TikTok LIVE events as TikTok-Live-Connector (and its ports) emit them: an event name and its data.

The data objects carry the viewer flat (`userId`, `uniqueId`, `nickname`) and the message as
`msgId` and `createTime` (epoch ms, as text). Newer versions nest them (`user.userId`,
`common.msgId`); both are read.

| event | event |
| --- | --- |
| chat | comment (`comment`) |
| questionNew | comment (`questionText`: the Q&A feature's question) |
| member | enter |
| like | like, `likeCount` taps |
| social | follow or share, by `displayType` (…follow…, …share…) |
| follow, share | follow, share (the connector also emits these for social messages; same `msgId`, so one survives) |
| roomUser | viewer_count (`viewerCount`) |
| gift, emote, envelope, subscribe, anything else | nothing |

A message without `msgId` but with `createTime` gets an id derived from user, time and content.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from livecompanion.ingest.bridges._common import (
    Event,
    as_id,
    as_int,
    as_mapping,
    as_text,
    derived_id,
    epoch_ms,
    event,
    need_id,
    pick,
)

PLATFORM = "tiktok"


def _ident(data: Mapping[str, Any], content: str) -> tuple[str | None, int | None, str, str | None]:
    """(event id, ts, user id, nickname) of a connector event."""
    nested_user = data.get("user")
    user = as_mapping(nested_user, "user") if nested_user is not None else data
    common = data.get("common")
    common = as_mapping(common, "common") if common is not None else {}
    user_id = as_id(pick(user, "userId", "user_id", "id"), "userId", required=False) or need_id(
        pick(user, "uniqueId", "unique_id"), "userId or uniqueId"
    )
    nickname = pick(user, "nickname", "nickName")
    ts = epoch_ms(
        pick(data, "createTime", "timestamp") or pick(common, "createTime", "create_time"), "createTime"
    )
    msg_id = as_id(pick(data, "msgId", "msg_id") or pick(common, "msgId", "msg_id"), "msgId", required=False)
    if msg_id is not None:
        eid = f"{PLATFORM}:{msg_id}"
    elif ts is not None:
        eid = derived_id(PLATFORM, user_id, ts, content)
    else:
        eid = None
    return eid, ts, user_id, nickname if isinstance(nickname, str) else None


def map_tiktok(event_name: str, data: Mapping[str, Any]) -> list[Event]:
    """Events for one TikTok-Live-Connector event; [] for events we do not use."""
    if not isinstance(event_name, str):
        raise ValueError(f"event name: expected text, got {type(event_name).__name__}")
    data = as_mapping(data, "data")
    if event_name in ("chat", "questionNew"):
        field = "comment" if event_name == "chat" else "questionText"
        text = as_text(data.get(field), field).strip()
        if not text:
            return []
        eid, ts, user_id, nickname = _ident(data, text)
        return [event("comment", PLATFORM, id=eid, ts=ts, user_id=user_id, nickname=nickname, text=text)]
    if event_name == "member":
        eid, ts, user_id, nickname = _ident(data, "member")
        return [event("enter", PLATFORM, id=eid, ts=ts, user_id=user_id, nickname=nickname)]
    if event_name == "like":
        count = as_int(pick(data, "likeCount", "like_count", "count"), "likeCount", default=1)
        if count <= 0:
            return []
        eid, ts, user_id, nickname = _ident(data, f"like:{count}")
        return [
            event(
                "like",
                PLATFORM,
                id=eid,
                ts=ts,
                user_id=user_id,
                nickname=nickname,
                count=min(count, 1_000_000),
            )
        ]
    if event_name in ("social", "follow", "share"):
        kind = event_name
        if event_name == "social":
            display = as_text(data.get("displayType"), "displayType").lower()
            kind = "follow" if "follow" in display else "share" if "share" in display else ""
            if not kind:
                return []
        eid, ts, user_id, nickname = _ident(data, kind)
        return [event(kind, PLATFORM, id=eid, ts=ts, user_id=user_id, nickname=nickname)]
    if event_name == "roomUser":
        count = as_int(pick(data, "viewerCount", "viewer_count"), "viewerCount")
        if count < 0:
            raise ValueError(f"viewerCount: {count} viewers is negative")
        msg_id = as_id(pick(data, "msgId", "msg_id"), "msgId", required=False)
        ts = epoch_ms(pick(data, "createTime", "timestamp"), "createTime")
        return [event("viewer_count", PLATFORM, id=msg_id and f"{PLATFORM}:{msg_id}", ts=ts, count=count)]
    return []
