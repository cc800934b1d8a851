"""Flash sales as the service runs them: start, claim, stop, order events, screens, timers.

Wired by the composition root (`livecompanion/wiring.py`), which holds one `SalesService` and
registers its seams: `on_orders` as an order listener of ingest, `run_cue` as the `flash_sale`
cue runner and `load_section` as the `flash_sales` section loader. `report_records(db, stream_id)`
gives the after-stream report what it needs; `record_sale(db, stream_id, ...)` writes a new sale.

The claim store is Redis (store_redis.py, shared by every instance) when `redis_url` is set, else
the record itself (store_sql.py): `make_claim_store`. Screens get `flash_sales.<id>`
(views.overlay_value), pushed coalesced a few times a second and at once when the sale sells
out, comes back, stops or ends. The service opens a session for each unit of work and reads and
writes the record through `SaleRepository` (repository.py) on it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from livecompanion.bounded import trim
from livecompanion.clock import now_ms
from livecompanion.errors import Conflict, NotFound
from livecompanion.realtime import set_op
from livecompanion.realtime.coalesce import Coalescer
from livecompanion.realtime.push_gate import push_gate_of
from livecompanion.sales.base import ClaimReply, ClaimStore, Live, NotRecorded, StoreUnavailable
from livecompanion.sales.repository import SaleRepository
from livecompanion.sales.rules import GRANTED, MOVED_RELEASED, REPLAYED, UNCHANGED, check_terms
from livecompanion.sales.views import SaleInfo, info_of, live_of, overlay_value, report_entry
from livecompanion.scripts.models import Script
from livecompanion.storage.db import Database
from livecompanion.storage.tables import FlashSaleRow
from livecompanion.stream.machine import ended_error
from livecompanion.stream.repository import StreamRepository
from livecompanion.stream.service import apply
from livecompanion.tasks import cancel_and_wait

if TYPE_CHECKING:
    from livecompanion.config import Settings
    from livecompanion.core import Core

log = logging.getLogger(__name__)

DYNAMIC = ("stock", "remaining", "sold", "first_n_left", "status", "ends_at", "stopped_ms", "sold_out_ms")
TIMER_TICK = 0.5
SCAN_EVERY = 2.0
RECONCILE_EVERY = 15.0
SETTLED_MS = 60_000
KEEP_SALE_INFOS = 256  # sales whose static screen facts stay cached (read again from the record)
DURABLE_WAIT = 3.0  # seconds a granted claim waits for the record before the caller is told to retry


def make_claim_store(settings: Settings, db: Database) -> ClaimStore:
    """Redis (shared by every instance) when the deployment has it, else the record itself."""
    from livecompanion.sales.store_redis import RedisClaimStore
    from livecompanion.sales.store_sql import SqlClaimStore

    if settings.redis_url:
        return RedisClaimStore.from_url(db, settings.redis_url, settings.redis_prefix or "livecompanion:")
    return SqlClaimStore(db)


class SalesService:
    def __init__(self, core: Core, store: ClaimStore) -> None:
        from livecompanion.sales.drain import Drainer
        from livecompanion.sales.store_redis import RedisClaimStore

        self.core = core
        self.db: Database = core.db
        self.store = store
        self.drainer = Drainer(store) if isinstance(store, RedisClaimStore) else None
        self.board = Coalescer(self._read_screen, self._push_screen, name="flash-sale screens",
                               gate=push_gate_of(core.hub.redis, core.hub.prefix, "flash_sales", core.hub.link))
        self._infos: dict[str, SaleInfo] = {}
        self._ends: dict[tuple[str, str], int] = {}  # (stream, sale) -> ends_ms, until pushed as ended
        self._timer: asyncio.Task[None] | None = None

    # ---- lifecycle ----

    def start(self) -> None:
        if self._timer is None:
            self._timer = asyncio.create_task(self._run_timer(), name="flash-sale timer")
        self.board.start()
        if self.drainer is not None:
            self.drainer.start()

    async def open_connections(self) -> None:
        """The drainer's and the order look-ups' connections opened, their statements made ready."""
        from livecompanion.sales.store_redis import RedisClaimStore

        if isinstance(self.store, RedisClaimStore):
            await self.store.open_connections()
        if self.drainer is not None:
            await self.drainer.writer.open()

    async def close(self) -> None:
        await cancel_and_wait(self._timer)
        self._timer = None
        await self.board.close()
        if self.drainer is not None:
            await self.drainer.close()
        await self.store.close()

    # ---- operations ----

    async def create_sale(
        self, stream_id: str, *, sku: str, price: Decimal, stock: int, duration_seconds: int,
        first_n: int | None = None, first_n_bonus: str | None = None, per_user_limit: int = 1,
    ) -> dict[str, Any]:
        row = await record_sale(
            self.db, stream_id, sku=sku, price=price, stock=stock, duration_seconds=duration_seconds,
            first_n=first_n, first_n_bonus=first_n_bonus, per_user_limit=per_user_limit,
        )
        try:
            await self.store.prepare(row)
        except StoreUnavailable as exc:  # the first claim loads it once Redis is back
            log.warning("flash sale %s started without Redis (%s)", row.id, exc)
        info = await self._info(stream_id, row.id)
        value = overlay_value(info, live_of(row), now_ms())
        self._ends[(stream_id, row.id)] = row.ends_ms
        try:
            await self._apply(stream_id, [set_op(["flash_sales", row.id], value)])
        except Exception as exc:  # noqa: BLE001 - the sale runs; screens catch up on their next snapshot
            log.warning("flash sale %s: could not show it on the screens yet: %s", row.id, exc)
        return {"id": row.id, **value}

    async def claim(self, stream_id: str, sale_id: str, user_id: str, qty: int = 1,
                    order_id: str | None = None) -> ClaimReply:
        """Decide a claim; a granted (or replayed) claim returns once the record holds it.

        Raises StoreUnavailable (Redis down: nothing claimed) or NotRecorded (granted, but the
        record did not confirm in time: retry with the same order_id).
        """
        reply = await self.store.claim(stream_id, sale_id, user_id, qty, order_id)
        if reply.code == GRANTED:
            self.board.touch((stream_id, sale_id), urgent=reply.sold >= reply.stock)
        if (
            reply.entry is not None and self.drainer is not None and reply.code in (GRANTED, REPLAYED)
            and not await self.drainer.recorded(stream_id, sale_id, reply.entry, DURABLE_WAIT,
                                                reply.holder_lease_ms)
        ):
            raise NotRecorded(f"claim {reply.entry} of flash sale '{sale_id}' is not recorded yet")
        return reply

    async def stop(self, stream_id: str, sale_id: str) -> dict[str, Any]:
        stopped = await self.store.stop(stream_id, sale_id)
        if stopped is not None:
            if self.drainer is not None:
                self.drainer.touch(stream_id, sale_id)
            try:  # on the screens before the answer: the operator's Stop or End shows at once
                await self.board.push_now((stream_id, sale_id))
            except Exception as exc:  # noqa: BLE001 - stopped all the same; the coalescer retries
                log.warning("flash sale %s stopped; the screens will catch up: %s", sale_id, exc)
                self.board.touch((stream_id, sale_id), urgent=True)
        return await self.view(stream_id, sale_id)

    async def stop_running(self, stream_id: str) -> list[str]:
        """Stop every sale of the stream still running (the show ended): later claims get 410."""
        now = now_ms()
        stopped = []
        async with self.db.session() as session:
            rows = await SaleRepository(session).of_stream(stream_id)
        for row in rows:
            if row.stopped_ms is None and row.ends_ms > now:
                await self.stop(stream_id, row.id)
                stopped.append(row.id)
        return stopped

    async def on_orders(self, stream_id: str, orders: Iterable[Any]) -> None:
        """The order listener: paid and cancelled orders move their claims (a batch's claims looked
        up at once: one HMGET / one query, not one per order)."""
        events = [(order.order_id, order.status) for order in orders if order.status in ("cancelled", "paid")]
        if not events:
            return
        try:
            async for _order_id, _status, moved in self.store.order_events(stream_id, events):
                if moved is None or moved.move == UNCHANGED:
                    continue
                if self.drainer is not None:
                    self.drainer.touch(stream_id, moved.sale_id)
                if moved.move == MOVED_RELEASED:  # stock back: a sold-out sale is live again
                    was_sold_out = moved.sold + moved.claim.qty >= moved.stock
                    self.board.touch((stream_id, moved.sale_id), urgent=was_sold_out)
        except StoreUnavailable as exc:  # the periodic reconciliation applies the rest later
            log.warning("orders of stream %s not all applied to their claims yet: %s", stream_id, exc)

    # ---- reading ----

    async def _info(self, stream_id: str, sale_id: str) -> SaleInfo:
        info = self._infos.get(sale_id)
        if info is None or info.stream_id != stream_id:
            async with self.db.session() as session:
                row = await sale_row(SaleRepository(session), stream_id, sale_id)
                stream = await StreamRepository(session).get(stream_id)
            assert stream is not None  # a sale's stream is never deleted while the sale is
            trim(self._infos, KEEP_SALE_INFOS)
            info = self._infos[sale_id] = info_of(row, Script.model_validate(stream.script))
        return info

    async def _live(self, row: FlashSaleRow) -> tuple[Live, str]:
        """The sale's numbers: from the store while it runs (and a minute after, while late order
        events and the drain settle), from the record after that or when the store is down."""
        over = row.stopped_ms or row.ends_ms
        if now_ms() - over > SETTLED_MS:
            return live_of(row), "record"
        try:
            return await self.store.live(row.stream_id, row.id), "live"
        except StoreUnavailable:
            return live_of(row), "record"  # Redis down: what the record knows

    async def warm(self, stream_id: str) -> None:
        """What the first claims of the stream's running sales would read on this instance: each
        sale as its screens show it (livecompanion/warm.py)."""
        now = now_ms()
        for row in await self._rows(stream_id):
            if row.stopped_ms is None and row.ends_ms > now:
                await self._info(stream_id, row.id)

    async def view(self, stream_id: str, sale_id: str) -> dict[str, Any]:
        """A sale for the API: its screen value, where its numbers come from, its claims in the record."""
        async with self.db.session() as session:
            sales = SaleRepository(session)
            row = await sale_row(sales, stream_id, sale_id)
            recorded = await sales.claims_summary(sale_id)
        info = await self._info(stream_id, sale_id)
        live, source = await self._live(row)
        return {
            "id": sale_id, "stream_id": stream_id, **overlay_value(info, live, now_ms()),
            "next_rank": live.next_rank, "numbers_from": source, "record": recorded,
        }

    async def list_sales(self, stream_id: str) -> list[dict[str, Any]]:
        return [await self.view(stream_id, row.id) for row in await self._rows(stream_id)]

    async def screen_section(self, stream_id: str, now: int) -> dict[str, Any]:
        """`flash_sales` of the live document, rebuilt (numbers from the store, or the record)."""
        section = {}
        for row in await self._rows(stream_id):
            live, _ = await self._live(row)
            section[row.id] = overlay_value(await self._info(stream_id, row.id), live, now)
        return section

    async def _rows(self, stream_id: str) -> list[FlashSaleRow]:
        async with self.db.session() as session:
            return await SaleRepository(session).of_stream(stream_id)

    # ---- screens ----

    async def _read_screen(self, key: tuple[str, str]) -> tuple[str, dict[str, Any]] | None:
        stream_id, sale_id = key
        try:
            live = await self.store.live(stream_id, sale_id)
        except LookupError:
            return None
        value = overlay_value(await self._info(stream_id, sale_id), live, now_ms())
        return stream_id, {name: value[name] for name in DYNAMIC}

    async def _push_screen(self, stream_id: str, key: tuple[str, str], value: dict[str, Any]) -> None:
        sale_id = key[1]
        await self._apply(stream_id, [set_op(["flash_sales", sale_id, name], v) for name, v in value.items()])

    async def _apply(self, stream_id: str, ops: list[dict[str, Any]]) -> None:
        await apply(self.core, stream_id, ops)

    # ---- timers: end of sale on every screen, and order reconciliation ----

    async def _run_timer(self) -> None:
        loop = asyncio.get_running_loop()
        last_scan = last_reconcile = -1e9
        while True:
            try:
                if loop.time() - last_scan >= SCAN_EVERY:
                    await self._scan_ends()
                    last_scan = loop.time()
                now = now_ms()
                for key, ends in list(self._ends.items()):
                    if ends <= now:
                        del self._ends[key]
                        self.board.touch(key, urgent=True)
                if loop.time() - last_reconcile >= RECONCILE_EVERY:
                    last_reconcile = loop.time()
                    await self.reconcile_orders()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("flash-sale timer: a tick failed")
            nxt = min(self._ends.values(), default=None)
            wait = TIMER_TICK if nxt is None else min(TIMER_TICK, max(0.0, (nxt - now_ms()) / 1000))
            await asyncio.sleep(wait)

    async def _scan_ends(self) -> None:
        """Sales of any instance that are still running: their end is pushed by every instance."""
        async with self.db.session() as session:
            running = await SaleRepository(session).running(now_ms())
        for stream_id, sale_id, ends_ms in running:
            self._ends.setdefault((stream_id, sale_id), ends_ms)

    async def reconcile_orders(self, within_ms: int = 24 * 3600 * 1000) -> int:
        """Apply order statuses the claims have missed (e.g. a cancel that came while Redis was down).

        The orders table holds each order's latest status; a claim that still holds units for a
        cancelled order, or is claimed/released for a paid one, gets that status applied now.
        """
        async with self.db.session() as session:
            rows = await SaleRepository(session).missed_order_statuses(now_ms() - within_ms)
        for stream_id, order_id, status in rows:
            await self.on_orders(stream_id, [_OrderStatus(order_id, status)])
        return len(rows)

    # ---- the seams the composition root registers ----

    async def run_cue(self, stream_id: str, cue: dict[str, Any]) -> dict[str, Any]:
        """The `flash_sale` cue runner."""
        sale = await self.create_sale(
            stream_id, sku=cue["sku"], price=Decimal(str(cue["price"])), stock=cue["stock"],
            duration_seconds=cue["duration_seconds"], first_n=cue.get("first_n"),
            first_n_bonus=cue.get("first_n_bonus"), per_user_limit=cue.get("per_user_limit") or 1,
        )
        return {"id": sale["id"], "ends_at": sale["ends_at"]}

    async def load_section(self, stream_id: str, now: int) -> dict[str, Any]:
        """The `flash_sales` section loader (a document rebuilt from the record)."""
        return await self.screen_section(stream_id, now)


async def sale_row(sales: SaleRepository, stream_id: str, sale_id: str) -> FlashSaleRow:
    row = await sales.get(stream_id, sale_id)
    if row is None:
        raise NotFound(f"no flash sale '{sale_id}' in stream '{stream_id}'")
    return row


async def record_sale(db: Database, stream_id: str, *, sku: str, price: Decimal, stock: int,
                      duration_seconds: int, first_n: int | None, first_n_bonus: str | None,
                      per_user_limit: int) -> FlashSaleRow:
    """A new sale in the record (`Invalid` for bad terms, `NotFound` for an unknown stream)."""
    check_terms(price=price, stock=stock, duration_seconds=duration_seconds, first_n=first_n,
                per_user_limit=per_user_limit)
    async with db.session() as session:
        # The stream's row locked first: two starts of one sku, on any instances, check for a running
        # sale one after the other (contract section 5: never two at once, 409 `sale_running`).
        status = await StreamRepository(session).lock_status(stream_id)
        if status is None:
            raise NotFound(f"no stream '{stream_id}'")
        if status == "ended":
            raise ended_error()
        now = now_ms()
        running = await SaleRepository(session).running_of_sku(stream_id, sku, now)
        if running is not None:
            raise Conflict(
                "sale_running",
                f"商品 {sku} 已有一場秒殺在進行（{running}），先停止它再開新的 / a flash sale of {sku} is "
                "already running: stop it first", sale_id=running, sku=sku,
            )
        row = FlashSaleRow(
            id=secrets.token_hex(6), stream_id=stream_id, sku=sku, price=price, stock=stock, sold=0,
            next_rank=1, first_n=first_n, first_n_bonus=first_n_bonus, per_user_limit=per_user_limit,
            started_ms=now, ends_ms=now + duration_seconds * 1000,
        )
        SaleRepository(session).add(row)
        await session.commit()
    return row


async def report_sales(db: Database, stream_id: str) -> list[dict[str, Any]]:
    """The stream's sales in the shape analytics.extras.flash_sale_summary reads (views.report_entry)."""
    async with db.session() as session:
        sales = SaleRepository(session)
        return [report_entry(row, await sales.claims(row.id)) for row in await sales.of_stream(stream_id)]


class _OrderStatus:
    __slots__ = ("order_id", "status")

    def __init__(self, order_id: str, status: str) -> None:
        self.order_id = order_id
        self.status = status


async def report_records(db: Database, stream_id: str) -> dict[str, list[dict[str, Any]]]:
    """The records the after-stream report needs (analytics.extras shapes): flash sales with their
    claims over time, lotteries with entrant count, seed and winners."""
    from livecompanion.lottery.service import report_lotteries

    return {"flash_sales": await report_sales(db, stream_id),
            "lotteries": await report_lotteries(db, stream_id)}
