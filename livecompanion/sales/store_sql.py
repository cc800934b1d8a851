"""Claims in the record alone (no Redis): SQLite or PostgreSQL, one transaction per claim.

The claim transaction starts with the conditional UPDATE

    UPDATE flash_sales SET sold = sold + :q, next_rank = next_rank + :q, ...
     WHERE id = :sale AND sold + :q <= stock AND stopped_ms IS NULL AND ends_ms > :now
    RETURNING sold, next_rank, ...

so stock cannot be oversold: the database decides `sold + q <= stock` on the row it is changing.
Starting with the write matters twice: on PostgreSQL it takes the sale's row lock, so the
idempotency lookup and the per-user count that follow see every claim committed before ours (a
concurrent claim waits for our commit); on SQLite it takes the write lock before anything is read
(a read first would make the later write fail with "database is locked" under concurrency).
Any refusal after the UPDATE (replay, per-user limit) rolls the whole transaction back, so no step
can leak stock. The claim row is inserted in the same transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import case, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from livecompanion.clock import now_ms
from livecompanion.errors import NotFound
from livecompanion.sales.base import ClaimReply, Live, OrderMove
from livecompanion.sales.rules import (
    CLAIMED,
    ENDED,
    GRANTED,
    LATE_PAID,
    LIMIT_REACHED,
    ORDER_CONFLICT,
    RELEASED,
    REPLAYED,
    SOLD_OUT,
    UNCHANGED,
    Claim,
    bonus_for,
    check_qty,
    order_move,
)
from livecompanion.storage.db import Database
from livecompanion.storage.tables import CLAIMS, FLASH_SALES, FlashSaleRow, OrderRow

FS = FLASH_SALES.c
CL = CLAIMS.c
FLAG_LATE_PAID = "paid after its flash-sale claim was released"

# Read after the sale's row is ours (PostgreSQL: locked; SQLite: the write lock), so it sees every
# claim committed before: the claim under this order_id, and the units this user holds.
_LOOKUP = text("""
    SELECT c.rank, c.qty, c.bonus, c.user_id, c.status,
           (SELECT COALESCE(SUM(h.qty), 0) FROM claims h
             WHERE h.sale_id = :sale AND h.user_id = :user AND h.status IN ('claimed', 'paid')) AS held
      FROM (SELECT 1 AS one) AS x
      LEFT JOIN claims c ON c.sale_id = :sale AND c.order_id = :order""")


def _claim_of(row: object, order_id: str | None) -> Claim:
    return Claim(row.rank, row.qty, bool(row.bonus), row.user_id, order_id, row.status)  # type: ignore[attr-defined]


async def flag_late_paid(conn: AsyncConnection, stream_id: str, order_id: str) -> None:
    await conn.execute(
        update(OrderRow).where(OrderRow.stream_id == stream_id, OrderRow.order_id == order_id)
        .values(flagged=FLAG_LATE_PAID)
    )


IN_CHUNK = 500  # order ids in one `IN (...)`


async def sales_of_orders(conn: AsyncConnection, stream_id: str, order_ids: Sequence[str]) -> dict[str, str]:
    """order_id -> the first sale of the stream that claimed with it, for the ids that have a claim:
    one query for a batch's orders (most of them not claims at all)."""
    out: dict[str, str] = {}
    for i in range(0, len(order_ids), IN_CHUNK):
        rows = await conn.execute(
            select(CL.order_id, CL.sale_id)
            .select_from(CLAIMS.join(FLASH_SALES, FS.id == CL.sale_id))
            .where(FS.stream_id == stream_id, CL.order_id.in_(order_ids[i:i + IN_CHUNK])).order_by(CL.id)
        )
        for order_id, sale_id in rows:
            out.setdefault(str(order_id), str(sale_id))
    return out


class SqlClaimStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        # Claims on one sale queue here, in the process, rather than in the database: one
        # transaction at a time holds the sale's row, and nobody sleeps in SQLite's busy handler.
        # (Correctness does not depend on it: other processes are kept out by the database.)
        self._queues: dict[str, asyncio.Lock] = {}

    async def prepare(self, sale: FlashSaleRow) -> None:
        return None  # the record is the store

    async def close(self) -> None:
        return None

    async def live(self, stream_id: str, sale_id: str) -> Live:
        async with self.db.engine.connect() as conn:
            return await self._live(conn, stream_id, sale_id)

    async def _live(self, conn: AsyncConnection, stream_id: str, sale_id: str) -> Live:
        row = (await conn.execute(
            select(FS.stock, FS.sold, FS.next_rank, FS.ends_ms, FS.stopped_ms, FS.sold_out_ms)
            .where(FS.id == sale_id, FS.stream_id == stream_id)
        )).first()
        if row is None:
            raise NotFound(f"no flash sale '{sale_id}' in stream '{stream_id}'")
        return Live(row.stock, row.sold, row.next_rank, row.ends_ms, row.stopped_ms, row.sold_out_ms)

    async def _lookup(self, conn: AsyncConnection, sale_id: str, user_id: str,
                      order_id: str | None) -> Any:
        """One round trip: the claim already made under this order_id (if any) and the user's units held."""
        return (await conn.execute(_LOOKUP, {"sale": sale_id, "user": user_id, "order": order_id})).one()

    async def claim(self, stream_id: str, sale_id: str, user_id: str, qty: int,
                    order_id: str | None) -> ClaimReply:
        check_qty(qty)
        if self.db.dialect_name != "sqlite":
            return await self._claim_retrying(stream_id, sale_id, user_id, qty, order_id)
        queue = self._queues.get(sale_id)
        if queue is None:
            queue = self._queues[sale_id] = asyncio.Lock()
        async with queue:
            return await self._claim_retrying(stream_id, sale_id, user_id, qty, order_id)

    async def _claim_retrying(self, stream_id: str, sale_id: str, user_id: str, qty: int,
                              order_id: str | None) -> ClaimReply:
        try:
            return await self._claim(stream_id, sale_id, user_id, qty, order_id)
        except IntegrityError:
            # Only a concurrent claim with the same order_id (another process) can get here;
            # ours was rolled back whole, and the retry finds theirs and replays it.
            return await self._claim(stream_id, sale_id, user_id, qty, order_id)

    async def _claim(self, stream_id: str, sale_id: str, user_id: str, qty: int,
                     order_id: str | None) -> ClaimReply:
        now = now_ms()
        async with self.db.engine.connect() as conn:
            tx = await conn.begin()
            try:
                took = (await conn.execute(
                    update(FLASH_SALES)
                    .where(FS.id == sale_id, FS.stream_id == stream_id, FS.sold + qty <= FS.stock,
                           FS.stopped_ms.is_(None), FS.ends_ms > now)
                    .values(sold=FS.sold + qty, next_rank=FS.next_rank + qty,
                            sold_out_ms=case((FS.sold + qty >= FS.stock, func.coalesce(FS.sold_out_ms, now)),
                                             else_=FS.sold_out_ms))
                    .returning(FS.sold, FS.next_rank, FS.stock, FS.first_n, FS.per_user_limit)
                )).first()
                found = await self._lookup(conn, sale_id, user_id, order_id)
                if found.rank is not None:  # this order_id has its claim already: the same answer
                    await tx.rollback()
                    live = await self._live(conn, stream_id, sale_id)
                    same = found.user_id == user_id and found.qty == qty
                    return ClaimReply(REPLAYED if same else ORDER_CONFLICT, _claim_of(found, order_id),
                                      live.sold, live.stock, live.next_rank)
                if took is None:
                    sale = (await conn.execute(
                        select(FS.stock, FS.sold, FS.next_rank, FS.ends_ms, FS.stopped_ms, FS.per_user_limit)
                        .where(FS.id == sale_id, FS.stream_id == stream_id)
                    )).first()
                    await tx.rollback()
                    if sale is None:
                        raise NotFound(f"no flash sale '{sale_id}' in stream '{stream_id}'")
                    if sale.stopped_ms is not None or now >= sale.ends_ms:
                        code = ENDED
                    elif found.held + qty > sale.per_user_limit:
                        code = LIMIT_REACHED
                    else:
                        code = SOLD_OUT
                    return ClaimReply(code, None, sale.sold, sale.stock, sale.next_rank)
                if found.held + qty > took.per_user_limit:
                    await tx.rollback()  # gives back the units the UPDATE took
                    return ClaimReply(LIMIT_REACHED, None, took.sold - qty, took.stock, took.next_rank - qty)
                rank = took.next_rank - qty
                claim = Claim(rank, qty, bonus_for(rank, took.first_n), user_id, order_id)
                await conn.execute(insert(CLAIMS).values(
                    sale_id=sale_id, user_id=user_id, order_id=order_id, qty=qty, rank=rank,
                    bonus=claim.bonus, status=CLAIMED, claimed_ms=now,
                ))
                await tx.commit()
                return ClaimReply(GRANTED, claim, took.sold, took.stock, took.next_rank)
            finally:
                if tx.is_active:
                    await tx.rollback()

    async def order_events(self, stream_id: str,
                           events: Sequence[tuple[str, str]]) -> AsyncIterator[tuple[str, str, OrderMove | None]]:
        """Each (order_id, status) applied in order; the orders with a claim found in one query."""
        ids = list(dict.fromkeys(order_id for order_id, _ in events))
        if not ids:
            return
        async with self.db.engine.connect() as conn:
            claimed = await sales_of_orders(conn, stream_id, ids)
        for order_id, status in events:
            yield order_id, status, (await self.order_event(stream_id, order_id, status)
                                     if order_id in claimed else None)

    async def order_event(self, stream_id: str, order_id: str, status: str) -> OrderMove | None:
        for _ in range(5):  # a lost race with another order event for the same claim: look again
            async with self.db.engine.connect() as conn:
                row = (await conn.execute(
                    select(CL.id, CL.sale_id, CL.rank, CL.qty, CL.bonus, CL.user_id, CL.status)
                    .select_from(CLAIMS.join(FLASH_SALES, FS.id == CL.sale_id))
                    .where(FS.stream_id == stream_id, CL.order_id == order_id)
                    .order_by(CL.id).limit(1)
                )).first()
                if row is None:
                    return None
                new = order_move(row.status, status)
                if new is None:
                    live = await self._live(conn, stream_id, row.sale_id)
                    return OrderMove(row.sale_id, UNCHANGED, _claim_of(row, order_id), live.sold, live.stock)
                moved = await conn.execute(
                    update(CLAIMS).where(CL.id == row.id, CL.status == row.status)
                    .values(status=new, **({"released_ms": now_ms()} if new == RELEASED else {}))
                )
                if moved.rowcount != 1:
                    await conn.rollback()
                    continue
                if new == RELEASED:
                    await conn.execute(
                        update(FLASH_SALES).where(FS.id == row.sale_id)
                        .values(sold=FS.sold - row.qty)
                    )
                elif new == LATE_PAID:
                    await flag_late_paid(conn, stream_id, order_id)
                live = await self._live(conn, stream_id, row.sale_id)
                await conn.commit()
                claim = Claim(row.rank, row.qty, bool(row.bonus), row.user_id, order_id, new)
                return OrderMove(row.sale_id, new, claim, live.sold, live.stock)
        raise RuntimeError(f"order {order_id!r}: its claim kept changing under us")

    async def stop(self, stream_id: str, sale_id: str) -> int | None:
        now = now_ms()
        async with self.db.engine.begin() as conn:
            done = await conn.execute(
                update(FLASH_SALES)
                .where(FS.id == sale_id, FS.stream_id == stream_id, FS.stopped_ms.is_(None), FS.ends_ms > now)
                .values(stopped_ms=now)
            )
            if done.rowcount == 1:
                return now
            await self._live(conn, stream_id, sale_id)  # LookupError when there is no such sale
            return None

