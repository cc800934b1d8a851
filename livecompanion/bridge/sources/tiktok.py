"""TikTok LIVE through TikTokLive (Python; `pip install 'livecompanion[tiktok]'`).

TikTokLive connects to TikTok's Webcast push service by username. TikTok signs that connection;
TikTokLive asks the Euler Stream signing service for the signature (a third-party service,
https://www.eulerstream.com, which rate-limits signature requests; an API key, `--sign-api-key` /
`SIGN_API_KEY`, raises the limits). Every connect costs one signature. Expect a connection to fail
now and then when the signer is busy or TikTok changes its protocol: the runner reconnects with
backoff, and an update of TikTokLive is the usual fix. The room must be live.

Each event is recorded as `{"event": NAME, "data": <event.to_dict()>}` with the connector's event
names, the current protobuf-JSON shape the mapper reads.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

from livecompanion.bridge.sources import from_callbacks

EVENT_NAMES = {
    "QuestionNewEvent": "questionNew",
    "CommentEvent": "chat",
    "JoinEvent": "member",
    "LikeEvent": "like",
    "SocialEvent": "social",
    "FollowEvent": "follow",
    "ShareEvent": "share",
    "RoomUserSeqEvent": "roomUser",
    "GiftEvent": "gift",
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def event_dict(message: Any) -> Any:
    """A TikTokLive event (a betterproto2 message) as protobuf JSON: `to_dict()`, and where that
    raises (TikTokLive 7.0's `ExtendedUser` and `User` do: a type hint names `typing` their module
    does not import) the same walk done here: camelCase keys, default values left out, enums as
    numbers, int64 as text like protobuf JSON."""
    try:
        return message.to_dict()
    except Exception:  # noqa: BLE001 - fall back to walking the fields ourselves
        pass
    out: dict[str, Any] = {}
    for item in dataclasses.fields(message):
        value = _plain(getattr(message, item.name, None))
        if value not in (None, "", 0, False, [], {}):
            out[_camel(item.name)] = value
    return out


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return event_dict(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, bool) or value is None or isinstance(value, (str, float)):
        return value
    if isinstance(value, int):  # also IntEnum
        return str(int(value)) if abs(int(value)) > 2**31 else int(value)
    if isinstance(value, bytes):
        return None
    return str(value)


def library_version() -> str:
    from importlib.metadata import version

    return f"TikTokLive {version('TikTokLive')}"


async def tiktok_messages(user: str, sign_api_key: str | None = None) -> AsyncIterator[Any]:
    try:
        from TikTokLive import TikTokLiveClient  # type: ignore[import-not-found]
        from TikTokLive import events as tiktok_events
    except ImportError:
        raise SystemExit("the tiktok bridge needs TikTokLive: pip install 'livecompanion[tiktok]'") from None
    if sign_api_key:
        from TikTokLive.client.web.web_settings import WebDefaults  # type: ignore[import-not-found]

        WebDefaults.tiktok_sign_api_key = sign_api_key
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=100_000)
    client = TikTokLiveClient(unique_id=user)
    for class_name, name in EVENT_NAMES.items():
        event_class = getattr(tiktok_events, class_name, None)
        if event_class is None:
            continue

        async def forward(event: Any, name: str = name) -> None:
            await queue.put({"event": name, "data": event_dict(event)})

        client.on(event_class, forward)
    async for message in from_callbacks(queue, client.connect(), client.disconnect):
        yield message
