"""TikTok LIVE events as TikTok-Live-Connector (Node) and TikTokLive (Python) emit them: an event
name and its data, recorded as `{"event": NAME, "data": {...}}`.

Two shapes are read:
- the older flat one (connector 1.x): `userId`, `uniqueId`, `nickname`, `msgId`, `createTime` on
  the data itself, the chat text in `comment`, `likeCount`, `viewerCount`;
- the current protobuf-JSON one (connector 2.x on tiktok-live-proto v3, TikTokLive 6/7 `to_dict`):
  the viewer in `user` (`id` or `userId`, `displayId` or `uniqueId`, `nickname`), the message's
  `common.msgId`, `common.createTime` and `common.roomId`, the chat text in `content`, a like's taps
  in `count`, viewers now in `total` (or `viewerCount`), a question in `details.questionText` with
  the asker in `details.user`.

| event | event |
| --- | --- |
| chat | comment |
| questionNew | comment (the Q&A feature's question) |
| member | enter |
| like | like, taps in this message (not `totalLikeCount`) |
| social | follow or share: by `displayType` (…follow…, …share…) or `action` (1 follow, 3 share) or a `shareType` |
| follow, share | follow, share (the connector emits these beside `social` for one message; same id, so one survives) |
| roomUser | viewer_count |
| gift, emote, envelope, subscribe, liveIntro, linkMic…, anything else | nothing |

Ids: `tiktok:<msgId>`; a message without `msgId` (questionNew and roomUser in the flat shape) gets an
id derived from what it says (user, server time when given, content), so a replay is a duplicate.
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


def _common(data: Mapping[str, Any]) -> Mapping[str, Any]:
    common = data.get("common")
    return as_mapping(common, "common") if common is not None else {}


def _user(data: Mapping[str, Any]) -> tuple[str, str | None]:
    nested = data.get("user")
    user = as_mapping(nested, "user") if nested is not None else data
    user_id = as_id(pick(user, "userId", "user_id", "id", "idStr", "id_str"), "user.id", required=False)
    if user_id is None:
        user_id = need_id(
            pick(user, "uniqueId", "unique_id", "displayId", "display_id", "secUid"), "user id or uniqueId"
        )
    nickname = pick(user, "nickname", "nickName", "nick_name")
    return user_id, nickname if isinstance(nickname, str) else None


def _when(data: Mapping[str, Any]) -> tuple[str | None, int | None]:
    common = _common(data)
    msg_id = as_id(pick(data, "msgId", "msg_id") or pick(common, "msgId", "msg_id"), "msgId", required=False)
    ts = epoch_ms(
        pick(data, "createTime", "create_time", "timestamp") or pick(common, "createTime", "create_time"),
        "createTime",
    )
    return msg_id, ts


def _ident(data: Mapping[str, Any], content: str) -> tuple[str, int | None, str, str | None]:
    """(event id, ts, user id, nickname) of a connector event."""
    user_id, nickname = _user(data)
    msg_id, ts = _when(data)
    eid = f"{PLATFORM}:{msg_id}" if msg_id else derived_id(PLATFORM, user_id, ts, content)
    return eid, ts, user_id, nickname


def _display_type(data: Mapping[str, Any]) -> str:
    found = data.get("displayType")
    if found is None:
        common = _common(data)
        shown = common.get("displayText")
        found = (shown.get("displayType") if isinstance(shown, Mapping) else None) or common.get(
            "displayType"
        )
    return as_text(found, "displayType").lower()


def _social_kind(event_name: str, data: Mapping[str, Any]) -> str:
    if event_name != "social":
        return event_name
    display = _display_type(data)
    if "follow" in display:
        return "follow"
    if "share" in display:
        return "share"
    action = as_int(data.get("action"), "action", default=0)
    if action == 1:
        return "follow"
    if action == 3 or as_int(pick(data, "shareType", "share_type"), "shareType", default=0):
        return "share"
    return ""


def _comment(text: Any, field: str, data: Mapping[str, Any]) -> list[Event]:
    body = as_text(text, field).strip()
    if not body:
        return []
    eid, ts, user_id, nickname = _ident(data, body)
    return [event("comment", PLATFORM, id=eid, ts=ts, user_id=user_id, nickname=nickname, text=body)]


def map_tiktok(event_name: str, data: Mapping[str, Any]) -> list[Event]:
    """Events for one TikTok-Live-Connector / TikTokLive event; [] for events we do not use."""
    if not isinstance(event_name, str):
        raise ValueError(f"event name: expected text, got {type(event_name).__name__}")
    data = as_mapping(data, "data")
    if event_name == "chat":
        field = "content" if data.get("content") is not None else "comment"
        return _comment(data.get(field), field, data)
    if event_name == "questionNew":
        details = data.get("details")
        if isinstance(details, Mapping):
            return _comment(details.get("questionText"), "details.questionText", {**data, **details})
        return _comment(data.get("questionText"), "questionText", data)
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
        kind = _social_kind(event_name, data)
        if not kind:
            return []
        eid, ts, user_id, nickname = _ident(data, kind)
        return [event(kind, PLATFORM, id=eid, ts=ts, user_id=user_id, nickname=nickname)]
    if event_name == "roomUser":
        count = as_int(pick(data, "viewerCount", "viewer_count", "total"), "viewerCount or total")
        if count < 0:
            raise ValueError(f"viewerCount: {count} viewers is negative")
        msg_id, ts = _when(data)
        eid = f"{PLATFORM}:{msg_id}" if msg_id else derived_id(PLATFORM, "roomUser", ts, count)
        return [event("viewer_count", PLATFORM, id=eid, ts=ts, count=count)]
    return []


def room_of(data: Any) -> str | None:
    """The room a connector event names (`common.roomId`, or `roomId` on the data), if any."""
    if not isinstance(data, Mapping):
        return None
    common = data.get("common")
    room = pick(common, "roomId", "room_id") if isinstance(common, Mapping) else None
    return as_id(room or pick(data, "roomId", "room_id"), "roomId", required=False)
