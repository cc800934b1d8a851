"""TikTok LIVE through TikTokLive (Python; `pip install 'livecompanion[tiktok]'`).

TikTokLive connects to TikTok's Webcast push service by username. TikTok signs that connection;
TikTokLive asks the Euler Stream signing service for the signature (a third-party service,
https://www.eulerstream.com; it needs no key for light use and rate-limits per IP, with an API key
`--sign-api-key` / `SIGN_API_KEY` for more). Expect a connection to fail now and then when the
signer is busy or TikTok changes its protocol: the runner reconnects with backoff, and an update
of TikTokLive is the usual fix. The room must be live.

Each event is recorded as `{"event": NAME, "data": <event.to_dict()>}` with the connector's event
names, the current protobuf-JSON shape the mapper reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

EVENT_NAMES = {
    "CommentEvent": "chat",
    "JoinEvent": "member",
    "LikeEvent": "like",
    "SocialEvent": "social",
    "FollowEvent": "follow",
    "ShareEvent": "share",
    "RoomUserSeqEvent": "roomUser",
    "GiftEvent": "gift",
}


def library_version() -> str:
    from importlib.metadata import version

    return f"TikTokLive {version('TikTokLive')}"


async def tiktok_messages(user: str, sign_api_key: str | None = None) -> AsyncIterator[Any]:
    try:
        from TikTokLive import TikTokLiveClient  # type: ignore[import-not-found]
        from TikTokLive import events as tiktok_events  # type: ignore[import-not-found]
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
            data = event.to_dict() if hasattr(event, "to_dict") else dict(vars(event))
            await queue.put({"event": name, "data": data})

        client.on(event_class, forward)
    session = asyncio.create_task(client.connect())
    try:
        while True:
            getter = asyncio.create_task(queue.get())
            done, _ = await asyncio.wait({getter, session}, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                yield getter.result()
                continue
            getter.cancel()
            session.result()  # raises why the connection ended
            return
    finally:
        session.cancel()
        try:
            await client.disconnect()
        except Exception:  # noqa: BLE001 - already gone
            pass
