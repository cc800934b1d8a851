"""Live numbers on the screens: what committed events change, pushed through the hub, coalesced.

Sections of the live document written here (contract section 5, `WS /ws/streams/{id}`):

    metrics    {"viewers", "comments_per_min", "orders", "gmv", "intent": {phrase: count}}
    questions  [{"text", "count", "key", "last"}]       the most asked, spam never among them; `key`
                                                        the group's question key (answered marks use
                                                        it), `last` when it was last asked (ms)
    ticker     [{"nickname", "sku", "qty", "ts"}]       the latest paid orders, newest first,
                                                        nicknames masked (小林 -> 小*, 张小林 -> 张*林)

`viewers` is the platform's latest `viewer_count` (by `ts`); before any arrives, the users who
entered and have not left. `comments_per_min` counts comments that arrived in the last 60 s (all
of them: it measures the room's activity). `orders` and `gmv` count orders when they first reach
paid, as the report does. `intent` counts comments per buying-intent phrase since the stream began.

How: after each commit, `record` turns the new events into a `LiveDelta` (comments go through the
stream's `CommentTriage`: classification, spam and flood filtering, question grouping) and adds it
to the shared tallies (counters.py), then marks the stream dirty. The publisher task reads the
tallies of a dirty stream, and the publish gate (pacing.py) says whether its changed sections may
go now or in how long: at most 4 patches a second per stream sustained (bursts of 2), shared by
all instances with Redis, however fast events arrive; a new paid order goes at once, chat-driven
numbers twice a second. Only the sections that changed are sent.

Whether the room sells (buying intent needs it, issue 18) comes from the committed events (an order,
an ingested `product_explain`) and from the stream's live document, which every instance shares (a
flash sale running, the console's 講解: selling.py follows it with a hub watch).

Shortcuts, each instance on its own: flood detection (`SpamWindow`: the same text from many users
within seconds) sees only the comments this instance took; question groups are per instance and
merged by question key (counters.py); the selling context that orders and ingested `product_explain`
events give is this instance's (the document's sales and 講解 are everyone's). Enter/leave of one
user committed out of order (two instances, or the two flushes PostgreSQL writes at once) may leave
them counted in the room; this only matters before the platform sends any `viewer_count`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import TYPE_CHECKING, Any

from livecompanion.errors import NotFound
from livecompanion.ingest.comments import CommentTriage, question_key
from livecompanion.ingest.comments.triage import EXPLAIN, ORDERS
from livecompanion.ingest.counters import LiveCounters, LiveDelta
from livecompanion.ingest.live_sections import build_sections, cents, section_digest, ticker_entry
from livecompanion.ingest.pacing import MemoryGate, PublishGate
from livecompanion.ingest.rows import StreamCommit
from livecompanion.ingest.seed import seed_from_record
from livecompanion.ingest.selling import SellingContexts
from livecompanion.storage.streams import get_script
from livecompanion.tasks import cancel_and_wait, wait_event

if TYPE_CHECKING:
    from livecompanion.core import Core
    from livecompanion.stream.moves import ShowMove

log = logging.getLogger(__name__)

SECTIONS = ("metrics", "questions", "ticker")
DECAY_TICK = 1.0  # comments per minute falls as time passes: streams with recent comments re-check
RETRY_AFTER_FAILURE = 0.5
IDLE_RELEASE_S = 900.0  # a stream without events this long: this process forgets it (see release_idle)
END_GRACE_S = 120.0  # an ended stream is forgotten this long after its End (late orders still count)
RELEASE_EVERY = 60.0  # a release pass at least this often, and at least twice per end grace (>= 1 s)


class LiveNumbers:
    """One per process, held by `IngestService`; publishing goes through stream.service."""

    def __init__(
        self,
        core: Core,
        counters: LiveCounters,
        *,
        gate: PublishGate | None = None,
        top_questions: int = 10,
        ticker_size: int = 10,
        end_grace_s: float = END_GRACE_S,
    ) -> None:
        self.core = core
        self.counters = counters
        self.gate = gate or MemoryGate()
        self.top_questions = top_questions
        self.ticker_size = ticker_size
        self.published = 0  # patches this process published (tests, benchmarks)
        self._triage: dict[str, CommentTriage] = {}
        self._question_keys: dict[str, dict[int, str]] = {}  # stream -> question group id -> key
        self._seeded: set[str] = set()
        self._seed_locks: dict[str, asyncio.Lock] = {}
        self._dirty: set[str] = set()
        self._not_before: dict[str, float] = {}
        # When a view with a new paid order could go at the earliest (the gate's `urgent_wait`): a
        # paid order brings `_not_before` forward to it, no further. Asking sooner read the tallies
        # and was refused, at nearly every commit of an evening (paid orders in most batches): 28
        # tally reads for 9 patches in 3 s of one room (pacing.GateAnswer).
        self._urgent_after: dict[str, float] = {}
        self._commenting: dict[str, float] = {}  # stream -> when its last comment arrived
        self._last_seen: dict[str, float] = {}  # stream -> when its last write was prepared or recorded
        self.idle_release_s = IDLE_RELEASE_S
        self.end_grace_s = end_grace_s
        self.release_every = min(RELEASE_EVERY, max(1.0, end_grace_s / 2))
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # A flash sale running, a product explained on a console: from the live document (selling.py).
        self.selling = SellingContexts(core.hub, self._wake.set)

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="ingest-live-numbers")

    async def close(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        self.selling.close()
        await self.counters.close()

    def triage(self, stream_id: str) -> CommentTriage:
        found = self._triage.get(stream_id)
        if found is None:
            found = self._triage[stream_id] = CommentTriage()
        return found

    # --- before and after a commit ---------------------------------------------------------------

    async def prepare(self, stream_ids: set[str]) -> None:
        """Seed streams this process has not seen yet from the record. Must run BEFORE the write
        that carries their events, so that the seed and the live increments never overlap."""
        seen = time.monotonic()
        for stream_id in stream_ids:
            self._last_seen[stream_id] = seen
        for stream_id in stream_ids - self._seeded:
            lock = self._seed_locks.setdefault(stream_id, asyncio.Lock())
            async with lock:
                if stream_id in self._seeded:
                    continue
                await self._load_products(stream_id)  # before seeding: the seed reads comments too
                if await self.counters.claim_seed(stream_id):
                    delta = await seed_from_record(
                        self.core.db,
                        stream_id,
                        self.triage(stream_id),
                        ticker_size=self.ticker_size,
                        ticker_entry=ticker_entry,
                    )
                    delta.questions = self._question_list(stream_id) or None
                    await self.counters.add(stream_id, delta)
                    if not delta.empty():  # a record with nothing in it changes no section: no
                        self._mark(stream_id)  # publish of empty sections over what is there
                await self.selling.follow(stream_id, self.triage(stream_id))  # never raises
                self._seeded.add(stream_id)

    async def _load_products(self, stream_id: str) -> None:
        """The script's products (names, skus, their link numbers 1..n in script order) as the
        triage's selling context: room slang naming one of them is buying intent (issue 18)."""
        try:
            script = await get_script(self.core.db, stream_id)
        except NotFound:
            return  # events for an unknown stream are refused before they get here
        words = [w for p in script.products for w in (p.name, p.sku)]
        if words:
            self.triage(stream_id).products(words, links=len(script.products))

    async def record(self, commit: StreamCommit) -> None:
        """Add what a committed write changed to the tallies and schedule a publish."""
        stream_id = commit.stream_id
        self._last_seen[stream_id] = time.monotonic()
        arrival = time.time()
        delta = LiveDelta(arrival_s=int(arrival))
        triage = self.triage(stream_id)
        self.selling.expire(stream_id, int(arrival * 1000))  # a sale whose time is up sells no more
        questions = False
        for record in commit.events:  # the validated columns and dict: no typed event needed here
            kind = record.type
            if kind == "enter" or kind == "leave":
                delta.room[record.user_id] = kind == "enter"  # type: ignore[index]
            elif kind == "comment":
                delta.comments += 1
                result = triage.handle(record.data["text"], record.user_id, record.ts_ms)
                for phrase in result.analysis.intents:
                    delta.intents[phrase] = delta.intents.get(phrase, 0) + 1
                questions = questions or result.question_group is not None
            elif kind == "product_explain":
                # Selling context for comments: room slang (扣1, 冲, 想要) counts as buying intent
                # while a product is explained, once orders come in, while a flash sale runs (the
                # document tells that: selling.py).
                triage.selling(record.data.get("action") == "start", EXPLAIN)
            elif kind == "order":
                triage.selling(True, ORDERS)
            elif kind == "viewer_count" and (
                delta.viewer_count is None or record.ts_ms >= delta.viewer_count[0]
            ):
                delta.viewer_count = (record.ts_ms, record.data["count"])
        paid = sorted(
            (c for c in commit.order_changes if c.became_paid), key=lambda c: c.after.paid_ts_ms or 0
        )
        for change in paid:  # oldest first, so the ticker's newest entry is the latest sale
            sale = change.after
            delta.orders += 1
            delta.gmv_cents += cents(sale.amount)
            delta.ticker.append(
                ticker_entry(
                    change.nickname, sale.user_id, sale.sku, sale.qty, sale.paid_ts_ms or sale.status_ts_ms
                )
            )
        if questions:
            delta.questions = self._question_list(stream_id)
        if delta.comments:
            self._commenting[stream_id] = time.monotonic()
        if not delta.empty():
            await self.counters.add(stream_id, delta)
            if delta.ticker:  # a new paid order: ask the gate as soon as it could let one through,
                # not when the chat numbers are due
                self._not_before[stream_id] = min(self._not_before.get(stream_id, 0.0),
                                                  self._urgent_after.get(stream_id, 0.0))
            self._mark(stream_id)

    def _question_list(self, stream_id: str) -> list[dict[str, Any]]:
        """This process's top questions, with the key other instances' lists are merged on."""
        known = self._question_keys.get(stream_id, {})
        top = self.triage(stream_id).questions.top(self.top_questions * 2)
        keys = {g.id: known.get(g.id) or question_key(g.text) for g in top}
        self._question_keys[stream_id] = keys  # only the current top is remembered
        return [{"text": g.text, "count": g.count, "key": keys[g.id], "last": g.last_seen_ms} for g in top]

    # --- reading and publishing ------------------------------------------------------------------

    async def sections(self, stream_id: str) -> dict[str, Any]:
        """The three sections as the tallies stand (for a document rebuilt from the record)."""
        await self.prepare({stream_id})
        tally = await self.counters.read(stream_id, int(time.time()))
        return build_sections(tally, self.top_questions)

    async def release_idle(self, now: float | None = None) -> list[str]:
        """Forget every stream without a write for `idle_release_s`: its comment triage, question
        keys, seed mark, pacing and (one instance) tallies and live document, which the next event
        or screen rebuilds from the record. Shared state in Redis is left to its TTLs."""
        now = time.monotonic() if now is None else now
        idle = [s for s, seen in self._last_seen.items()
                if now - seen >= self.idle_release_s and s not in self._dirty]
        hub = self.core.hub
        for stream_id in idle:
            lock = self._seed_locks.get(stream_id)
            if lock is not None and lock.locked():
                continue  # being seeded right now: not idle after all
            for table in (self._last_seen, self._triage, self._question_keys, self._seed_locks,
                          self._not_before, self._commenting, self._urgent_after):
                table.pop(stream_id, None)
            self.selling.forget(stream_id)
            self._seeded.discard(stream_id)
            self.counters.release(stream_id)
            self.gate.release(stream_id)
            if hub.redis is None and hub.subscriber_count(stream_id) == 0:
                await hub.drop(stream_id)  # one instance: the document goes too; nobody watches it
        return idle

    async def on_show_moved(self, stream_id: str, _script: object, move: ShowMove) -> None:
        """A show listener: once a stream has ended, it is released `end_grace_s` after its End (the
        next release pass after that; Settings.end_release_seconds, 120 s), not after the whole idle
        time; an event after End (a late payment) starts the idle time again."""
        if move.status != "ended" or stream_id not in self._last_seen:
            return
        release_at = time.monotonic() - self.idle_release_s + self.end_grace_s
        self._last_seen[stream_id] = min(self._last_seen[stream_id], release_at)

    def held_streams(self) -> int:
        """Streams this process holds anything of (tests and benchmarks of memory)."""
        tables = (self._last_seen, self._triage, self._question_keys, self._seed_locks, self._not_before,
                  self._commenting, self._urgent_after)
        return len(set().union(*tables, self._seeded, self.selling.streams()))

    def _mark(self, stream_id: str) -> None:
        self._dirty.add(stream_id)
        self._wake.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_decay = loop.time() + DECAY_TICK
        next_release = loop.time() + self.release_every
        while True:
            now = loop.time()
            if now >= next_release:
                next_release = now + self.release_every
                try:
                    await self.release_idle()
                except Exception:
                    log.exception("live numbers: releasing idle streams failed")
            if self.selling.due:  # documents to read again (a resync, a missed change)
                await self.selling.refresh()
            if now >= next_decay:
                next_decay = now + DECAY_TICK
                for stream_id, last in list(self._commenting.items()):
                    self._dirty.add(stream_id)
                    if time.monotonic() - last > 62:  # the window is empty now: one last publish
                        del self._commenting[stream_id]
            due = [s for s in self._dirty if self._not_before.get(s, 0.0) <= now]
            for stream_id in due:
                self._dirty.discard(stream_id)
                try:
                    await self._publish(stream_id)
                except Exception:  # the next change retries
                    log.exception("publishing live numbers of stream %s failed", stream_id)
                    self._not_before[stream_id] = loop.time() + RETRY_AFTER_FAILURE
                    self._urgent_after.pop(stream_id, None)
            waits = [self._not_before.get(s, 0.0) - loop.time() for s in self._dirty]
            timeout = max(0.0, min([next_decay - loop.time(), *waits]))
            self._wake.clear()
            if timeout > 0:
                await wait_event(self._wake, timeout)

    async def _publish(self, stream_id: str) -> None:
        tally = await self.counters.read(stream_id, int(time.time()))
        sections = build_sections(tally, self.top_questions)
        digests = {name: section_digest(value) for name, value in sections.items()}
        changed, wait, urgent_wait = await self.gate.claim(stream_id, tally.version, digests)
        now = asyncio.get_running_loop().time()
        if not changed:
            if wait > 0:  # over the stream's budget (here or on another instance): come back then
                self._not_before[stream_id] = now + wait
                self._urgent_after[stream_id] = now + urgent_wait
                self._dirty.add(stream_id)
            return
        from livecompanion.realtime import set_op
        from livecompanion.stream import service as stream_service

        try:
            await stream_service.apply(
                self.core, stream_id, [set_op([name], sections[name]) for name in changed]
            )
        except BaseException:
            await self.gate.forget(stream_id)
            raise
        self.published += 1
        # No next view could go before these (the gate's bucket after this patch, the steady interval).
        self._not_before[stream_id] = now + wait
        self._urgent_after[stream_id] = now + urgent_wait


def instance_id() -> str:
    return f"{os.uname().nodename}:{os.getpid()}:{id(object()):x}"
