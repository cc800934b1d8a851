"""Claims through Redis, shared by every instance: one Lua script per decision (lua/*.lua).

Keys of one sale (the `{stream}` hash tag keeps a stream's sales on one cluster slot):
    PREFIX fs:{STREAM}:SALE:meta     hash: epoch, stock, sold, next_rank, first_n (0 = none), limit,
                                     ends_ms, stopped_ms, sold_out_ms
    PREFIX fs:{STREAM}:SALE:held     hash: user_id -> units held (claims not released)
    PREFIX fs:{STREAM}:SALE:orders   hash: order_id -> "rank qty bonus status claimed_ms log_entry user_id"
    PREFIX fs:{STREAM}:SALE:log      stream: every claim, order move and stop, in order
    PREFIX fs:{STREAM}:order-sale    hash: order_id -> the first sale of the stream that claimed with it

`claim.lua` does the whole claim (idempotency lookup, end time by Redis' own clock, per-user count,
stock, rank, record) in one step, and XADDs it to the sale's log. Concurrent claims on one sale
share a script call (one call under way per sale; whatever arrives meanwhile goes in the next):
fewer round trips, the same decisions. `drain.py` writes the log into
the record (ClaimRow, keyed by (sale_id, rank)), so a granted claim outlives a Redis restart.

Redis holds a sale only while it is being sold: it is loaded from the record (`load.lua`, only if
absent) when the sale starts and whenever Redis turns out not to hold it (a restarted or flushed
Redis), and its keys expire three days after its end. Each load has a new random `epoch`: the
record's `flash_sales.drained` says "<epoch>/<last entry drained>", so a log that started over is
drained from its beginning. Redis must run with `maxmemory-policy noeviction`: an evicted key
would look like a lost sale. Claims granted but not yet drained when Redis is lost (less than a
second's worth, see drain.py) are lost with it unless Redis persists (appendonly yes).

Redis unreachable: every call raises StoreUnavailable and nothing is sold (the API answers 503).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Sequence
from importlib import resources
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import select, update

from livecompanion.clock import now_ms
from livecompanion.errors import NotFound
from livecompanion.sales.base import ClaimReply, Live, OrderMove, StoreUnavailable
from livecompanion.sales.rules import HOLDING, LATE_PAID, Claim, check_qty
from livecompanion.sales.store_sql import flag_late_paid, sales_of_orders
from livecompanion.storage.db import Database
from livecompanion.storage.redis_link import RespLink, run_script
from livecompanion.storage.tables import CLAIMS, FLASH_SALES, FlashSaleRow

FS = FLASH_SALES.c
CL = CLAIMS.c
KEEP_AFTER_END_MS = 3 * 24 * 3600 * 1000
MAX_BATCH = 500  # claims in one script call
REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError)
# `store_sql.sales_of_orders` on PostgreSQL, as one statement on a connection of the store's own.
PG_SALES_OF_ORDERS = (
    "SELECT c.order_id, c.sale_id FROM claims c JOIN flash_sales f ON f.id = c.sale_id"
    " WHERE f.stream_id = $1 AND c.order_id = ANY($2::varchar[]) ORDER BY c.id"
)


def lua(name: str) -> str:
    return resources.files("livecompanion.sales").joinpath("lua", name).read_text(encoding="utf-8")


def pack_claim(rank: int, qty: int, bonus: bool, status: str, claimed_ms: int, user_id: str,
               entry: str = "0-0") -> str:
    """A claim under its order_id in Redis; entry "0-0": loaded from the record (recorded already)."""
    return f"{rank} {qty} {int(bonus)} {status} {claimed_ms} {entry} {user_id}"


def connect(url: str, max_connections: int = 64) -> aioredis.Redis:
    """A client that fails fast: a claim must not wait for a Redis that is gone, and must never be
    retried blindly (a claim without order_id is not idempotent)."""
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=2, socket_connect_timeout=1, socket_timeout=2,
        retry=Retry(NoBackoff(), 0), socket_keepalive=True, client_name="livecompanion-sales",
    )
    return aioredis.Redis(connection_pool=pool)


class SaleKeys:
    __slots__ = ("held", "index", "lease", "log", "meta", "orders")

    def __init__(self, prefix: str, stream_id: str, sale_id: str) -> None:
        base = f"{prefix}fs:{{{stream_id}}}:"
        self.meta = f"{base}{sale_id}:meta"
        self.held = f"{base}{sale_id}:held"
        self.orders = f"{base}{sale_id}:orders"
        self.log = f"{base}{sale_id}:log"
        self.lease = f"{base}{sale_id}:drainer"
        self.index = f"{base}order-sale"

    def all(self) -> list[str]:
        return [self.meta, self.held, self.orders, self.log, self.index]

    def claim_keys(self) -> list[str]:
        """claim.lua's keys: all() and the drain lease (whose holder a grant wakes)."""
        return [*self.all(), self.lease]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisClaimStore:
    def __init__(self, db: Database, client: aioredis.Redis, prefix: str = "livecompanion:") -> None:
        self.db = db
        self.redis = client
        self.prefix = prefix
        self._claim = client.register_script(lua("claim.lua"))
        self._order = client.register_script(lua("order.lua"))
        self._stop = client.register_script(lua("stop.lua"))
        self._load = client.register_script(lua("load.lua"))
        self.lease = client.register_script(lua("lease.lua"))
        # The scripts and the drainer's pipelines go through a lean connection of the store's own
        # (storage/redis_link.py: ~1/3 of redis-py's CPU a command); the rest, and TLS deployments, through redis-py.
        self.link = RespLink.of(client)
        # The drainer of this process (drain.py sets it): a grant wakes the sale's drainer through
        # `wake_prefix + holder`, unless it is this one (told directly).
        self.drainer_id = ""
        self.wake_prefix = f"{prefix}fs:wake:"
        self._pending: dict[tuple[str, str], list[tuple[Any, ...]]] = {}  # claims waiting for a call
        self._calling: set[tuple[str, str]] = set()  # sales with a claim call under way
        # Orders Redis does not know are looked up in the record after every ingest flush with paid or
        # cancelled orders (most orders are not claims). Through SQLAlchemy's pool that was a checkout,
        # a ping, the query and a rollback: ~0.3 ms of CPU an order event in the evening's mix, a
        # fifth of ingest's CPU (scripts/bench_ingest_cpu.py). On PostgreSQL it is one statement on
        # own connections of the look-ups (`Database.own_connections`: closed with the record).
        self._lookups = db.own_connections("order-lookups", 2)

    @classmethod
    def from_url(cls, db: Database, url: str, prefix: str = "livecompanion:") -> RedisClaimStore:
        return cls(db, connect(url), prefix)

    def keys(self, stream_id: str, sale_id: str) -> SaleKeys:
        return SaleKeys(self.prefix, stream_id, sale_id)

    async def open_connections(self) -> None:
        """The order look-ups' connections opened and their statement made ready (before serving)."""
        if self._lookups is not None:
            await self._lookups.open(lambda conn: conn.fetch(PG_SALES_OF_ORDERS, "", []))

    async def close(self) -> None:
        if self.link is not None:
            await self.link.close()
        await self.redis.aclose()

    async def _call(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            return await run_script(self.link, script, keys, args)
        except REDIS_ERRORS as exc:
            raise StoreUnavailable(f"Redis is unreachable: {exc}") from None

    # ---- loading a sale from the record ----

    async def prepare(self, sale: FlashSaleRow) -> None:
        await self.load_from_record(sale.stream_id, sale.id)

    async def load_from_record(self, stream_id: str, sale_id: str) -> str:
        """Load the sale into Redis from the record unless Redis holds it; return the live epoch.

        The sale's row is locked (and its `drained` mark moved) while its claims are read, so a
        drainer still writing entries of a lost Redis log cannot commit them behind our back: its
        conditional update of `drained` fails, and those claims stay lost with that Redis, as the
        new one never heard of them either.
        """
        epoch = secrets.token_hex(6)
        keys = self.keys(stream_id, sale_id)
        async with self.db.engine.connect() as conn:
            tx = await conn.begin()
            try:
                sale = (await conn.execute(
                    update(FLASH_SALES).where(FS.id == sale_id, FS.stream_id == stream_id)
                    .values(drained=f"{epoch}/loading")
                    .returning(FS.stock, FS.next_rank, FS.first_n, FS.per_user_limit, FS.ends_ms,
                               FS.stopped_ms, FS.sold_out_ms)
                )).first()
                if sale is None:
                    raise NotFound(f"no flash sale '{sale_id}' in stream '{stream_id}'")
                claims = (await conn.execute(
                    select(CL.rank, CL.qty, CL.bonus, CL.status, CL.claimed_ms, CL.user_id, CL.order_id)
                    .where(CL.sale_id == sale_id)
                )).all()
                held: dict[str, int] = {}
                sold, next_rank = 0, sale.next_rank
                orders: list[str] = []
                for c in claims:
                    next_rank = max(next_rank, c.rank + c.qty)
                    if c.status in HOLDING:
                        sold += c.qty
                        held[c.user_id] = held.get(c.user_id, 0) + c.qty
                    if c.order_id is not None:
                        packed = pack_claim(c.rank, c.qty, c.bonus, c.status, c.claimed_ms, c.user_id)
                        orders += [c.order_id, packed]
                args: list[Any] = [
                    epoch, sale.stock, sold, next_rank, sale.first_n or 0, sale.per_user_limit, sale.ends_ms,
                    "" if sale.stopped_ms is None else sale.stopped_ms,
                    "" if sale.sold_out_ms is None else sale.sold_out_ms,
                    max(sale.ends_ms, now_ms()) + KEEP_AFTER_END_MS, sale_id, len(held),
                ]
                for user_id, units in held.items():
                    args += [user_id, units]
                live_epoch = _text(await self._call(self._load, keys.all(), args + orders))
                if live_epoch == epoch:
                    await conn.execute(
                        update(FLASH_SALES).where(FS.id == sale_id).values(drained=f"{epoch}/0-0")
                    )
                    await tx.commit()
                return live_epoch
            finally:
                if tx.is_active:
                    await tx.rollback()

    # ---- the decisions ----

    async def claim(self, stream_id: str, sale_id: str, user_id: str, qty: int,
                    order_id: str | None) -> ClaimReply:
        """Queue the claim for the sale's next script call; claims that arrive while a call is
        under way go together in the next one (each still decided whole, in arrival order)."""
        check_qty(qty)
        key = (stream_id, sale_id)
        future: asyncio.Future[ClaimReply] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(key, []).append((user_id, qty, order_id, future))
        if key not in self._calling:
            self._calling.add(key)
            asyncio.get_running_loop().create_task(self._call_claims(key))
        return await future

    async def _call_claims(self, key: tuple[str, str]) -> None:
        try:
            while self._pending.get(key):
                batch = self._pending.pop(key)[:]
                for start in range(0, len(batch), MAX_BATCH):
                    chunk = batch[start:start + MAX_BATCH]
                    try:
                        replies = await self._claims(key[0], key[1], chunk)
                    except BaseException as exc:
                        for *_, future in chunk:
                            if not future.done():
                                failed = exc if isinstance(exc, Exception) else StoreUnavailable(str(exc))
                                future.set_exception(failed)
                        if not isinstance(exc, Exception):
                            raise
                        continue
                    for (*_, future), reply in zip(chunk, replies):
                        if not future.done():
                            future.set_result(reply)
        finally:
            self._calling.discard(key)
            if self._pending.get(key):  # arrived while we were failing out: give them their own call
                self._calling.add(key)
                asyncio.get_running_loop().create_task(self._call_claims(key))

    def claim_call(self, stream_id: str, sale_id: str,
                   claims: Sequence[tuple[Any, ...]]) -> tuple[list[str], list[Any]]:
        """(keys, args) of claim.lua for these (user_id, qty, order_id, ...) claims."""
        args: list[Any] = [sale_id, stream_id, self.wake_prefix, self.drainer_id]
        for user_id, qty, order_id, *_ in claims:
            args += [user_id, qty, order_id or ""]
        return self.keys(stream_id, sale_id).claim_keys(), args

    async def _claims(self, stream_id: str, sale_id: str, chunk: list[tuple[Any, ...]]) -> list[ClaimReply]:
        keys, args = self.claim_call(stream_id, sale_id, chunk)
        reply = _text(await self._call(self._claim, keys, args))
        if reply == "nosale":
            await self.load_from_record(stream_id, sale_id)
            reply = _text(await self._call(self._claim, keys, args))
            if reply == "nosale":
                raise StoreUnavailable(f"flash sale '{sale_id}' vanished from Redis while loading it")
        head, *lines = reply.split("\n")
        epoch, _, lease_ms = head.partition(" ")
        held = int(lease_ms) if lease_ms and int(lease_ms) > 0 else None  # a woken holder's lease
        out = []
        for (user_id, _qty, order_id, _), line in zip(chunk, lines, strict=True):
            code, rank, qty, bonus, status, sold, stock, next_rank, entry = line.split(" ")
            claim = None
            if rank != "0" and code != "order_id_conflict":  # (a conflict's stored claim is someone else's)
                claim = Claim(int(rank), int(qty), bonus == "1", user_id, order_id, status)
            out.append(ClaimReply(code, claim, int(sold), int(stock), int(next_rank),
                                  f"{epoch}/{entry}" if entry != "-" else None, held))
        return out

    async def order_event(self, stream_id: str, order_id: str, status: str) -> OrderMove | None:
        async for _order_id, _status, moved in self.order_events(stream_id, [(order_id, status)]):
            return moved
        return None

    async def order_events(self, stream_id: str,
                           events: Sequence[tuple[str, str]]) -> AsyncIterator[tuple[str, str, OrderMove | None]]:
        """Each (order_id, status) applied in order. The sales of all the orders are looked up once:
        one HMGET of the stream's order index, one SQL query for the orders it does not hold (most
        orders of a show are not claims: issue 20 measured one HGET and one query per order)."""
        ids = list(dict.fromkeys(order_id for order_id, _ in events))
        if not ids:
            return
        index = f"{self.prefix}fs:{{{stream_id}}}:order-sale"
        try:
            if self.link is not None:  # the claim scripts' lean connection: one round trip, no pool
                (found,) = await self.link.pipeline([("HMGET", index, *ids)])
                if isinstance(found, Exception):
                    raise found
            else:
                found = await self.redis.hmget(index, ids)
        except REDIS_ERRORS as exc:
            raise StoreUnavailable(f"Redis is unreachable: {exc}") from None
        sale_of = {order_id: _text(sale) for order_id, sale in zip(ids, found, strict=True) if sale is not None}
        missing = [order_id for order_id in ids if order_id not in sale_of]
        if missing:
            sale_of.update(await self.sales_of_orders(stream_id, missing))
        for order_id, status in events:
            sale_id = sale_of.get(order_id)
            moved = None if sale_id is None else await self._order_move(stream_id, sale_id, order_id, status)
            yield order_id, status, moved

    async def sales_of_orders(self, stream_id: str, order_ids: Sequence[str]) -> dict[str, str]:
        """`store_sql.sales_of_orders` (order_id -> the first sale of the stream that claimed with it),
        on PostgreSQL without the pool."""
        if self._lookups is None:
            async with self.db.engine.connect() as conn:
                return await sales_of_orders(conn, stream_id, order_ids)
        out: dict[str, str] = {}
        async with self._lookups.acquire() as conn:
            rows = await conn.fetch(PG_SALES_OF_ORDERS, stream_id, list(order_ids))
        for order_id, sale_id in rows:
            out.setdefault(order_id, sale_id)
        return out

    async def _order_move(self, stream_id: str, sale_id: str, order_id: str, status: str) -> OrderMove | None:
        keys = self.keys(stream_id, sale_id)
        reply = await self._call(self._order, keys.all()[:4], [order_id, status])
        if _text(reply[0]) == "nosale":
            await self.load_from_record(stream_id, sale_id)
            reply = await self._call(self._order, keys.all()[:4], [order_id, status])
        move = _text(reply[0])
        if move in ("no_claim", "nosale"):
            return None
        rank, qty, bonus, cstatus, sold, stock, user = reply[1:8]
        claim = Claim(int(rank), int(qty), bool(int(bonus)), _text(user), order_id, _text(cstatus))
        if move == LATE_PAID:
            async with self.db.engine.begin() as conn:
                await flag_late_paid(conn, stream_id, order_id)
        return OrderMove(sale_id, move, claim, int(sold), int(stock))

    async def stop(self, stream_id: str, sale_id: str) -> int | None:
        keys = self.keys(stream_id, sale_id)
        stopped = int(await self._call(self._stop, [keys.meta, keys.log], []))
        if stopped == -1:
            await self.load_from_record(stream_id, sale_id)
            stopped = int(await self._call(self._stop, [keys.meta, keys.log], []))
        if stopped <= 0:
            return None
        # The drainer records it too; written now so the record says so at once.
        async with self.db.engine.begin() as conn:
            await conn.execute(
                update(FLASH_SALES).where(FS.id == sale_id, FS.stopped_ms.is_(None))
                .values(stopped_ms=stopped)
            )
        return stopped

    async def live(self, stream_id: str, sale_id: str) -> Live:
        keys = self.keys(stream_id, sale_id)
        fields = ("stock", "sold", "next_rank", "ends_ms", "stopped_ms", "sold_out_ms")
        try:
            values = await self.redis.hmget(keys.meta, fields)
            if values[0] is None:
                await self.load_from_record(stream_id, sale_id)
                values = await self.redis.hmget(keys.meta, fields)
        except REDIS_ERRORS as exc:
            raise StoreUnavailable(f"Redis is unreachable: {exc}") from None
        if values[0] is None:
            raise StoreUnavailable(f"flash sale '{sale_id}' vanished from Redis while loading it")
        n = [None if v is None else int(v) for v in values]
        return Live(n[0], n[1], n[2], n[3], n[4], n[5])  # type: ignore[arg-type]

