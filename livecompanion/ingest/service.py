"""Ingest as the routers see it: validate, write through the group-commit writer, then tell the show.

    ingest = IngestService(core, store=make_store(db), order_listeners=[...], ...)   # wiring.py
    await ingest.start()
    await ingest.ensure_stream(stream_id)                        # NotFound: unknown stream (404)
    result = await ingest.ingest_body(stream_id, body, content_type)   # HTTP batch
    result = await ingest.ingest_values(stream_id, values, errors)     # WS message, decoded
    result = await ingest.ingest_events(stream_id, dicts)               # a bridge's mapped events

Each returns `IngestResult` (accepted, duplicates, rejected with index and reason) once the new
events are COMMITTED. Raises `TooLarge` (413), `Overloaded` (503 + Retry-After), `WriterClosed`.

What happens after a commit, in this order for each stream the write touched (the streams side by
side: a flush of ten rooms waited for their lookups one room after the other, 0.4 s a flush on
average and 1.4 s at worst in `scripts/bench_evening.py`, and every caller of the flush with it):
 1. The order listeners (wiring.py registers `SalesService.on_orders`): the new `order` events
    (arrival order). A cancelled order releases its claimed units; paid after release is flagged.
    After the answer, from a queue of their own (see below).
 2. The comment listeners (wiring.py registers `LotteryService.on_comments`): the new `comment`
    events, typed lazily; comments holding a running lottery's keyword enter their authors.
 3. Live numbers (`live.py`): metrics, questions, ticker; published coalesced.
 4. The commit listeners (wiring.py registers `AlertService.on_commit`): every commit, after its
    live numbers, on the same queue (off the answer's path).
Step 2 changes the record (entrants) and is done before the caller is answered. Step 1 runs
after the answer, in commit order, from a queue of its own (bounded: a writer that outruns it
waits); each batch taken off the queue runs its streams side by side. An answer means "stored"
(issue 20 allows no more): the order step's lookups (a Redis HMGET and, for orders Redis does not
know, a PostgreSQL query, per stream and flush) were the largest part of the acknowledgement with
ten rooms, 154-217 s summed over streams in a 30-40 s evening per instance. A claim's unit comes
back a few milliseconds after the cancel's answer. Step 3 only feeds the screens, which get the
numbers coalesced a few times a second anyway: it runs after the answer, in commit order, from a
queue of its own (bounded: a writer that outruns it waits), so comment triage and the tallies'
round trip are not in the acknowledgement's time. Each step sees only events that were new
(duplicates changed nothing). A step that fails is logged and does not stop the others or the
answer: the events are stored either way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from livecompanion.clock import now_ms
from livecompanion.errors import Invalid, NotFound, TooLarge
from livecompanion.events import EventError
from livecompanion.events.batch import decode_body
from livecompanion.events.models import Order
from livecompanion.ingest.counters import LiveCounters, MemoryCounters, RedisCounters
from livecompanion.ingest.live import LiveNumbers, instance_id
from livecompanion.ingest.pacing import MemoryGate, PublishGate, RedisGate
from livecompanion.ingest.rows import StreamCommit, records_of_values
from livecompanion.ingest.segments import unknown_segments
from livecompanion.ingest.store import EventStore
from livecompanion.ingest.writer import GroupCommitWriter, Overloaded, WriterClosed
from livecompanion.scripts.models import Script
from livecompanion.stream.repository import StreamRepository

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 5 * 1024 * 1024  # one HTTP request
MAX_EVENTS = 10_000  # one HTTP request or WS message
MAX_WS_MESSAGE = 1024 * 1024  # one WS message
KEEP_KNOWN = 4096  # stream ids known to exist, remembered
LIVE_QUEUE = 1000  # commits waiting for their live numbers before the writer waits too
ORDER_QUEUE = 1000  # flushes whose orders wait for the order listeners before the writer waits too
T = TypeVar("T")
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines")

if TYPE_CHECKING:
    from livecompanion.core import Core
    from livecompanion.events.models import Comment

__all__ = ["CommentListener", "IngestResult", "IngestService", "OrderListener", "Overloaded", "TooLarge",
           "WriterClosed", "now_ms"]

# Told of the new events of a stream once they are committed (duplicates are left out).
OrderListener = Callable[[str, list[Order]], Awaitable[None]]
CommentListener = Callable[[str, Iterable["Comment"]], Awaitable[None]]
# Told of every commit (all new events of every stream it touched), after the live numbers.
CommitListener = Callable[[list[StreamCommit]], Awaitable[None]]


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}


async def take_queued(queue: asyncio.Queue[T | None]) -> tuple[list[T], bool]:
    """The next item and every other one queued by now, up to the stop mark (None); True once the
    stop mark was taken (what came before it is in the list)."""
    first = await queue.get()
    if first is None:
        return [], True
    taken = [first]
    while not queue.empty():
        more = queue.get_nowait()
        if more is None:
            return taken, True
        taken.append(more)
    return taken, False


def merge_commits(commits: list[StreamCommit]) -> list[StreamCommit]:
    """One commit a stream, its events and order changes in commit order (streams in first-seen order)."""
    if len(commits) == 1:
        return commits
    merged: dict[str, StreamCommit] = {}
    for commit in commits:
        into = merged.get(commit.stream_id)
        if into is None:
            merged[commit.stream_id] = StreamCommit(commit.stream_id, list(commit.events), list(commit.order_changes))
        else:
            into.events.extend(commit.events)
            into.order_changes.extend(commit.order_changes)
    return list(merged.values())


def _rejection(error: EventError) -> dict[str, Any]:
    out: dict[str, Any] = {"index": error.index, "reason": error.reason}
    if error.line is not None:
        out["line"] = error.line
    return out


def is_ndjson(content_type: str | None) -> bool | None:
    """True for an NDJSON content type; None (sniff the body) otherwise."""
    if content_type and content_type.split(";")[0].strip().lower() in NDJSON_TYPES:
        return True
    return None


def make_live(core: Core) -> tuple[LiveCounters, PublishGate]:
    """Tallies and publish gate in Redis when the hub is shared through Redis (several instances),
    else in this process's memory."""
    client = core.hub.redis
    if client is not None:
        gate = RedisGate(client, core.hub.prefix, link=core.hub.link)
        return RedisCounters(client, core.hub.prefix, instance_id()), gate
    return MemoryCounters(), MemoryGate()


