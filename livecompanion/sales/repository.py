"""Flash sales and their claims in the record, read and written on a session the caller owns.

    async with db.session() as session:
        sales = SaleRepository(session)
        sales.add(row)
        await session.commit()            # the service decides what is one transaction

Nothing here opens a session or commits. The claims themselves are written by the claim stores
(`store_sql.py`, or Redis + the drainer's writer `drain_write.py`): those are the hot path and keep
their own statements; this is everything else the service, the drainer's scan and the report read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, or_, select

from livecompanion.sales.rules import HOLDING
from livecompanion.storage.repository import StreamRowRepository
from livecompanion.storage.tables import CLAIMS, ClaimRow, FlashSaleRow, OrderRow

_CLAIMS = CLAIMS.c


class SaleRepository(StreamRowRepository[FlashSaleRow]):
    model = FlashSaleRow

    async def of_stream(self, stream_id: str) -> list[FlashSaleRow]:
        """The stream's sales, first started first."""
        return list(await self.session.scalars(
            select(FlashSaleRow).where(FlashSaleRow.stream_id == stream_id).order_by(FlashSaleRow.started_ms)
        ))

    async def running_of_sku(self, stream_id: str, sku: str, now: int) -> str | None:
        """The id of a sale of this sku in the stream that is still running (not stopped, not over)."""
        found = await self.session.scalar(select(FlashSaleRow.id).where(
            FlashSaleRow.stream_id == stream_id, FlashSaleRow.sku == sku,
            FlashSaleRow.stopped_ms.is_(None), FlashSaleRow.ends_ms > now,
        ).limit(1))
        return None if found is None else str(found)

    async def running(self, now: int) -> list[tuple[str, str, int]]:
        """(stream_id, sale_id, ends_ms) of every sale, of any instance, not stopped and not over."""
        rows = await self.session.execute(
            select(FlashSaleRow.stream_id, FlashSaleRow.id, FlashSaleRow.ends_ms)
            .where(FlashSaleRow.ends_ms > now, FlashSaleRow.stopped_ms.is_(None))
        )
        return [(r.stream_id, r.id, r.ends_ms) for r in rows]

    async def ended_after(self, since: int) -> dict[str, str]:
        """sale_id -> stream_id of the sales that end (or ended) after `since`."""
        rows = await self.session.execute(
            select(FlashSaleRow.id, FlashSaleRow.stream_id).where(FlashSaleRow.ends_ms > since)
        )
        return {r.id: r.stream_id for r in rows}

    async def claims_summary(self, sale_id: str) -> dict[str, Any]:
        """The claims the record holds for a sale (with Redis: those drained so far)."""
        c = _CLAIMS
        rows = (await self.session.execute(
            select(c.status, func.count(), func.sum(c.qty), func.sum(case((c.bonus, 1), else_=0)))
            .where(c.sale_id == sale_id).group_by(c.status)
        )).all()
        buyers = await self.session.scalar(
            select(func.count(func.distinct(c.user_id))).where(c.sale_id == sale_id, c.status.in_(HOLDING))
        )
        by_status = {status: {"claims": n, "units": _whole(units)} for status, n, units, _ in rows}
        return {
            "claims": sum(n for _, n, _, _ in rows),
            "units_held": sum(_whole(u) for s, _, u, _ in rows if s in HOLDING),
            "buyers": _whole(buyers),
            "bonus_claims": sum(_whole(b) for _, _, _, b in rows),
            "by_status": by_status,
        }

    async def claims(self, sale_id: str) -> list[Any]:
        """Every claim of the sale in rank order: claimed_ms, user_id, qty, rank, bonus, status,
        order_id, released_ms."""
        c = _CLAIMS
        return list((await self.session.execute(
            select(c.claimed_ms, c.user_id, c.qty, c.rank, c.bonus, c.status, c.order_id, c.released_ms)
            .where(c.sale_id == sale_id).order_by(c.rank)
        )).all())

    async def missed_order_statuses(self, since: int) -> list[tuple[str, str, str]]:
        """(stream_id, order_id, status) of orders whose latest status the claim with that order_id
        has not taken (sales ending after `since`): a claim still holding units for a cancelled order,
        or claimed/released for a paid one."""
        c, f, o = ClaimRow, FlashSaleRow, OrderRow
        rows = (await self.session.execute(
            select(f.stream_id, o.order_id, o.status)
            .select_from(c).join(f, f.id == c.sale_id)
            .join(o, and_(o.stream_id == f.stream_id, o.order_id == c.order_id))
            .where(f.ends_ms > since, or_(
                and_(c.status.in_(HOLDING), o.status == "cancelled"),
                and_(c.status.in_(("claimed", "released")), o.status == "paid"),
            ))
        )).all()
        return [(stream_id, order_id, status) for stream_id, order_id, status in rows]


def _whole(value: Any) -> int:
    """A SUM or COUNT as an int (NULL over no rows is 0; some drivers give Decimal)."""
    return int(value or 0)
