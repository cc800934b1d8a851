"""One module per platform transport; each yields raw messages in the recorded format
(livecompanion/ingest/bridges/recorded.py). Platform client libraries are imported inside their
module's functions only, so `pip install livecompanion` alone works without any of them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

# The platforms' endpoints, overridable on the command line (a local server in tests, a proxy).
TWITCH_EVENTSUB = "wss://eventsub.wss.twitch.tv/ws"
TWITCH_HELIX = "https://api.twitch.tv/helix"
TWITCH_AUTH = "https://id.twitch.tv/oauth2"
YOUTUBE_API = "https://www.googleapis.com/youtube/v3"


class SourceEnded(Exception):
    """The platform says this room will send nothing more (a YouTube chat that ended, a key out of
    quota): the bridge stops reading instead of reconnecting, and says why."""


async def from_callbacks(
    queue: asyncio.Queue[Any], session: Awaitable[Any], close: Callable[[], Awaitable[Any]]
) -> AsyncIterator[Any]:
    """Messages a callback-style client puts on `queue` while its `session` runs; ends (raising
    what ended it) when the session does, and closes the client when the caller stops."""
    running = asyncio.ensure_future(session)
    try:
        while True:
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({getter, running}, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                yield getter.result()
                continue
            getter.cancel()
            running.result()  # raises why the connection ended
            return
    finally:
        running.cancel()
        try:
            await close()
        except Exception:  # noqa: BLE001 - already gone
            pass
