"""What ingest reads back from the record, on a session the caller owns: whether a stream exists
(before accepting its events) and the stored events and orders the live numbers are rebuilt from
after a restart (`seed.py`).

Events are WRITTEN by the group-commit store (`store_pg.py`: COPY on asyncpg, or `store_sqlite.py`:
SQLAlchemy on SQLite), the hot path, which keeps its own connections and statements; this is the cold side.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import ScalarResult, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from livecompanion.storage.tables import EventRow, FlashSaleRow, OrderRow

CHUNK = 2_000  # rows fetched at a time from a stream's event log

_PAID = OrderRow.paid_ts_ms.is_not(None)


class EventLogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def comments_in_context(self, stream_id: str) -> AsyncIterator[list[tuple[str, dict[str, Any]]]]:
        """(type, body) of the stream's comments, orders and product explanations in arrival order,
        in chunks of CHUNK: comments, and what tells whether the room was selling when they came."""
        result = await self.session.stream(
            select(EventRow.type, EventRow.body)
            .where(EventRow.stream_id == stream_id,
                   EventRow.type.in_(("comment", "order", "product_explain")))
            .order_by(EventRow.seq)
            .execution_options(yield_per=CHUNK)
        )
        async for chunk in result.partitions(CHUNK):
            yield cast(list[tuple[str, dict[str, Any]]], list(chunk))

    async def flash_sales(self, stream_id: str) -> list[tuple[str, int, int, int | None, int | None, int, int]]:
        """(id, started_ms, ends_ms, stopped_ms, sold_out_ms, sold, stock) of the stream's flash sales:
        when each made the room sell (selling.sale_window)."""
        f = FlashSaleRow
        rows = await self.session.execute(
            select(f.id, f.started_ms, f.ends_ms, f.stopped_ms, f.sold_out_ms, f.sold, f.stock)
            .where(f.stream_id == stream_id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]

    async def room_moves(self, stream_id: str) -> AsyncIterator[list[tuple[str, str]]]:
        """(user_id, "enter" | "leave") of the stream in arrival order, in chunks of CHUNK."""
        result = await self.session.stream(
            select(EventRow.user_id, EventRow.type)
            .where(EventRow.stream_id == stream_id, EventRow.type.in_(("enter", "leave")))
            .order_by(EventRow.seq)
            .execution_options(yield_per=CHUNK)
        )
        async for part in result.partitions(CHUNK):
            yield cast(list[tuple[str, str]], list(part))  # enter and leave always have a user_id

    async def latest_viewer_count(self, stream_id: str) -> dict[str, Any] | None:
        """The body of the stream's latest `viewer_count` event (by ts, then arrival)."""
        return await self.session.scalar(
            select(EventRow.body)
            .where(EventRow.stream_id == stream_id, EventRow.type == "viewer_count")
            .order_by(EventRow.ts_ms.desc(), EventRow.seq.desc())
            .limit(1)
        )

    async def paid_orders_total(self, stream_id: str) -> tuple[int, Decimal | int]:
        """(orders that reached paid, the sum of their amounts)."""
        count, total = (await self.session.execute(
            select(func.count(), func.coalesce(func.sum(OrderRow.amount), 0))
            .where(OrderRow.stream_id == stream_id, _PAID)
        )).one()
        return int(count), total

    async def latest_paid_orders(self, stream_id: str, limit: int) -> list[Any]:
        """order_id, user_id, sku, qty, paid_ts_ms of the last `limit` paid orders, latest first."""
        return list((await self.session.execute(
            select(OrderRow.order_id, OrderRow.user_id, OrderRow.sku, OrderRow.qty, OrderRow.paid_ts_ms)
            .where(OrderRow.stream_id == stream_id, _PAID)
            .order_by(OrderRow.paid_ts_ms.desc())
            .limit(limit)
        )).all())

    async def paid_order_nicknames(self, stream_id: str, paid_ts: set[int]) -> dict[str, str]:
        """order_id -> the buyer's nickname, from the `paid` order events at these ts."""
        if not paid_ts:
            return {}
        bodies: ScalarResult[dict[str, Any]] = await self.session.scalars(
            select(EventRow.body).where(
                EventRow.stream_id == stream_id, EventRow.type == "order", EventRow.ts_ms.in_(sorted(paid_ts))
            )
        )
        return {b["order_id"]: b["nickname"] for b in bodies if b.get("status") == "paid" and b.get("nickname")}
