"""Douyin: no installable client exists, so the bridge reads what any open-source fetcher decodes.

- `--stdin`: one decoded Webcast message a line (JSON), e.g. `python fetcher.py | livecompanion
  bridge douyin --stdin --stream s1`.
- `--listen HOST:PORT`: a local WebSocket endpoint the fetcher pushes to (its "forward to
  WebSocket" setting, as Dycast and BarrageGrab have): each WebSocket message is one message or a
  JSON array of them. Nothing is exposed beyond HOST (default 127.0.0.1).

Either way a line/message that is not JSON is told on stderr and skipped.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator
from typing import IO, Any

import orjson
from websockets.asyncio.server import ServerConnection, serve


async def stdin_messages(err: IO[str], stream: Any = None) -> AsyncIterator[Any]:
    """Lines from standard input, read on a daemon thread (so Ctrl-C never waits for a line)."""
    source = stream if stream is not None else sys.stdin.buffer
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[bytes] = asyncio.Queue(maxsize=10_000)

    def pump() -> None:
        for line in iter(source.readline, b""):
            asyncio.run_coroutine_threadsafe(lines.put(line), loop).result()
        asyncio.run_coroutine_threadsafe(lines.put(b""), loop).result()

    threading.Thread(target=pump, name="stdin", daemon=True).start()
    number = 0
    while True:
        line = await lines.get()
        if not line:
            return
        number += 1
        if not line.strip():
            continue
        try:
            yield orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            print(f"stdin line {number}: not JSON: {exc}", file=err, flush=True)


async def listen_messages(host: str, port: int, err: IO[str]) -> AsyncIterator[Any]:
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=100_000)

    async def handler(ws: ServerConnection) -> None:
        async for data in ws:
            try:
                value = orjson.loads(data)
            except orjson.JSONDecodeError as exc:
                print(f"douyin listener: a message that is not JSON: {exc}", file=err, flush=True)
                continue
            for item in value if isinstance(value, list) else [value]:
                await queue.put(item)

    async with serve(handler, host, port, max_size=2**24):
        print(f"douyin: listening on ws://{host}:{port} for decoded messages", file=err, flush=True)
        while True:
            yield await queue.get()
