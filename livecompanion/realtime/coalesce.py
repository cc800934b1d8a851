"""Coalesced pushes to the screens: at most one change per key every `interval`, at once if urgent.

A crowd makes thousands of claims a second; the screens need the stock left a few times a second,
and a sell-out at once. `touch(key)` marks a key changed; the pusher reads the key's CURRENT value
(from the store, not from the change that touched it) and applies it to the live document.

Several instances push the same key. With a `gate` (push_gate.py, through Redis) they share one
push per key per interval: an instance refused keeps the key pending and asks again when the
other's lease ends, so a screen's messages do not grow with the number of instances. Each instance
re-reads its key once more `interval` after a push and pushes again if the value moved since, so
whichever instance pushes last has pushed a value read after every change it could have missed:
the screens converge on the latest value.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from livecompanion.realtime.push_gate import PushGate
from livecompanion.tasks import cancel_and_wait, wait_event

log = logging.getLogger(__name__)

Read = Callable[[Any], Awaitable[tuple[str, Any] | None]]  # key -> (stream_id, value) or None (gone)
Push = Callable[[str, Any, Any], Awaitable[None]]  # (stream_id, key, value)


class Coalescer:
    def __init__(self, read: Read, push: Push, interval: float = 0.2, name: str = "coalescer",
                 gate: PushGate | None = None) -> None:
        self.read = read
        self.push = push
        self.interval = interval
        self.name = name
        self.gate = gate
        self.pushes = 0  # pushes made by this instance (a benchmark's and a test's counter)
        self.refused = 0  # pushes left to another instance's lease
        self._changed: set[Hashable] = set()
        self._urgent_keys: set[Hashable] = set()
        self._retry_in: float | None = None  # a refused key may be asked again in this many seconds
        self._verify: set[Hashable] = set()
        self._pushed: dict[Hashable, Any] = {}
        self._urgent = asyncio.Event()
        self._wake = asyncio.Event()
        # One read-then-push at a time: a push_now after a stop cannot be overtaken by a flush that
        # read the value before the stop and pushes it after.
        self._pushing = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def touch(self, key: Hashable, urgent: bool = False) -> None:
        self._changed.add(key)
        if urgent:
            self._urgent_keys.add(key)
            self._urgent.set()
        self._wake.set()
        if self._task is None:
            self.start()

    async def push_now(self, key: Hashable) -> None:
        """Push `key` before returning (a stop, an End): the operator's answer and the state
        document agree at once. Takes the shared lease as an urgent push does; re-checked after
        `interval` like any push."""
        if self.gate is not None:
            await self.gate.admit(key_text(key), self.interval, True)
        await self._push_current(key, changed=True)
        self._wake.set()
        if self._task is None:
            self.start()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def close(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        if self._changed:  # the last change reaches the screens before the instance goes
            try:
                await asyncio.wait_for(self.flush(), 2.0)
            except Exception:  # noqa: BLE001
                pass

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last = 0.0
        while True:
            retry = self._retry_in
            timeout = retry if retry is not None else (self.interval if self._verify else None)
            await wait_event(self._wake, timeout)
            self._wake.clear()
            delay = last + self.interval - loop.time()
            if delay > 0 and not self._urgent.is_set():
                await wait_event(self._urgent, delay)  # the interval, unless a sell-out comes up
            started = loop.time()
            try:
                if await self.flush():
                    last = started
            except asyncio.CancelledError:
                raise
            except Exception:  # e.g. Redis down: keep the keys, try again later
                log.warning("%s: push failed; will retry", self.name, exc_info=True)
                await asyncio.sleep(self.interval)
                self._wake.set()

    async def flush(self) -> bool:
        """Push every changed key now (and re-check the ones pushed last time); True if any was
        pushed. A key another instance holds the lease of stays pending."""
        self._urgent.clear()
        self._retry_in = None
        changed, self._changed = self._changed, set()
        verify, self._verify = self._verify, set()
        urgent, self._urgent_keys = self._urgent_keys, set()
        keys = list(changed | verify)
        pushed = False
        for i, key in enumerate(keys):
            try:
                if self.gate is not None:
                    wait = await self.gate.admit(key_text(key), self.interval, key in urgent)
                    if wait > 0:  # another instance pushed it just now: ours goes when its lease ends
                        self.refused += 1
                        (self._changed if key in changed else self._verify).add(key)
                        self._retry_in = wait if self._retry_in is None else min(self._retry_in, wait)
                        continue
                pushed = await self._push_current(key, changed=key in changed) or pushed
            except Exception:
                self._changed.update(keys[i:])  # this key and the ones not reached yet
                self._urgent_keys.update(k for k in keys[i:] if k in urgent)
                raise
        return pushed

    async def _push_current(self, key: Hashable, changed: bool) -> bool:
        """Read `key` and push its value, under the lock so that an older read cannot be pushed
        after a newer one; the push is re-checked `interval` later. False when nothing was pushed:
        the key is gone, or (a re-check, not `changed`) its value is the one pushed last."""
        async with self._pushing:
            got = await self.read(key)
            if got is None:
                self._pushed.pop(key, None)
                return False
            stream_id, value = got
            if not changed and self._pushed.get(key) == value:
                self._pushed.pop(key, None)  # verified: nothing moved since our push
                return False
            await self.push(stream_id, key, value)
        self.pushes += 1
        self._pushed[key] = value
        self._verify.add(key)
        return True


def key_text(key: Hashable) -> str:
    """`stream:item` for a (stream, item) key, the key's text otherwise."""
    if isinstance(key, tuple):
        return ":".join(str(part) for part in key)
    return str(key)
