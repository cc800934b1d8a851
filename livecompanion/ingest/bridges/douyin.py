"""Douyin (抖音) live room messages, as the open-source web clients decode them.

The clients (DouyinLiveWebFetcher, douyin-live-go, BarrageGrab and the like) unpack the Webcast
push frames into protobuf messages named by their `method` (WebcastChatMessage ...). A bridge hands
us one message converted to JSON the usual way (protobuf JSON / MessageToDict: camelCase, int64 as
strings, default values left out; snake_case is accepted too), either bare with `common.method`,
or in the envelope `{"method": ..., "payload": {...}}`.

| method | event |
| --- | --- |
| WebcastChatMessage, WebcastEmojiChatMessage | comment (`content`, or `defaultContent` for an emoji chat) |
| WebcastMemberMessage | enter |
| WebcastLikeMessage | like, `count` taps |
| WebcastSocialMessage | follow (`action` 1) or share (`action` 3, or a `shareType`); without those, by its text (关注 / 分享) |
| WebcastRoomUserSeqMessage | viewer_count (`total`: viewers in the room now) |
| WebcastGiftMessage and anything else | nothing: a gift is neither a like nor an order |
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
    epoch_ms,
    event,
    need_id,
    pick,
)

PLATFORM = "douyin"


def _method_name(message: Mapping[str, Any], common: Mapping[str, Any], method: str | None) -> str:
    name = method or pick(message, "method") or pick(common, "method") or ""
    if not isinstance(name, str):
        raise ValueError(f"method: expected text, got {type(name).__name__}")
    return name if name.startswith("Webcast") or not name else f"Webcast{name}"


_USER_ID_FIELDS = (
    "id",
    "uid",
    "idStr",
    "id_str",
    "secUid",
    "sec_uid",
    "displayId",
    "display_id",
    "shortId",
    "short_id",
)


def _user(payload: Mapping[str, Any]) -> tuple[str, str | None]:
    user = as_mapping(payload.get("user"), "user")
    # Douyin may zero the numeric id for privacy; secUid is stable per viewer, so fall back to it.
    user_id = None
    for name in _USER_ID_FIELDS:
        user_id = as_id(user.get(name), f"user.{name}", required=False)
        if user_id:
            break
    if user_id is None:
        raise ValueError("user: no id, idStr, secUid or displayId")
    nickname = pick(user, "nickName", "nick_name", "nickname")
    return user_id, nickname if isinstance(nickname, str) else None


def map_douyin(message: Mapping[str, Any], method: str | None = None) -> list[Event]:
    """Events for one decoded Douyin Webcast message; [] for messages we do not use."""
    message = as_mapping(message, "message")
    payload = message.get("payload")
    payload = as_mapping(payload, "payload") if payload is not None else message
    common = payload.get("common")
    common = as_mapping(common, "common") if common is not None else {}
    name = _method_name(message, common, method)
    if name not in _MAPPERS:
        return []
    msg_id = need_id(pick(common, "msgId", "msg_id") or pick(message, "msgId", "msg_id"), "common.msgId")
    ts = epoch_ms(pick(common, "createTime", "create_time"), "common.createTime")
    if ts is None:
        ts = epoch_ms(pick(payload, "eventTime", "event_time"), "eventTime")
    return _MAPPERS[name](payload, f"{PLATFORM}:{msg_id}", ts)


def _chat(payload: Mapping[str, Any], eid: str, ts: int | None) -> list[Event]:
    text = as_text(pick(payload, "content", "defaultContent", "default_content"), "content").strip()
    if not text:
        return []
    user_id, nickname = _user(payload)
    return [event("comment", PLATFORM, id=eid, ts=ts, user_id=user_id, nickname=nickname, text=text)]


def _member(payload: Mapping[str, Any], eid: str, ts: int | None) -> list[Event]:
    user_id, nickname = _user(payload)
    return [event("enter", PLATFORM, id=eid, ts=ts, user_id=user_id, nickname=nickname)]


def _like(payload: Mapping[str, Any], eid: str, ts: int | None) -> list[Event]:
    count = as_int(payload.get("count"), "count", default=1)
    if count <= 0:
        return []
    user_id, nickname = _user(payload)
    return [
        event(
            "like", PLATFORM, id=eid, ts=ts, user_id=user_id, nickname=nickname, count=min(count, 1_000_000)
        )
    ]


def _social(payload: Mapping[str, Any], eid: str, ts: int | None) -> list[Event]:
    action = as_int(payload.get("action"), "action", default=0)
    share_type = as_int(pick(payload, "shareType", "share_type"), "shareType", default=0)
    if action == 1:
        kind = "follow"
    elif action == 3 or share_type > 0:
        kind = "share"
    else:
        # Older fetchers (and some API relays) hand over only the rendered text: 关注了主播 / 分享了直播间.
        text = as_text(payload.get("content"), "content")
        if "关注" in text:
            kind = "follow"
        elif "分享" in text:
            kind = "share"
        else:
            return []
    user_id, nickname = _user(payload)
    return [event(kind, PLATFORM, id=eid, ts=ts, user_id=user_id, nickname=nickname)]


def _viewers(payload: Mapping[str, Any], eid: str, ts: int | None) -> list[Event]:
    count = as_int(payload.get("total"), "total", default=0)
    if count < 0:
        raise ValueError(f"total: {count} viewers is negative")
    return [event("viewer_count", PLATFORM, id=eid, ts=ts, count=count)]


_MAPPERS = {
    "WebcastChatMessage": _chat,
    "WebcastEmojiChatMessage": _chat,
    "WebcastMemberMessage": _member,
    "WebcastLikeMessage": _like,
    "WebcastSocialMessage": _social,
    "WebcastRoomUserSeqMessage": _viewers,
}


def room_of(message: Any) -> str | None:
    """The room a decoded message names (`common.roomId`, or the envelope payload's `room_id`)."""
    if type(message) is not dict and not isinstance(message, Mapping):
        return None
    payload = message.get("payload")
    payload = payload if type(payload) is dict or isinstance(payload, Mapping) else message
    common = payload.get("common")
    room = None
    if type(common) is dict or isinstance(common, Mapping):
        room = common.get("roomId") or common.get("room_id")
    room = room or payload.get("roomId") or payload.get("room_id")
    if type(room) is str and room.isdigit() and room != "0":
        return room  # the usual shape: digits, as protobuf JSON sends int64
    return as_id(room, "roomId", required=False)
