"""Which comments enter which lottery: the comment listener's half of the lottery service.

A comment enters its author (once) when it holds the keyword (ingest.comments.KeywordMatcher:
folded, repeats collapsed, a negated 不想要 does not count), its `ts` falls between the lottery's
start and end, the lottery is not drawn yet, and the author is not excluded (the ids given at
creation, and comments under the script's host name).

Ingest calls this after every commit holding comments, so each instance keeps a stream's open
lotteries (their matchers and the users it has already entered) for OPEN_CACHE_SECONDS rather than
asking the record on every batch; the service forgets a stream's list when it creates or draws one
of its lotteries, and `drop_idle` lets go of streams without comments for OPEN_KEEP_SECONDS.

A list older than that is read again in the background while the commit goes on with the one it
has (a caller waits only when there is none: a stream's first comments, or right after a create or
draw here). Ingest answers a batch once this step is done, so waiting for the record there put a
session's round trips (checkout, ping, query, rollback) into the acknowledgement of one batch a
second a room: with ten rooms, most of an instance's flushes on a team's evening.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from livecompanion.errors import Invalid
from livecompanion.lottery.repository import LotteryRepository
from livecompanion.lottery.rules import Entry
from livecompanion.storage.db import Database
from livecompanion.tasks import cancel_and_wait

log = logging.getLogger(__name__)

OPEN_CACHE_SECONDS = 1.0  # how stale this instance's list of open lotteries may be
OPEN_KEEP_SECONDS = 60.0  # a stream's cached lotteries (and their entrants) kept after the last comment


def matcher(keyword: str) -> Any:
    """The lottery keyword test of ingest/comments (`Invalid` for a keyword with nothing to match)."""
    from livecompanion.ingest.comments import KeywordMatcher

    try:
        return KeywordMatcher(keyword)
    except ValueError as exc:
        raise Invalid(str(exc), ("body", "keyword")) from None


@dataclass
class OpenLottery:
    id: str
    started_ms: int
    ends_ms: int
    matcher: Any
    excluded_ids: frozenset[str]
    excluded_names: frozenset[str]
    entered: set[str]  # users this instance already entered (saves the record repeated inserts)


async def enter(db: Database, lottery_id: str, entries: list[Entry]) -> None:
    """Enter these users (once each). No-op once drawn (repository.py says why none slips in)."""
    if not entries:
        return
    async with db.session() as session:
        await LotteryRepository(session).enter(lottery_id, entries)
        await session.commit()


class CommentEntries:
    """Enters the authors of matching comments into a stream's open lotteries; `on_entered(stream,
    lottery)` is told after each lottery that gained entrants (the service updates its screens)."""

    def __init__(self, db: Database, on_entered: Callable[[str, str], None]) -> None:
        self.db = db
        self.on_entered = on_entered
        self._open: dict[str, tuple[float, list[OpenLottery]]] = {}  # stream -> (fetched at, open lotteries)
        self._reading: dict[str, asyncio.Task[None]] = {}  # stream -> its list being read again
        self._changes: dict[str, int] = {}  # stream -> forget() count: a read begun before one is dropped

    def forget(self, stream_id: str) -> None:
        """The stream's lotteries changed (one created or drawn): read them again on the next comment."""
        self._open.pop(stream_id, None)
        self._changes[stream_id] = self._changes.get(stream_id, 0) + 1

    def drop_idle(self) -> None:
        stale = time.monotonic() - OPEN_KEEP_SECONDS
        for stream_id in [s for s, (fetched, _) in self._open.items() if fetched < stale]:
            del self._open[stream_id]  # a stream without comments lately: its entrants go
        for stream_id in [s for s in self._changes if s not in self._open and s not in self._reading]:
            del self._changes[stream_id]

    async def close(self) -> None:
        """Stop the reads under way (shutdown)."""
        for task in list(self._reading.values()):
            await cancel_and_wait(task)
        self._reading.clear()

    async def warm(self, stream_id: str) -> None:
        """Read the stream's open lotteries now, so its first comments do not wait for the record."""
        if stream_id not in self._open:
            await self._read(stream_id)

    async def on_comments(self, stream_id: str, comments: Iterable[Any]) -> None:
        lotteries = await self._open_lotteries(stream_id)
        if not lotteries:
            return
        comments = list(comments)
        for lottery in lotteries:
            batch: dict[str, Entry] = {}
            for c in comments:
                user = c.user_id
                if (user in lottery.entered or user in batch or user in lottery.excluded_ids
                        or not lottery.started_ms <= c.ts <= lottery.ends_ms
                        or (c.nickname and c.nickname in lottery.excluded_names)
                        or not lottery.matcher.matches(c.text)):
                    continue
                batch[user] = Entry(user, c.nickname or None, c.ts)
            if batch:
                await enter(self.db, lottery.id, list(batch.values()))
                lottery.entered.update(batch)
                self.on_entered(stream_id, lottery.id)

    async def _open_lotteries(self, stream_id: str) -> list[OpenLottery]:
        cached = self._open.get(stream_id)
        if cached is None:
            return await self._read(stream_id)
        if time.monotonic() - cached[0] >= OPEN_CACHE_SECONDS and stream_id not in self._reading:
            self._reading[stream_id] = asyncio.create_task(self._read_again(stream_id),
                                                           name=f"lottery-open-{stream_id}")
        return cached[1]

    async def _read_again(self, stream_id: str) -> None:
        try:
            await self._read(stream_id)
        except Exception:  # the record away: the list in hand stays, asked again later
            log.warning("lotteries of stream %s: reading the open ones failed", stream_id, exc_info=True)
        finally:
            self._reading.pop(stream_id, None)

    async def _read(self, stream_id: str) -> list[OpenLottery]:
        changes = self._changes.get(stream_id, 0)
        async with self.db.session() as session:
            rows = await LotteryRepository(session).listed(stream_id, undrawn=True)
        cached = self._open.get(stream_id)
        old = {lot.id: lot for lot in (cached[1] if cached else [])}
        fresh = []
        for row in rows:
            excluded = row.excluded or {}
            fresh.append(OpenLottery(
                row.id, row.started_ms, row.ends_ms, matcher(row.keyword),
                frozenset(excluded.get("user_ids") or ()), frozenset(excluded.get("nicknames") or ()),
                old[row.id].entered if row.id in old else set(),
            ))
        if self._changes.get(stream_id, 0) == changes:  # else created or drawn meanwhile: read again next time
            self._open[stream_id] = (time.monotonic(), fresh)
        return fresh
