"""Recorded raw messages (contract section 3, `bridge --from` / `--record`) -> events, per platform.

One line of a recording is one message as the platform's usual open-source client hands it over:

| platform | one line |
| --- | --- |
| tiktok | `{"event": NAME, "data": {...}}` (TikTok-Live-Connector / TikTokLive; flat or protobuf-JSON data) |
| douyin | one decoded Webcast message, bare with `common.method` or `{"method", "payload"}` |
| bilibili | one command `{"cmd": ...}` (also bilibili-api-python's `{"room_real_id", "data": {...}}`) |
| youtube | one liveChatMessage resource, or one liveChatMessages.list response |
| twitch | one IRC line as a JSON string, or one EventSub notification object |
| shopify | `{"topic": "orders/paid", "payload": {...}}` |

`PLATFORMS[name].events(message)` maps one decoded line; `.room(message)` says which room the
message belongs to where it says so (None: it does not say). `RoomGuard` drops the messages of
another room: TikTok's client can drift into another streamer's room after a reconnect, Twitch's
shared chat brings in other channels, and a recording may mix rooms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from livecompanion.ingest.bridges import bilibili, douyin, tiktok, twitch, youtube
from livecompanion.ingest.bridges._common import Event, as_mapping
from livecompanion.ingest.bridges.shopify import map_shopify_order


def _tiktok(message: Any) -> list[Event]:
    message = as_mapping(message, "message")
    name = message.get("event")
    if not isinstance(name, str):
        raise ValueError('event: expected {"event": NAME, "data": {...}}')
    return tiktok.map_tiktok(name, as_mapping(message.get("data"), "data"))


def _tiktok_room(message: Any) -> str | None:
    return tiktok.room_of(message.get("data")) if isinstance(message, Mapping) else None


def _shopify(message: Any) -> list[Event]:
    message = as_mapping(message, "message")
    topic = message.get("topic")
    if not isinstance(topic, str):
        raise ValueError('topic: expected {"topic": "orders/paid", "payload": {...}}')
    return map_shopify_order(topic, as_mapping(message.get("payload"), "payload"))


def _no_room(_message: Any) -> str | None:
    return None


@dataclass(frozen=True)
class Platform:
    name: str
    events: Callable[[Any], list[Event]]
    room: Callable[[Any], str | None]


PLATFORMS: dict[str, Platform] = {
    "tiktok": Platform("tiktok", _tiktok, _tiktok_room),
    "douyin": Platform("douyin", douyin.map_douyin, douyin.room_of),
    "bilibili": Platform("bilibili", bilibili.map_bilibili, bilibili.room_of),
    "youtube": Platform("youtube", youtube.map_youtube, youtube.room_of),
    "twitch": Platform("twitch", twitch.map_twitch, twitch.room_of),
    "shopify": Platform("shopify", _shopify, _no_room),
}


@dataclass
class RoomGuard:
    """Keeps the messages of one room. With no room given, the first room a message names becomes
    the room. `admit` returns False for a message of another room, and `notice` is set (once per
    foreign room) to a sentence to show the operator; `dropped` counts what was left out."""

    room: str | None = None
    dropped: int = 0
    notice: str | None = None
    _told: set[str] = field(default_factory=set)

    def admit(self, found: str | None) -> bool:
        self.notice = None
        if found is None:
            return True
        if self.room is None:
            self.room = found
            return True
        if found == self.room:
            return True
        self.dropped += 1
        if found not in self._told:
            self._told.add(found)
            self.notice = (
                f"dropping messages of room {found}: this bridge follows room {self.room} "
                "(the client drifted, or the recording mixes rooms)"
            )
        return False
