"""Twitch chat: one raw IRC line with IRCv3 tags (request the `twitch.tv/tags` capability), or one
EventSub notification (what twitchio 3 and every current Twitch client speak).

    @badge-info=;display-name=Ann;id=8a1c…;tmi-sent-ts=1700000000000;user-id=4711 :ann!ann@ann.tmi.twitch.tv PRIVMSG #shop :how much?

| command | event |
| --- | --- |
| PRIVMSG | comment: the trailing text (a /me action unwrapped), viewer `user-id`, name `display-name` (else the login), time `tmi-sent-ts`, id `id` |
| anything else (PING, JOIN, USERNOTICE, CLEARCHAT, numerics …) | nothing |

JOIN is not mapped to enter: Twitch sends JOINs in batches, only for small channels and without
user ids, so it would distort the funnel rather than measure it.

EventSub, as `{"subscription", "event"}` (webhook body, twitchio's payload) or as the WebSocket
message `{"metadata", "payload": {"subscription", "event"}}`:

| subscription type | event |
| --- | --- |
| channel.chat.message | comment: `message.text`, viewer `chatter_user_id`, name `chatter_user_name`, id `message_id`, time `metadata.message_timestamp` when given |
| channel.follow (v1, v2) | follow: viewer `user_id`, time `followed_at`, id derived from both |
| channel.subscribe and anything else | nothing (no event type for a paid subscription) |

A shared-chat message from another channel (`source_broadcaster_user_id` set and not the
broadcaster) belongs to another room and is left to the room guard (`room_of`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from livecompanion.ingest.bridges._common import (
    Event,
    as_id,
    as_mapping,
    as_text,
    derived_id,
    epoch_ms,
    event,
    need_id,
)

PLATFORM = "twitch"
_UNESCAPE = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}


def _unescape(value: str) -> str:
    # IRCv3 tag values escape ; space \ CR LF as \: \s \\ \r \n; any other \x is x, a lone \ dropped.
    if "\\" not in value:
        return value
    out: list[str] = []
    chars = iter(value)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append(_UNESCAPE.get(nxt, nxt))
        else:
            out.append(ch)
    return "".join(out)


def parse_tags(raw: str) -> dict[str, str]:
    """IRCv3 tags (without the leading @) as a dict of unescaped values."""
    tags: dict[str, str] = {}
    for part in raw.split(";"):
        if part:
            name, _, value = part.partition("=")
            tags[name] = _unescape(value)
    return tags


def map_twitch_line(line: str) -> list[Event]:
    """Events for one raw IRC line from Twitch chat; [] for lines that are not chat messages."""
    if not isinstance(line, str):
        raise ValueError(f"line: expected text, got {type(line).__name__}")
    tags, prefix, command, params = split_line(line)
    if command != "PRIVMSG":
        return []
    channel, sep, text = params.partition(" :")
    if not sep or not channel.startswith("#"):
        raise ValueError("PRIVMSG: expected '#channel :text'")
    if not tags:
        raise ValueError(
            "PRIVMSG without tags: request the twitch.tv/tags capability to get user and message ids"
        )
    if text.startswith("\x01ACTION ") and text.endswith("\x01"):
        text = text[len("\x01ACTION ") : -1]
    text = text.strip()
    if not text:
        return []
    user_id = need_id(tags.get("user-id"), "tag user-id")
    message_id = need_id(tags.get("id"), "tag id")
    login = prefix.partition("!")[0] or None
    nickname = tags.get("display-name") or login
    ts = epoch_ms(tags.get("tmi-sent-ts") or None, "tag tmi-sent-ts")
    return [
        event(
            "comment",
            PLATFORM,
            id=f"{PLATFORM}:{message_id}",
            ts=ts,
            user_id=user_id,
            nickname=nickname,
            text=text,
        )
    ]


def split_line(line: str) -> tuple[dict[str, str], str, str, str]:
    """(tags, prefix, command, params) of one raw IRC line."""
    rest = line.rstrip("\r\n")
    tags: dict[str, str] = {}
    if rest.startswith("@"):
        raw_tags, _, rest = rest[1:].partition(" ")
        tags = parse_tags(raw_tags)
    prefix = ""
    if rest.startswith(":"):
        prefix, _, rest = rest[1:].partition(" ")
    command, _, params = rest.lstrip(" ").partition(" ")
    return tags, prefix, command, params


def _notification(message: Mapping[str, Any]) -> tuple[str, Mapping[str, Any], Mapping[str, Any]]:
    """(subscription type, event, metadata) of an EventSub notification in either framing."""
    metadata: Mapping[str, Any] = {}
    if "payload" in message and "subscription" not in message:
        meta = message.get("metadata")
        metadata = as_mapping(meta, "metadata") if meta is not None else {}
        message = as_mapping(message.get("payload"), "payload")
    subscription = as_mapping(message.get("subscription"), "subscription")
    kind = subscription.get("type") or metadata.get("subscription_type")
    if not isinstance(kind, str):
        raise ValueError("subscription.type: missing")
    return kind, as_mapping(message.get("event"), "event"), metadata


def map_twitch_eventsub(message: Mapping[str, Any]) -> list[Event]:
    """Events for one EventSub notification; [] for subscription types we do not use."""
    message = as_mapping(message, "notification")
    if "payload" in message and "subscription" not in message:
        meta = message.get("metadata")
        if isinstance(meta, Mapping) and meta.get("message_type") not in (None, "notification"):
            return []  # session_welcome, session_keepalive, revocation ...
        if not isinstance(message.get("payload"), Mapping) or "event" not in message["payload"]:
            return []
    kind, data, metadata = _notification(message)
    if kind == "channel.chat.message":
        text = as_text(as_mapping(data.get("message"), "event.message").get("text"), "event.message.text")
        text = text.strip()
        if not text:
            return []
        return [
            event(
                "comment",
                PLATFORM,
                id=f"{PLATFORM}:{need_id(data.get('message_id'), 'event.message_id')}",
                ts=epoch_ms(metadata.get("message_timestamp"), "metadata.message_timestamp"),
                user_id=need_id(data.get("chatter_user_id"), "event.chatter_user_id"),
                nickname=_name(data.get("chatter_user_name"), data.get("chatter_user_login")),
                text=text,
            )
        ]
    if kind == "channel.follow":
        user_id = need_id(data.get("user_id"), "event.user_id")
        followed_at = data.get("followed_at")
        ts = epoch_ms(followed_at, "event.followed_at")
        return [
            event(
                "follow",
                PLATFORM,
                id=derived_id(PLATFORM, "follow", user_id, data.get("broadcaster_user_id"), followed_at),
                ts=ts,
                user_id=user_id,
                nickname=_name(data.get("user_name"), data.get("user_login")),
            )
        ]
    return []


def _name(*candidates: Any) -> str | None:
    for value in candidates:
        if isinstance(value, str) and value.strip():
            return value
    return None


def map_twitch(message: Any) -> list[Event]:
    """One recorded Twitch message: a raw IRC line (text) or an EventSub notification (object)."""
    if isinstance(message, str):
        return map_twitch_line(message)
    return map_twitch_eventsub(message)


def room_of(message: Any) -> str | None:
    """The channel a message belongs to: `#login` for IRC, the broadcaster's user id for EventSub
    (a shared-chat message from another channel names that channel)."""
    if isinstance(message, str):
        _, _, command, params = split_line(message)
        if command in ("PRIVMSG", "USERNOTICE", "CLEARCHAT", "CLEARMSG", "ROOMSTATE", "JOIN", "PART"):
            channel = params.partition(" ")[0]
            return channel.lower() if channel.startswith("#") else None
        return None
    if not isinstance(message, Mapping):
        return None
    try:
        _, data, _ = _notification(message)
    except ValueError:
        return None
    source = as_id(data.get("source_broadcaster_user_id"), "source_broadcaster_user_id", required=False)
    return source or as_id(data.get("broadcaster_user_id"), "broadcaster_user_id", required=False)
