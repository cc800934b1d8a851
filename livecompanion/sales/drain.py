"""Writes the sales' Redis logs into the record: Redis decides, PostgreSQL keeps.

Every claim, order move and stop that `claim.lua` / `order.lua` / `stop.lua` decide is XADDed to the
sale's log. The drainer reads the log past the record's position (`flash_sales.drained`,
"<epoch>/<last entry id>") and writes a batch in ONE transaction (drain_write.py) that starts with

    UPDATE flash_sales SET drained = :new, sold = .., next_rank = .. WHERE id = :sale AND drained IS :old

so a batch is written exactly once, in log order, even when two instances drain the same sale at once
(the loser's update matches nothing and nothing else of its batch is written). Claims are inserted
with ON CONFLICT (sale_id, rank) DO NOTHING, so replaying a log from an earlier point converges to
the same rows. A Redis lease per sale keeps the second instance from doing the work twice.

Durable answers: a granted claim is answered only once the record holds it (`recorded()`), like a
group commit: claims granted meanwhile ride in the same batch, so this costs each claim a few
milliseconds, not throughput. An instance whose claims another instance is draining learns that
they are recorded from the position that drainer publishes (and, as a fallback, by reading the
sale's `drained` position in the record every POLL_EVERY). So a claim answered 201 is in the
record, whatever happens to Redis a moment later.

Passes: each pass takes every due sale at once (drain_pass.py: one pipelined read, one statement,
each sale's batch still guarded by its own position; positions published only for the sales another
instance asked about). Measured in process (`scripts/bench_drain.py`, 2026-12-06, against the code
before): a pass over ten sales with a new claim each 7.5-7.9 ms -> 0.7-0.8 ms of CPU, a pass of one
sale 0.77 -> 0.33-0.37 ms; two instances' claims at ten rooms' rate 1.01-1.48 -> 0.72-0.86 ms of CPU
a claim, 0.68x at the median of five pairs (with storage/redis_link.py's lean connection; BENCHMARKS.md "A team's
evening").

Latency: an instance drains the sales it granted claims on as soon as it can (claims granted
during a pass make the next batch; passes start at least PASS_EVERY_S apart, so a crowd's claims of
those milliseconds share one), and every sale of the last days each `SCAN_EVERY` seconds, which
is also the startup reconciliation: what a crashed instance left in a log is written by the others.

Reads: a sale whose lease another instance holds is read again only when that lease could have
lapsed (the read answers with its time left, and so does a claim that woke the holder:
`holder_lease_ms`); its waiting claims are answered by the holder's published position meanwhile.
Before, the instance without the lease read such a sale every 5 ms while a claim of its own waited:
with two instances and two rooms, 1,010 reads in 5 s for 195 batches written (`bench_evening.py`,
claims only), each ~0.15 ms of CPU in redis-py (`scripts/bench_redis_client.py`). The holder still
reads its sales every 5 ms while claims of its own wait (and so, should a wake below be lost, it
still takes the other instance's claims).

Wakes: a claim granted on one instance while another holds the sale's lease is written by the
holder, which used to find it only in its next pass, made for a claim of its own or while its own
claims waited: with 2,000 claims a minute a sale, ~60 ms later on average, and up to the lease's
100 ms. `claim.lua` now publishes "<sale> <stream>" to the holder's wake channel (`fs:wake:<instance>`)
in the same script call (for a replayed claim too), and the holder's listener touches the sale and
notes that another instance waits on it: the holder publishes that sale's position after its next
pass. `drain.lua` wakes the holder the same way when it finds the lease held while claims wait here
(a lease taken between the claim and this instance's read). Nobody waits on the other positions:
they are not published (each publish cost the holder a command and both instances a message).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable

from livecompanion.clock import now_ms
from livecompanion.sales.base import StoreUnavailable
from livecompanion.sales.drain_pass import DRAIN_LUA, LogRead, position, read_logs, run_pass
from livecompanion.sales.drain_write import fold, make_writer
from livecompanion.sales.repository import SaleRepository
from livecompanion.sales.store_redis import KEEP_AFTER_END_MS, REDIS_ERRORS, RedisClaimStore
from livecompanion.tasks import cancel_and_wait, wait_event

log = logging.getLogger(__name__)

Entry = tuple[bytes, dict[bytes, bytes]]  # (entry id, {field: value}) of a sale's log
WAITING_TICK = 0.005  # while claims wait on another instance's drainer: look again this often
SCAN_EVERY = 2.0
# The drainer of a sale keeps its lease while it keeps draining (it is renewed with every batch):
# two busy instances do not hand the log back and forth. Once the holder goes quiet the lease
# lapses within LEASE_MS and another instance, whose claims wait, takes over.
LEASE_MS = 100
POLL_EVERY = 0.05  # while claims wait: read the record's positions this often, besides the news
# A pass starts at least this long after the one before. Ten rooms' claims (333 a second over two
# instances) otherwise got a pass each, nearly: `bench_drain.py --evening 10 --sales 10` measured
# 671-728 us of CPU a claim with none, 549-568 with 5 ms, 457-465 with 10 ms (2026-12-07, load ~5),
# and on a quiet machine 1,041-1,060 with none, 739-861 with 10 ms (a loaded process batches more by
# itself), for ~6 ms more on a claim's median answer; a claim after a quiet moment is drained at once.
PASS_EVERY_S = 0.01


__all__ = ["Drainer", "Entry", "position"]


class Drainer:
    def __init__(self, store: RedisClaimStore, instance: str | None = None) -> None:
        self.store = store
        self.db = store.db
        self.redis = store.redis
        self.writer = make_writer(store.db)
        self.drain_sha = store.redis.register_script(DRAIN_LUA).sha  # drain.lua, called in pipelines
        self.lease_ms = LEASE_MS
        self.instance = instance or secrets.token_hex(6)
        store.drainer_id = self.instance
        self.dirty: dict[str, str] = {}  # sale_id -> stream_id: granted claims here, not drained yet
        # sale_id -> claims waiting to be recorded: (epoch, entry id, future); and where they wait
        self.waiters: dict[str, list[tuple[str, tuple[int, int], asyncio.Future[bool]]]] = {}
        self._waiting_in: dict[str, str] = {}
        self._recorded: dict[str, tuple[str, tuple[int, int]]] = {}  # sale_id -> last known position
        self.cursor: dict[str, tuple[str | None, int]] = {}  # sale_id -> (record's position, stock)
        self._cursor_streams: dict[str, str] = {}  # sale_id -> stream_id of the sales drained here
        self.reading: dict[str, tuple[str, tuple[int, int]]] = {}  # sale_id -> last entry being written
        self.lease_free_at: dict[str, float] = {}  # sale_id -> loop time when another's lease may lapse
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._last_scan = 0.0
        self._last_poll = 0.0
        # "<sale_id> <position>" after a batch written, for the sales another instance asked about
        self.channel = f"{store.prefix}fs:recorded"
        self.wake_channel = f"{store.wake_prefix}{self.instance}"  # "<sale_id> <stream_id>": claims to write
        self.wanted: set[str] = set()  # sales with a wake since their last pass: another instance waits
        self.quarantined: set[tuple[str, str, str]] = set()  # (sale, epoch, entry id) set aside (quarantine.py)

    def touch(self, stream_id: str, sale_id: str) -> None:
        if sale_id not in self.dirty:
            self.dirty[sale_id] = stream_id
            self._wake.set()

    async def recorded(self, stream_id: str, sale_id: str, entry: str, timeout: float,
                       holder_lease_ms: int | None = None) -> bool:
        """Wait until the record holds this log entry ("<epoch>/<id>"); False if not within timeout.

        `holder_lease_ms`: the claim woke another instance's drainer, whose lease lasts that long
        (claim.lua): it writes the entry and publishes its position, so the log is not read here
        before then (a read would only find its lease, and wake it again)."""
        where = position(entry)
        if where is None or where[1] == (0, 0):
            return True  # the claim came from the record
        if self._holds(sale_id, *where):
            return (sale_id, where[0], f"{where[1][0]}-{where[1][1]}") not in self.quarantined
        loop = asyncio.get_running_loop()
        if holder_lease_ms is not None:
            free_at = loop.time() + holder_lease_ms / 1000
            self.lease_free_at[sale_id] = max(free_at, self.lease_free_at.get(sale_id, free_at))
        future: asyncio.Future[bool] = loop.create_future()
        self.waiters.setdefault(sale_id, []).append((where[0], where[1], future))
        self._waiting_in[sale_id] = stream_id
        reading = self.reading.get(sale_id)
        if holder_lease_ms is not None:
            self._wake.set()  # (the loop's next wait: a tick while claims wait) and no pass of our own
        elif reading is None or reading[0] != where[0] or where[1] > reading[1]:
            self.touch(stream_id, sale_id)  # not in the batch being written now: one more pass
            self._wake.set()
        timer = loop.call_later(timeout, _settle, future, False)
        try:
            return await future
        finally:
            timer.cancel()

    def _holds(self, sale_id: str, epoch: str, entry: tuple[int, int]) -> bool:
        done = self._recorded.get(sale_id)
        return done is not None and done[0] == epoch and entry <= done[1]

    def resolve(self, sale_id: str, drained: str | None) -> None:
        where = position(drained)
        if where is None:
            return
        done = self._recorded.get(sale_id)
        if done is None or done[0] != where[0] or done[1] < where[1]:
            self._recorded[sale_id] = where
        waiting = self.waiters.get(sale_id)
        if not waiting:
            return
        still = []
        for epoch, entry, future in waiting:
            if future.done():
                continue
            if self._holds(sale_id, epoch, entry):
                # An entry set aside is passed, not recorded: its claim is told so (503), never 201.
                future.set_result((sale_id, epoch, f"{entry[0]}-{entry[1]}") not in self.quarantined)
            else:
                still.append((epoch, entry, future))
        if still:
            self.waiters[sale_id] = still
        else:
            self.waiters.pop(sale_id, None)
            self._waiting_in.pop(sale_id, None)

    # ---- the loop ----

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="sales-drainer")
            self._listener = asyncio.create_task(self._listen(), name="sales-drainer-news")

    async def _listen(self) -> None:
        """Positions other instances' drainers reached (their answers to our waiting claims), and
        claims other instances granted on the sales whose lease we hold (claim.lua's wake)."""
        wake_channel = self.wake_channel.encode()

        def news(channel: bytes, data: bytes) -> None:
            sale_id, _, rest = data.decode().partition(" ")
            if channel == wake_channel:
                self.wanted.add(sale_id)
                self.touch(rest, sale_id)
            else:
                self.resolve(sale_id, rest)

        while True:
            try:
                if self.store.link is not None:
                    await self.store.link.listen([self.channel, self.wake_channel], news)
                else:
                    await self._listen_redis_py(news)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - Redis away: polling the record covers it meanwhile
                await asyncio.sleep(0.5)

    async def _listen_redis_py(self, news: Callable[[bytes, bytes], None]) -> None:
        pubsub = self.redis.pubsub()
        try:
            await pubsub.subscribe(self.channel, self.wake_channel)
            async for message in pubsub.listen():
                if message["type"] == "message":
                    news(message["channel"], message["data"])
        finally:
            try:
                await pubsub.aclose()
            except Exception:  # noqa: BLE001
                pass

    async def close(self, final_timeout: float = 5.0) -> None:
        for task in (self._task, self._listener):
            # cancel_and_wait cancels again if a cancellation is lost: on Python 3.11 one that meets
            # an expiring `asyncio.timeout` can be (the drainer's 5 ms waits made that likely).
            await cancel_and_wait(task)
        self._task = self._listener = None
        touched = dict(self.dirty) | dict(self._cursor_streams)

        async def last_pass() -> None:  # what this instance granted goes to the record before it exits
            await self.drain(dict(self.dirty))
            await self.give_up_leases(touched)

        try:
            await asyncio.wait_for(last_pass(), final_timeout)
        except Exception as exc:  # noqa: BLE001
            log.warning("sales drainer: final drain incomplete (%s); another instance will finish it", exc)
        await self.writer.close()

    def _due(self, now: float) -> tuple[dict[str, str], float]:
        """The sales to read in this pass, and how long the next wait may be.

        Sales with new claims here (`dirty`: granted here, or woken by another instance's grant)
        or with claims waiting here are read in every pass, a pass every WAITING_TICK while claims
        wait. A sale whose lease another instance holds is skipped until that lease could lapse
        (the holder's passes take what is in the shared log)."""
        sales: dict[str, str] = {}
        wait = WAITING_TICK if self.waiters else SCAN_EVERY
        for sale_id, stream_id in (*self.dirty.items(), *self._waiting_in.items()):
            free_at = self.lease_free_at.get(sale_id)
            if free_at is None or free_at <= now:
                sales[sale_id] = stream_id
            else:
                wait = min(wait, free_at - now)
        return sales, max(WAITING_TICK, wait)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        wait = SCAN_EVERY
        last_pass = 0.0
        while True:
            await wait_event(self._wake, wait)
            # Passes at most every PASS_EVERY_S: a claim that comes after a quiet moment is drained at
            # once; under a crowd, the claims of those milliseconds share one pass.
            early = last_pass + PASS_EVERY_S - loop.time()
            if early > 0:
                await asyncio.sleep(early)
            last_pass = loop.time()
            self._wake.clear()
            try:
                sales, wait = self._due(loop.time())
                if loop.time() - self._last_scan >= SCAN_EVERY:  # not those another instance drains now
                    now = loop.time()
                    for sale_id, stream_id in (await self.recent_sales()).items():
                        if self.lease_free_at.get(sale_id, now) <= now:
                            sales.setdefault(sale_id, stream_id)
                    self._last_scan = loop.time()
                await self.drain(sales)
                if loop.time() - self._last_poll >= POLL_EVERY:  # in case a published position was missed
                    self._last_poll = loop.time()
                    await self._poll_positions()
            except asyncio.CancelledError:
                raise
            except (StoreUnavailable, *REDIS_ERRORS) as exc:
                log.warning("sales drainer: Redis unreachable (%s); retrying", exc)
                await asyncio.sleep(0.5)
            except Exception:  # the record may be down; keep trying
                log.exception("sales drainer: a pass failed; retrying")
                await asyncio.sleep(0.5)

    async def _poll_positions(self) -> None:
        """Claims still waiting were drained by another instance (or not yet): read the record."""
        waiting = [sale_id for sale_id, w in self.waiters.items() if w]
        if waiting:
            for sale_id, (drained, _stock) in (await self.writer.positions_and_stock(waiting)).items():
                self.resolve(sale_id, drained)

    async def recent_sales(self) -> dict[str, str]:
        async with self.db.session() as session:
            return await SaleRepository(session).ended_after(now_ms() - KEEP_AFTER_END_MS)

    async def drain(self, sales: dict[str, str]) -> int:
        """Drain these sales' logs into the record, all of them in each pass (drain_pass.py); the
        number of log entries written."""
        for sale_id, stream_id in sales.items():
            self.dirty.pop(sale_id, None)
            self.lease_free_at.pop(sale_id, None)
            self._cursor_streams[sale_id] = stream_id
        todo, total = dict(sales), 0
        try:
            for _ in range(1000):  # again at once: sales with a full batch, or whose position moved
                if not todo:
                    break
                written, todo = await run_pass(self, todo)
                total += written
        except BaseException:
            for sale_id, stream_id in todo.items():
                self.dirty.setdefault(sale_id, stream_id)  # try again next pass
            raise
        return total

    async def read_logs(self, reads: list[LogRead]) -> list[bytes]:
        """drain.lua's replies for these sales, in one round trip (drain_pass.py)."""
        return await read_logs(self, reads)

    async def give_up_leases(self, sales: dict[str, str]) -> None:
        """Let other instances drain these sales at once (this one is going away)."""
        for sale_id, stream_id in sales.items():
            keys = self.store.keys(stream_id, sale_id)
            try:
                await self.store.lease(keys=[keys.lease], args=[self.instance, 0])
            except REDIS_ERRORS:
                return

    async def write(self, sale_id: str, stock: int, old: str | None, new: str,
                    entries: list[Entry]) -> bool:
        """Write one sale's batch exactly once, alone; False if another drainer moved the position
        first. (A pass writes all its sales' batches at once: `writer.write_many`.)"""
        return await self.writer.write(sale_id, old, new, fold(sale_id, stock, entries))


def _settle(future: asyncio.Future[bool], value: bool) -> None:
    if not future.done():
        future.set_result(value)
