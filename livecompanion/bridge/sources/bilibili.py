"""bilibili live danmaku through bilibili-api-python (`pip install 'livecompanion[bilibili]'`).

`LiveDanmaku(room, credential=...)` keeps the danmaku WebSocket (heartbeats, decompression,
reconnects); every command reaches its `ALL` listener wrapped as `{"room_display_id",
"room_real_id", "type", "data": <command>}`. The bridge records the command itself.

Without a login cookie bilibili masks viewers: names come as `江***` and uids as 0, so comments,
enters and follows cannot be tied to a viewer, and the mapper refuses them with that reason. Give
the cookie of a (spare) logged-in account: `--cookie "SESSDATA=...; bili_jct=...; buvid3=..."`
(from the browser's developer tools, Application -> Cookies -> live.bilibili.com). It is a login:
keep it out of shell history (`--cookie-file`) and out of shared machines.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from livecompanion.bridge.sources import from_callbacks


def library_version() -> str:
    from importlib.metadata import version

    return f"bilibili-api-python {version('bilibili-api-python')}"


def parse_cookie(text: str) -> dict[str, str]:
    """`SESSDATA=..; bili_jct=..; buvid3=..` (a browser's Cookie header) -> its parts."""
    parts: dict[str, str] = {}
    for piece in text.replace("\n", ";").split(";"):
        name, sep, value = piece.strip().partition("=")
        if sep and name:
            parts[name.strip()] = value.strip()
    return parts


async def bilibili_messages(room: int, cookie: str | None) -> AsyncIterator[Any]:
    try:
        from bilibili_api import Credential, live  # type: ignore[import-not-found]
    except ImportError:
        raise SystemExit(
            "the bilibili bridge needs bilibili-api-python: pip install 'livecompanion[bilibili]'"
        ) from None
    parts = parse_cookie(cookie or "")
    credential = Credential(
        sessdata=parts.get("SESSDATA"), bili_jct=parts.get("bili_jct"), buvid3=parts.get("buvid3")
    )
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=100_000)
    danmaku = live.LiveDanmaku(room, credential=credential)

    async def forward(info: dict[str, Any]) -> None:
        command = info.get("data")
        if isinstance(command, dict) and "cmd" in command:
            await queue.put(command)

    danmaku.add_event_listener("ALL", forward)

    async for message in from_callbacks(queue, danmaku.connect(), danmaku.disconnect):
        yield message
