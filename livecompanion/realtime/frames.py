"""One frame per tick: a stream's coalesced sections go to the screens in one change, not one each.

    frames = Frames(apply, tick=0.25)        # apply(stream_id, ops) -> rev: the hub's, loading first
    done = frames.put(stream_id, ops)        # joins the stream's next frame; returns its future (rev)
    await frames.flush(stream_id)            # that frame now (a sell-out, an operator's stop)
    await frames.close()                     # every open frame applied, then no more

The contract gives every message on a viewer socket the next `rev`, so several changes can only
reach a screen as one message if they are one change. Live numbers (up to 4 a second a stream) and
flash-sale stock (up to 5 a second a sale) were each their own change: a screen of a selling room
got 3.6 sale patches and 2.9 live-number patches a second, 6.9 messages in all, and the server paid
one send per screen for each (`scripts/bench_evening.py`, 3 rooms, 2026-12-06 12:55 UTC). With
frames, in the same run: 5.3 messages a second, 1.4 of them carrying both.

Their producers `put` their ops here. The stream's frame is applied `tick` after its first put,
or sooner when a producer flushes it, as ONE change holding every section that moved. Live numbers
put non-urgent changes (chat numbers) and flush on a new paid order; flash-sale stock flushes at
once (held here, stock of two instances stopped sharing one pace: tests/sales/test_screen_messages.py).
So as committed, a chat-only change waits for the next stock push or the tick; in the evening
benchmark the live numbers are nearly always urgent and no patch carried both (BENCHMARKS.md, run
3): the 6.9 -> 5.3 above was with stock held in the frame. Producers do not wait for the tick:
they get the frame's future and learn of a failure through it.

A stream's frames are applied one at a time, in order, so a later value never lands before an
earlier one. What waits here is at most one tick (0.25 s) of values that were already paced to a
few a second. Frames are per instance: a change another instance makes is its own message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Apply = Callable[[str, list[dict[str, Any]]], Awaitable[int]]


class _Frame:
    __slots__ = ("future", "ops", "timer")

    def __init__(self, future: asyncio.Future[int]) -> None:
        self.ops: list[dict[str, Any]] = []
        self.future = future
        self.timer: asyncio.TimerHandle | None = None


class Frames:
    def __init__(self, apply: Apply, tick: float = 0.25) -> None:
        self.apply = apply
        self.tick = tick
        self.frames = 0  # changes applied (a benchmark's and a test's counter)
        self.puts = 0  # ops lists put in
        self._open: dict[str, _Frame] = {}
        self._locks: dict[str, asyncio.Lock] = {}  # a stream's frames applied one at a time, in order
        self._users: dict[str, int] = {}  # frames of the stream holding or waiting for its lock
        self._running: set[asyncio.Task[None]] = set()
        self._closed = False

    def put(self, stream_id: str, ops: list[dict[str, Any]]) -> asyncio.Future[int]:
        """Add `ops` to the stream's next frame (after the ops already in it); the frame's future."""
        loop = asyncio.get_running_loop()
        frame = self._open.get(stream_id)
        if frame is None:
            frame = self._open[stream_id] = _Frame(loop.create_future())
            if self._closed:
                self._start(stream_id)
            else:
                frame.timer = loop.call_later(self.tick, self._start, stream_id)
        frame.ops += ops
        self.puts += 1
        return frame.future

    async def flush(self, stream_id: str) -> None:
        """Apply the stream's open frame now (if any) and wait for it; raises what the apply raised."""
        frame = self._open.get(stream_id)
        if frame is not None:
            self._start(stream_id)
            await asyncio.shield(frame.future)

    async def close(self) -> None:
        """Apply every open frame now and wait for them; later puts are applied at once."""
        self._closed = True
        for stream_id in list(self._open):
            self._start(stream_id)
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    def _start(self, stream_id: str) -> None:
        frame = self._open.pop(stream_id, None)
        if frame is None:
            return
        if frame.timer is not None:
            frame.timer.cancel()
        task = asyncio.get_running_loop().create_task(self._apply(stream_id, frame), name="frame")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _apply(self, stream_id: str, frame: _Frame) -> None:
        lock = self._locks.get(stream_id)
        if lock is None:
            lock = self._locks[stream_id] = asyncio.Lock()
        self._users[stream_id] = self._users.get(stream_id, 0) + 1
        try:
            async with lock:
                rev = await self.apply(stream_id, frame.ops)
            self.frames += 1
            if not frame.future.done():
                frame.future.set_result(rev)
        except BaseException as exc:
            if not frame.future.done():
                frame.future.set_exception(exc)
                frame.future.exception()  # a producer may not look: never "exception never retrieved"
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            self._users[stream_id] -= 1
            if not self._users[stream_id]:  # no frame of the stream holds or waits: its state goes
                del self._users[stream_id], self._locks[stream_id]