def _orders_of(commit: StreamCommit) -> list[Order]:
    """The commit's orders as models. By type first: building the model of every event only to ask
    whether it is an order validated each enter and viewer count a second time (issue 20)."""
    orders = []
    for record in commit.events:
        if record.type == "order":
            event = record.event
            assert isinstance(event, Order)
            orders.append(event)
    return orders


class IngestService:
    def __init__(
        self,
        core: Core,
        *,
        store: EventStore,
        order_listeners: Sequence[OrderListener] = (),
        comment_listeners: Sequence[CommentListener] = (),
        commit_listeners: Sequence[CommitListener] = (),
        writer_options: dict[str, Any] | None = None,
    ) -> None:
        self.core = core
        hours = core.settings.max_ts_skew_hours
        self.max_ts_skew_ms: int | None = int(hours * 3_600_000) if hours > 0 else None
        counters, gate = make_live(core)
        self.live = LiveNumbers(core, counters, gate=gate, end_grace_s=core.settings.end_release_seconds)
        self.writer = GroupCommitWriter(
            store,
            after_commit=self._after_commit,
            before_write=self.live.prepare,
            **(writer_options or {}),
        )
        self.order_listeners = tuple(order_listeners)
        self.comment_listeners = tuple(comment_listeners)
        self.commit_listeners = tuple(commit_listeners)
        # Commits whose live numbers are still to be recorded (after their callers were answered).
        self._to_record: asyncio.Queue[StreamCommit | None] = asyncio.Queue(maxsize=LIVE_QUEUE)
        self._recorder: asyncio.Task[None] | None = None
        self._recording = 0  # 1 while a commit taken off the queue is being recorded
        self.live_queue_peak = 0  # most commits ever waiting for their live numbers (LIVE_QUEUE: full)
        # Wall seconds of each after-commit step, summed over commits (streams overlap: the sum of a
        # flush's streams may exceed the flush's own after-commit time).
        self.step_seconds = {"orders": 0.0, "comments": 0.0, "live_queue": 0.0}
        # Flushes' orders (stream, orders) waiting for the order listeners, after their callers were answered.
        self._to_move: asyncio.Queue[list[tuple[str, list[Order]]] | None] = asyncio.Queue(maxsize=ORDER_QUEUE)
        self._mover: asyncio.Task[None] | None = None
        self._moving = 0  # 1 while orders taken off the queue are being applied
        self.order_queue_peak = 0  # most flushes ever waiting for the order step
        self._segments: dict[str, frozenset[str]] = {}  # stream -> its script's segment ids (scripts stay)
        self._known: set[str] = set()

    async def start(self) -> None:
        await self.writer.start()
        await self.live.start()
        if self._recorder is None:
            self._recorder = asyncio.create_task(self._record_live(), name="ingest-live-recorder")
        if self._mover is None and self.order_listeners:
            self._mover = asyncio.create_task(self._move_orders_loop(), name="ingest-order-mover")

    async def close(self) -> None:
        await self.writer.close()  # everything admitted is written and answered first
        if self._mover is not None:
            await self._to_move.put(None)  # the orders of every flush before it, then stop
            await self._mover
            self._mover = None
        if self._recorder is not None:
            await self._to_record.put(None)  # the numbers of every commit before it, then stop
            await self._recorder
            self._recorder = None
        await self.live.close()

    async def ensure_stream(self, stream_id: str) -> None:
        """Raise NotFound unless the stream exists (known ones are remembered: streams stay)."""
        await self._segment_ids(stream_id)

    async def open_connections(self) -> None:
        """The event store's connections opened and its statements made ready (before serving)."""
        await self.writer.store.open()

    async def warm(self, stream_id: str) -> None:
        """What the stream's first batch would read on this instance: the script's segment ids, the
        live numbers' seed and the script's products (livecompanion/warm.py)."""
        await self._segment_ids(stream_id)
        await self.live.prepare({stream_id})

    async def _segment_ids(self, stream_id: str) -> frozenset[str]:
        known = self._segments.get(stream_id)
        if known is None:
            async with self.core.db.session() as session:
                row = await StreamRepository(session).get(stream_id)
            if row is None:
                raise NotFound(f"no stream '{stream_id}'")
            known = frozenset(segment.id for segment in Script.model_validate(row.script).segments
                              if segment.id is not None)
            if len(self._segments) >= KEEP_KNOWN:
                self._segments.clear()  # asked again once: cheaper than an ordered set
            self._segments[stream_id] = known
        return known

    # --- the ways in ------------------------------------------------------------------------------

    async def ingest_body(self, stream_id: str, body: bytes, content_type: str | None = None) -> IngestResult:
        """An HTTP batch: a JSON array, one object, or NDJSON (by content type, or sniffed)."""
        if len(body) > MAX_BODY_BYTES:
            raise TooLarge(f"a request may carry at most {MAX_BODY_BYTES:,} bytes")
        if not body.strip():  # nothing to accept or reject one by one: the request itself is wrong
            raise Invalid("the body is empty: send a JSON array of events, one event, or NDJSON", ("body",),
                          "missing")
        values, errors = decode_body(body, is_ndjson(content_type))
        return await self.ingest_values(stream_id, values, errors)

    async def ingest_values(
        self, stream_id: str, values: list[tuple[int, Any]], errors: list[EventError] | None = None
    ) -> IngestResult:
        """Decoded values with their batch index; `errors` are the ones that did not even decode."""
        errors = list(errors or [])
        if len(values) + len(errors) > MAX_EVENTS:
            raise TooLarge(
                f"at most {MAX_EVENTS:,} events in one request or message, got {len(values) + len(errors):,}"
            )
        values = unknown_segments(values, await self._segment_ids(stream_id), errors)
        records = records_of_values(stream_id, values, now_ms(), errors, self.max_ts_skew_ms)
        written = await self.writer.submit(records)
        errors += (EventError(index, reason) for index, reason in written.refused)
        errors.sort(key=lambda e: e.index)
        return IngestResult(written.accepted, written.duplicates, [_rejection(e) for e in errors])

    async def ingest_events(self, stream_id: str, events: list[dict[str, Any]]) -> IngestResult:
        """Event dicts from a bridge mapper (contract section 2), validated like any other."""
        return await self.ingest_values(stream_id, list(enumerate(events)))

    # --- after the commit -------------------------------------------------------------------------

    async def _after_commit(self, commits: list[StreamCommit]) -> None:
        """The steps of one flush: each stream's commits in order, the streams side by side. A
        flush of a busy evening holds a commit of each of ten rooms; one after the other, their
        lookups (a Redis HMGET and a PostgreSQL query a room with orders) added up to 0.4 s a flush
        on average and 1.4 s at worst (`scripts/bench_evening.py`, 10 rooms), and every caller of
        the flush waited for all of them. Streams share nothing here, so they need not wait for
        each other; the next flush's steps still start after this one's (each stream in order)."""
        moves = [(c.stream_id, orders) for c in commits
                 if (orders := _orders_of(c))]
        if moves and self.order_listeners:
            if self._mover is None or self._mover.done():
                await self._move_orders(moves)  # not started (tests) or gone: in line
            else:
                self.order_queue_peak = max(self.order_queue_peak, self._to_move.qsize() + 1)
                await self._to_move.put(moves)
        by_stream: dict[str, list[StreamCommit]] = {}
        for commit in commits:
            by_stream.setdefault(commit.stream_id, []).append(commit)
        if len(by_stream) == 1:
            await self._after_commit_of(commits)
            return
        await asyncio.gather(*(self._after_commit_of(mine) for mine in by_stream.values()))

    async def _after_commit_of(self, commits: list[StreamCommit]) -> None:
        """One stream's commits of a flush, in commit order."""
        clock = asyncio.get_running_loop().time
        steps = self.step_seconds
        for commit in commits:
            stream_id = commit.stream_id
            comments = [r for r in commit.events if r.type == "comment"]
            started = clock()
            if comments:
                for on_comments in self.comment_listeners:
                    # Typed only if a listener reads them (a lottery is open: the listener looks first).
                    await self._step(on_comments, stream_id, (r.event for r in comments))
            commented = clock()
            if self._recorder is None or self._recorder.done():
                await self._record_one(commit)  # not started (tests) or gone: in line
            else:
                self.live_queue_peak = max(self.live_queue_peak, self._to_record.qsize() + 1)
                await self._to_record.put(commit)
            steps["comments"] += commented - started
            steps["live_queue"] += clock() - commented

    async def _move_orders_loop(self) -> None:
        """Orders off the queue; what queued meanwhile goes in the same batch."""
        while True:
            taken, last = await take_queued(self._to_move)
            if taken:
                self._moving = 1
                try:
                    await self._move_orders([move for moves in taken for move in moves])
                finally:
                    self._moving = 0
            if last:
                return

    async def _move_orders(self, moves: list[tuple[str, list[Order]]]) -> None:
        """Orders to the order listeners: each stream's in commit order, the streams side by side."""
        by_stream: dict[str, list[Order]] = {}
        for stream_id, orders in moves:
            by_stream.setdefault(stream_id, []).extend(orders)
        clock = asyncio.get_running_loop().time

        async def one(stream_id: str, orders: list[Order]) -> None:
            started = clock()
            for on_orders in self.order_listeners:
                await self._step(on_orders, stream_id, orders)
            self.step_seconds["orders"] += clock() - started

        await asyncio.gather(*(one(stream_id, orders) for stream_id, orders in by_stream.items()))

    def orders_pending(self) -> int:
        """Flushes whose orders are not applied yet (queued, or being applied now)."""
        return self._to_move.qsize() + self._moving

    async def _record_live(self) -> None:
        """Record commits off the queue; what queued meanwhile is taken too, and a stream's commits
        of one take are recorded as one (their events in commit order). One at a time, the queue
        filled to its 1,000 with ten rooms and the writer waited for it (`bench_evening.py`)."""
        while True:
            taken, last = await take_queued(self._to_record)
            self._recording = len(taken)
            try:
                for merged in merge_commits(taken):
                    await self._record_one(merged)
            finally:
                self._recording = 0
            if last:
                return

    async def _record_one(self, commit: StreamCommit) -> None:
        try:
            await self.live.record(commit)
        except Exception:
            log.exception("live numbers of stream %s: recording a commit failed", commit.stream_id)
        for on_commit in self.commit_listeners:
            try:
                await on_commit([commit])
            except Exception:
                log.exception("after-commit listener %s failed", getattr(on_commit, "__qualname__", on_commit))

    def live_pending(self) -> int:
        """Commits whose live numbers are not recorded yet (queued, or being recorded now)."""
        return self._to_record.qsize() + self._recording

    async def _step(self, listener: Callable[[str, Any], Awaitable[None]], stream_id: str, events: Any) -> None:
        try:
            await listener(stream_id, events)
        except Exception:  # stored is stored; the show catches up on the next event
            log.exception("after-commit step %s failed for stream %s", getattr(listener, "__qualname__", listener),
                          stream_id)

    async def load_section(self, section: str, stream_id: str) -> Any:
        """`metrics`, `questions` or `ticker` of a document rebuilt from the record."""
        return (await self.live.sections(stream_id))[section]
