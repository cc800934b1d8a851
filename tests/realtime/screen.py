"""A screen for tests and benchmarks: a viewer socket that keeps its copy of the document as a page does."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect

from livecompanion.realtime.state import apply_ops


class Screen:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.rev: int | None = None
        self.state: dict[str, Any] = {}
        self.snapshots = 0
        self.gaps = 0
        self.offset_ms: float | None = None  # server clock minus ours, best (least delayed) sample

    @classmethod
    async def open(cls, ws_url: str, stream_id: str, token: str, **kwargs: Any) -> Screen:
        ws = await connect(f"{ws_url}/ws/streams/{stream_id}?token={token}", max_queue=None, **kwargs)
        screen = cls(ws)
        first = await screen.receive()
        assert first["type"] == "snapshot", first
        return screen

    async def receive(self, timeout: float = 5.0) -> dict[str, Any]:
        message = orjson.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.handle(message)
        return message

    def handle(self, message: dict[str, Any]) -> None:
        sample = message["server_time"] - time.time() * 1000 if "server_time" in message else None
        if sample is not None and (self.offset_ms is None or sample > self.offset_ms):
            self.offset_ms = sample
        if message["type"] == "snapshot":
            self.rev, self.state = message["rev"], message["state"]
            self.snapshots += 1
        elif message["type"] == "patch":
            assert self.rev is not None
            if message["rev"] != self.rev + 1:
                self.gaps += 1
                return
            self.state = apply_ops(self.state, message["ops"])
            self.rev = message["rev"]

    async def until(self, predicate, timeout: float = 5.0) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while True:
            message = await self.receive(max(0.01, deadline - time.monotonic()))
            if predicate(message):
                return message

    async def resync(self) -> dict[str, Any]:
        await self.ws.send('{"type": "resync"}')
        return await self.until(lambda m: m["type"] == "snapshot")

    async def close(self) -> None:
        await self.ws.close()
