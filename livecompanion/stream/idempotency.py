"""The `Idempotency-Key` rule (contract section 5): a repeat of a key already used on a stream
returns the first answer and changes nothing, whether it comes after the first answer or at the
same moment, on this instance or another.

    answer = await Idempotency(IdempotencyRepository(db)).run(scope, key, "POST", path, action)

The key is claimed in the shared record (a row under a primary key) BEFORE the action runs, and the
answer is stored after it; a request that finds the key claimed but not answered polls the record
until the answer is there (a double click waits for the first click's answer, which takes tens of
milliseconds). Refusals (4xx) are answers like any other; a failure of ours (5xx, an exception, a
cancelled request) gives the key back so that the repeat runs the action afresh. A key left claimed
by an instance that died is taken over after `stale_after_ms`.

Keys are kept KEEP_KEYS_MS (7 days): a client retries within seconds or minutes (a reload, a lost
answer), never a week later, and without pruning `idempotency_keys` grows by every operator click
for ever. At most once an hour per process, a request that claims a key also prunes, off its path.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Protocol

from livecompanion.errors import Conflict, Invalid
from livecompanion.stream.idempotency_repository import StoredKey

log = logging.getLogger(__name__)

MAX_KEY = 200
KEEP_KEYS_MS = 7 * 24 * 3600 * 1000
PRUNE_EVERY_S = 3600.0
SERVICE_SCOPE = "service"  # the scope of keys sent to POST /api/streams (no stream yet)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    content_type: str
    body: str
    replayed: bool = False


class KeyRecord(Protocol):
    async def claim(self, scope: str, key: str, method: str, path: str, now_ms: int) -> bool: ...
    async def find(self, scope: str, key: str) -> StoredKey | None: ...
    async def answer(self, scope: str, key: str, claimed_ms: int, status: int, content_type: str,
                     body: str, now_ms: int) -> None: ...
    async def release(self, scope: str, key: str, claimed_ms: int) -> None: ...
    async def take_over(self, scope: str, key: str, stale_claimed_ms: int, now_ms: int) -> bool: ...
    async def prune(self, before_ms: int) -> int: ...


_pruned_at: float | None = None  # monotonic time of this process's last prune
_pruning: set[asyncio.Task[int]] = set()


def _prune_now_and_then(record: KeyRecord, now_ms: int) -> None:
    global _pruned_at
    if _pruned_at is not None and time.monotonic() - _pruned_at < PRUNE_EVERY_S:
        return
    _pruned_at = time.monotonic()
    task = asyncio.create_task(record.prune(now_ms - KEEP_KEYS_MS), name="prune idempotency keys")
    _pruning.add(task)
    task.add_done_callback(_pruned)


def _pruned(task: asyncio.Task[int]) -> None:
    _pruning.discard(task)
    if not task.cancelled() and task.exception() is not None:  # the next hour tries again
        log.warning("pruning old idempotency keys failed: %s", task.exception())


def _now_ms() -> int:
    return int(time.time() * 1000)


def check_key(key: str) -> str:
    key = key.strip()
    if not 1 <= len(key) <= MAX_KEY or not key.isprintable():
        raise Invalid(f"Idempotency-Key 必須是 1 到 {MAX_KEY} 個可見字元 / must be 1 to {MAX_KEY} "
                      "printable characters", loc=("header", "Idempotency-Key"))
    return key


class Idempotency:
    def __init__(self, record: KeyRecord, wait_seconds: float = 30.0, poll_seconds: float = 0.05,
                 stale_after_ms: int = 120_000) -> None:
        self.record = record
        self.wait_seconds = wait_seconds
        self.poll_seconds = poll_seconds
        self.stale_after_ms = stale_after_ms

    async def run(self, scope: str, key: str, method: str, path: str,
                  action: Callable[[], Awaitable[Answer]]) -> Answer:
        key = check_key(key)
        deadline = time.monotonic() + self.wait_seconds
        while True:
            now = _now_ms()
            if await self.record.claim(scope, key, method, path, now):
                _prune_now_and_then(self.record, now)
                return await self._act(scope, key, now, action)
            stored = await self.record.find(scope, key)
            if stored is None:
                continue  # the first request gave the key back just now: claim it again
            if stored.status is not None:
                return Answer(stored.status, stored.content_type or "application/json", stored.body or "",
                              replayed=True)
            if now - stored.claimed_ms > self.stale_after_ms:
                if await self.record.take_over(scope, key, stored.claimed_ms, now):
                    return await self._act(scope, key, now, action)
                continue
            if time.monotonic() > deadline:
                raise Conflict("idempotency_key_in_use",
                               "同一個 Idempotency-Key 的請求還在處理中，請稍後再試 / a request with this "
                               "Idempotency-Key is still under way: retry shortly")
            await asyncio.sleep(self.poll_seconds)

    async def _act(self, scope: str, key: str, claimed_ms: int,
                   action: Callable[[], Awaitable[Answer]]) -> Answer:
        try:
            answer = await action()
        except BaseException:
            await asyncio.shield(self.record.release(scope, key, claimed_ms))
            raise
        if answer.status >= 500:
            await asyncio.shield(self.record.release(scope, key, claimed_ms))
            return answer
        await asyncio.shield(self.record.answer(scope, key, claimed_ms, answer.status, answer.content_type,
                                                answer.body, _now_ms()))
        return replace(answer, replayed=False)
