"""An instance made ready for a stream before the stream's traffic reaches it (issue 20).

Each domain keeps what a stream's requests need on this instance (ingest: the script's segment ids
and the live numbers' seed and selling context; sales: the stream's sales as screens show them;
lotteries: the open ones) and reads it from the record on first use. On a second instance those
first uses all fell in the show's first second: at ten rooms the requests of that second had p99s
of 405 ms (ingest acknowledgement), 114 ms (granted claim) and 108 ms (pin -> every screen) against
34-61, 22-45 and 8-36 ms in every later second (`scripts/bench_evening.py --window 1`).

So an instance warms a stream, once, in the background:
  - when the first screen of the stream connects to it (a host's, an operator's, a viewer's: where a
    stream's screens are, its traffic follows);
  - at start, for the streams that are live (an instance restarted during a show).
A warm step that fails costs nothing but the later first use doing the same read; a stream that
does not exist is found out by the first step and skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence

from livecompanion.errors import NotFound

log = logging.getLogger(__name__)

WarmStep = Callable[[str], Awaitable[object]]

KEEP_WARMED = 10_000  # streams remembered as warmed; past it the set starts again (a warm is idempotent)
START_STREAMS = 50  # at most this many live streams warmed at start, the most recently started first


class StreamWarmer:
    """Runs `steps(stream_id)` in order, once a stream, off the path of whoever asked, for the
    streams `not_ended` says are ready or live (an ended stream's screens show a show that is over:
    nothing is coming to get ready for)."""

    def __init__(self, not_ended: Callable[[str], Awaitable[bool]], steps: Sequence[WarmStep]) -> None:
        self.not_ended = not_ended
        self.steps = tuple(steps)
        self._warmed: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    def touch(self, stream_id: str) -> None:
        """Warm `stream_id` in the background unless it already was (or is being) warmed."""
        if not self._closed and self._claim(stream_id):
            self._spawn(self.warm(stream_id), f"warm-{stream_id}")

    def _claim(self, stream_id: str) -> bool:
        """Mark `stream_id` as warmed; False when it already was."""
        if stream_id in self._warmed:
            return False
        if len(self._warmed) >= KEEP_WARMED:
            self._warmed.clear()
        self._warmed.add(stream_id)
        return True

    def _spawn(self, work: Coroutine[object, object, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def warm(self, stream_id: str) -> None:
        try:
            if not await self.not_ended(stream_id):
                return
        except NotFound:
            self._warmed.discard(stream_id)  # asked for a stream that is not (yet) there
            return
        except Exception:
            log.warning("warming stream %s: reading it failed", stream_id, exc_info=True)
            return
        for step in self.steps:
            try:
                await step(stream_id)
            except Exception:  # the first request does the same read later, and says what failed
                log.warning("warming stream %s: %s failed", stream_id, _name(step), exc_info=True)

    def touch_all(self, stream_ids: Sequence[str]) -> asyncio.Task[None]:
        """Warm these streams one after the other in the background (the live ones, at start)."""
        async def run() -> None:
            for stream_id in stream_ids[:START_STREAMS]:
                if self._closed:
                    return
                if self._claim(stream_id):
                    await self.warm(stream_id)

        return self._spawn(run(), "warm-live-streams")

    async def close(self) -> None:
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def warmed(self, stream_id: str) -> bool:
        return stream_id in self._warmed


def _name(step: WarmStep) -> str:
    return getattr(step, "__qualname__", repr(step))
