"""The group-commit writer: many requests' events, one transaction.

    writer = GroupCommitWriter(store, after_commit=hook)
    await writer.start()
    result = await writer.submit(records)   # returns once the records are COMMITTED (and the hook ran)
    await writer.close()                    # drains what was admitted, then stops

Requests hand their records to the writer's queue and wait. The writer task takes everything
queued (whole requests, up to `max_flush_events`) and writes it in one transaction with one
multi-row statement; while that transaction runs, the next requests queue up and go together in
the next one. Under light load a request is written alone at once (no lingering); under heavy
load flushes grow and the per-event cost falls. With PostgreSQL two flushes may be in flight at
once (`concurrent_flushes`) when a backlog is queued (`second_flush_at` events), so the database
works while the next batch is encoded and sent; the database itself settles duplicates and orders
between them, as between two instances.

After a commit, a second task runs `after_commit` (flash sales, lotteries, live numbers) for that
flush while the writer already writes the next one; callers are answered after both, so an
answer means "stored, and the show has seen it". A crash after the answer loses nothing; a crash
before it loses nothing the sender will not resend (it had no ack).

Backpressure: at most `max_pending_events` events are admitted and not yet answered. A caller
that does not fit waits for room up to `admit_timeout` seconds, then gets `Overloaded` (HTTP 503
with Retry-After). Memory is bounded by that number, whatever the senders do.

Failures: a flush that fails with a transient error (deadlock, lost connection, SQLite busy) is
retried; one that fails otherwise is split into its requests, each written on its own, so one bad
request cannot fail the others. A request the database refuses for its data (a constraint or type
the validator does not check: `store.refuses_data`) is written again in halves until each refused
event stands alone; those are rejected one by one with the database's reason and the rest are
stored, so a sender is never told "send again" for an event that can never be stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from livecompanion.errors import Unavailable
from livecompanion.ingest.rows import EventRecord, StreamCommit, WriteResult
from livecompanion.ingest.store import EventStore
from livecompanion.tasks import wait_event

log = logging.getLogger(__name__)

AfterCommit = Callable[[list[StreamCommit]], Awaitable[None]]
BeforeWrite = Callable[[set[str]], Awaitable[None]]

RETRIES = 3
ANSWERS_KEPT = 10_000


class Overloaded(Unavailable):
    """The writer has no room for these events now; try again after `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"ingest is overloaded: try again in {retry_after:g} s", max(1, round(retry_after)))


class WriterClosed(Unavailable):
    """The service is shutting down and takes no more events."""


@dataclass(slots=True)
class _Job:
    records: list[EventRecord]
    future: asyncio.Future[WriteResult]


@dataclass
class WriterStats:
    flushes: int = 0
    events: int = 0  # records handed to the store (after in-flush de-duplication)
    largest_flush: int = 0
    most_requests_in_a_flush: int = 0
    retries: int = 0
    split_flushes: int = 0
    split_requests: int = 0  # requests the database refused whole, written again in halves
    refused_events: int = 0  # events the database refused one by one (rejected, with its reason)
    overloaded: int = 0
    seconds_writing: float = 0.0  # wall time inside store.write (mostly the database)
    seconds_after_commit: float = 0.0  # wall time of the after-commit steps
    slowest_write: float = 0.0
    slowest_after_commit: float = 0.0


@dataclass
class _Flushed:
    commits: list[StreamCommit] = field(default_factory=list)
    done: list[tuple[_Job, WriteResult | BaseException]] = field(default_factory=list)


class GroupCommitWriter:
    def __init__(
        self,
        store: EventStore,
        *,
        after_commit: AfterCommit | None = None,
        before_write: BeforeWrite | None = None,
        max_pending_events: int = 200_000,
        max_flush_events: int = 25_000,
        admit_timeout: float = 5.0,
        pipeline_depth: int = 2,
        concurrent_flushes: int | None = None,
        second_flush_at: int = 2_000,
    ) -> None:
        self.store = store
        self.after_commit = after_commit
        self.before_write = before_write
        self.max_pending_events = max_pending_events
        self.max_flush_events = max_flush_events
        self.admit_timeout = admit_timeout
        # PostgreSQL works on two transactions at once (one per core), SQLite on one at a time.
        self.concurrent_flushes = concurrent_flushes or int(getattr(store, "concurrent_writes", 1))
        self.second_flush_at = second_flush_at  # events queued before a second flush runs beside the first
        self.stats = WriterStats()
        self._queue: deque[_Job] = deque()
        self._queued_events = 0  # in the queue, not yet taken by a flush
        self._pending = 0  # admitted and not yet answered
        self._wake = asyncio.Event()
        self._freed = asyncio.Event()
        self._flushed: asyncio.Queue[_Flushed | None] = asyncio.Queue(maxsize=pipeline_depth)
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        # How long the last requests waited for their answer (admitted -> answered), seconds: the
        # server's own share of an acknowledgement, apart from the network and the sender's loop.
        self.recent_answers: deque[float] = deque(maxlen=ANSWERS_KEPT)

    @property
    def pending_events(self) -> int:
        return self._pending

    async def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._write_loop(), name="ingest-writer"),
                asyncio.create_task(self._after_loop(), name="ingest-after-commit"),
            ]

    async def close(self) -> None:
        """Stop taking events; write and answer everything admitted; stop the tasks; close the store."""
        self._closing = True
        self._wake.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._tasks = []
        await self.store.close()

    async def submit(self, records: list[EventRecord]) -> WriteResult:
        """Write `records` in the next transaction; return once committed. Raises Overloaded."""
        if self._closing or not self._tasks:
            raise WriterClosed("ingest is not running")
        if not records:
            return WriteResult(0, 0)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await self._admit(len(records))
        job = _Job(records, loop.create_future())
        self._queue.append(job)
        self._queued_events += len(records)
        self._wake.set()
        # A caller that goes away (client disconnected) must not cancel the job: it still commits.
        result = await asyncio.shield(job.future)
        self.recent_answers.append(loop.time() - started)
        return result

    def answer_ms(self) -> dict[str, float]:
        """p50 / p99 / max of the last requests' time from submit to answer, milliseconds."""
        times = sorted(self.recent_answers)
        if not times:
            return {"count": 0}
        at = lambda q: round(times[min(len(times) - 1, int(q * len(times)))] * 1000, 1)  # noqa: E731
        return {"count": len(times), "p50": at(0.5), "p99": at(0.99), "max": at(1.0)}

    async def _admit(self, n: int) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.admit_timeout
        # An empty writer takes any request, however large, so the limit can never wedge one.
        while self._pending and self._pending + n > self.max_pending_events:
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                self.stats.overloaded += 1
                raise Overloaded(retry_after=1.0)
            self._freed.clear()  # no await between the check above and here: no lost wake-up
            await wait_event(self._freed, remaining)
        self._pending += n

    def _release(self, n: int) -> None:
        self._pending -= n
        self._freed.set()

    # --- the writer task ------------------------------------------------------------------------

    async def _write_loop(self) -> None:
        flushing: set[asyncio.Task[None]] = set()
        try:
            while True:
                while not self._queue:
                    if self._closing:
                        return
                    self._wake.clear()
                    await self._wake.wait()
                flushing = {task for task in flushing if not task.done()}
                wanted = self._flushes_wanted()
                while len(flushing) >= wanted:
                    _, flushing = await asyncio.wait(flushing, return_when=asyncio.FIRST_COMPLETED)
                    wanted = self._flushes_wanted()
                # With several flushes free, share what is queued between them, so that they run
                # side by side instead of one big flush and an idle connection.
                free = wanted - len(flushing)
                limit = min(self.max_flush_events, -(-self._queued_events // free))
                for _ in range(free):
                    if not self._queue:
                        break
                    jobs = [self._queue.popleft()]
                    size = len(jobs[0].records)
                    while self._queue and size + len(self._queue[0].records) <= limit:
                        job = self._queue.popleft()
                        jobs.append(job)
                        size += len(job.records)
                    self._queued_events -= size
                    flushing.add(asyncio.create_task(self._flush(jobs)))
        finally:
            if flushing:
                await asyncio.gather(*flushing, return_exceptions=True)
            await self._flushed.put(None)

    def _flushes_wanted(self) -> int:
        """One flush at a time unless a backlog is queued: requests that come while it runs go
        together in the next one (group commit). A second flush on the other connection for every
        request that found the first busy made ten spread-out rooms' batches 3.5x as many
        transactions (1,904 against 540 per 40 s an instance) and PostgreSQL 31% of a core
        against 21%; it pays only when a backlog waits (`second_flush_at`)."""
        if self._queued_events >= self.second_flush_at:
            return self.concurrent_flushes
        return 1

    async def _flush(self, jobs: list[_Job]) -> None:
        try:
            flushed = await self._write(jobs)
        except Exception as exc:  # never leave a caller waiting forever
            log.exception("ingest flush failed")
            flushed = _Flushed(done=[(job, exc) for job in jobs])
        await self._flushed.put(flushed)

    async def _write(self, jobs: list[_Job]) -> _Flushed:
        records, owner = _first_of_each_key(jobs)
        if self.before_write is not None:
            try:
                await self.before_write({r.stream_id for r in records})
            except Exception:  # preparing live numbers must not stop the record
                log.exception("ingest: before_write hook failed")
        try:
            new, commits = await self._store(records)
        except Exception as exc:  # noqa: BLE001 - the error goes back to the request that sent it
            if len(jobs) > 1:
                return await self._write_each(jobs)
            if self.store.refuses_data(exc):
                return await self._write_apart(jobs[0], records, exc)
            log.warning("ingest: a request could not be stored: %r", exc)
            return _Flushed(done=[(jobs[0], exc)])
        stats = self.stats
        stats.flushes += 1
        stats.events += len(records)
        stats.largest_flush = max(stats.largest_flush, len(records))
        stats.most_requests_in_a_flush = max(stats.most_requests_in_a_flush, len(jobs))
        if owner is None and len(new) == len(records):  # the usual case: every record was new
            accepted = [len(job.records) for job in jobs]
        else:
            if owner is None:
                owner = [j for j, job in enumerate(jobs) for _ in job.records]
            accepted = [0] * len(jobs)
            for i in new:
                accepted[owner[i]] += 1
        done: list[tuple[_Job, WriteResult | BaseException]] = [
            (job, WriteResult(accepted[j], len(job.records) - accepted[j])) for j, job in enumerate(jobs)
        ]
        return _Flushed(commits, done)

    async def _store(self, records: list[EventRecord]) -> tuple[set[int], list[StreamCommit]]:
        """`store.write`, retried on a transient error (never on one about the data)."""
        loop = asyncio.get_running_loop()
        for attempt in range(1, RETRIES + 1):
            started = loop.time()
            try:
                return await self.store.write(records)
            except Exception as exc:
                if attempt == RETRIES or self.store.refuses_data(exc) or not self.store.is_retryable(exc):
                    raise
                self.stats.retries += 1
                log.warning("ingest flush: %s; retrying", exc)
            finally:
                took = loop.time() - started
                self.stats.seconds_writing += took
                self.stats.slowest_write = max(self.stats.slowest_write, took)
            await asyncio.sleep(0.02 * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _write_apart(self, job: _Job, records: list[EventRecord], error: BaseException) -> _Flushed:
        """One request whose events the database refused together (an error about the data, e.g. a
        constraint the validator does not know): written again in halves, each half that fails
        halved again, until every refused event stands alone and is rejected with the database's
        reason; the others are stored. One bad event among n costs about 2*log2(n) transactions.
        An error that is not about the data (the database went away) stops the split: what was
        stored stays stored, and the request gets the error (its sender sends again; ids dedupe)."""
        self.stats.split_requests += 1
        flushed = _Flushed()
        refused: list[tuple[int, str]] = []
        accepted = 0
        failure: BaseException | None = None

        async def isolate(part: list[EventRecord], why: BaseException) -> None:
            nonlocal accepted, failure
            if len(part) == 1:
                refused.append((part[0].index, refusal(why)))
                log.warning("ingest: stream %s: the database refused event %d: %s", part[0].stream_id,
                            part[0].index, refusal(why))
                return
            middle = len(part) // 2
            for half in (part[:middle], part[middle:]):
                if failure is not None:
                    return
                try:
                    new, commits = await self._store(half)
                except Exception as exc:  # noqa: BLE001 - sorted below: about the data, or not
                    if self.store.refuses_data(exc):
                        await isolate(half, exc)
                    else:
                        failure = exc
                    continue
                accepted += len(new)
                flushed.commits += commits

        await isolate(records, error)
        self.stats.refused_events += len(refused)
        if failure is not None:
            log.warning("ingest: a request could not be stored: %r", failure)
            flushed.done.append((job, failure))
        else:
            refused.sort()
            duplicates = len(job.records) - accepted - len(refused)
            flushed.done.append((job, WriteResult(accepted, duplicates, tuple(refused))))
        return flushed

    async def _write_each(self, jobs: list[_Job]) -> _Flushed:
        self.stats.split_flushes += 1
        merged = _Flushed()
        for job in jobs:
            part = await self._write([job])
            merged.commits += part.commits
            merged.done += part.done
        return merged

    # --- after the commit -----------------------------------------------------------------------

    async def _after_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            flushed = await self._flushed.get()
            if flushed is None:
                return
            if flushed.commits and self.after_commit is not None:
                started = loop.time()
                try:
                    await self.after_commit(flushed.commits)
                except Exception:  # the events are stored; the ack must still go out
                    log.exception("ingest: after-commit step failed")
                took = loop.time() - started
                self.stats.seconds_after_commit += took
                self.stats.slowest_after_commit = max(self.stats.slowest_after_commit, took)
            for job, outcome in flushed.done:
                self._release(len(job.records))
                if job.future.done():
                    continue
                if isinstance(outcome, BaseException):
                    job.future.set_exception(outcome)
                else:
                    job.future.set_result(outcome)


def refusal(exc: BaseException) -> str:
    """A rejection's reason for an event the database refused: the first line of its error."""
    text = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
    return f"the database refused this event: {text[:200]}"


def _first_of_each_key(jobs: list[_Job]) -> tuple[list[EventRecord], list[int] | None]:
    """The jobs' records in order without repeated keys (a repeat within one flush is a duplicate of
    the first), and the job of each record; None for that when nothing was left out, so the
    records are simply the jobs' records one after the other (the usual case, checked in C)."""
    records = [r for job in jobs for r in job.records]
    keys = [r.key for r in records]
    keyless = keys.count(None)
    if len(set(keys)) == len(keys) - max(0, keyless - 1):
        return records, None
    records, owner, seen = [], [], set()
    for j, job in enumerate(jobs):
        for record in job.records:
            key = record.key
            if key is not None:
                if key in seen:
                    continue
                seen.add(key)
            records.append(record)
            owner.append(j)
    return records, owner
