"""Flash sales in the record: create, read, summarise, and the after-stream report's records."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select

from livecompanion.errors import Invalid, NotFound
from livecompanion.sales.base import Live, now_ms
from livecompanion.sales.rules import HOLDING, first_n_left, sale_status
from livecompanion.storage.db import Database
from livecompanion.storage.tables import ClaimRow, FlashSaleRow, StreamRow

MAX_STOCK = 1_000_000
MAX_DURATION_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class SaleInfo:
    """What does not change once a sale has started (cached per process)."""

    id: str
    stream_id: str
    sku: str
    name: str
    list_price: Decimal | None
    price: Decimal
    benefits: list[str]
    stock: int
    first_n: int | None
    first_n_bonus: str | None
    per_user_limit: int
    started_ms: int
    ends_ms: int


def check_terms(*, price: Any, stock: Any, duration_seconds: Any, first_n: Any, per_user_limit: Any) -> None:
    """Bad terms -> ValueError naming the field (the API turns it into 422)."""
    def whole(name: str, value: Any, low: int, high: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Invalid(f"{name} must be an integer from {low} to {high:,}, got {value!r}")

    whole("stock", stock, 1, MAX_STOCK)
    whole("duration_seconds", duration_seconds, 1, MAX_DURATION_SECONDS)
    whole("per_user_limit", per_user_limit, 1, 1000)
    if first_n is not None:
        whole("first_n", first_n, 1, MAX_STOCK)
    if not isinstance(price, Decimal) or price < 0 or price != price.quantize(Decimal("0.01")):
        raise Invalid(f"price must be a non-negative amount with at most 2 decimals, got {price!r}")


async def create_sale(db: Database, stream_id: str, *, sku: str, price: Decimal, stock: int,
                      duration_seconds: int, first_n: int | None, first_n_bonus: str | None,
                      per_user_limit: int) -> FlashSaleRow:
    check_terms(price=price, stock=stock, duration_seconds=duration_seconds, first_n=first_n,
                per_user_limit=per_user_limit)
    now = now_ms()
    async with db.session() as session:
        if await session.get(StreamRow, stream_id) is None:
            raise NotFound(f"no stream '{stream_id}'")
        row = FlashSaleRow(
            id=secrets.token_hex(6), stream_id=stream_id, sku=sku, price=price, stock=stock, sold=0,
            next_rank=1, first_n=first_n, first_n_bonus=first_n_bonus, per_user_limit=per_user_limit,
            started_ms=now, ends_ms=now + duration_seconds * 1000,
        )
        session.add(row)
        await session.commit()
    return row


async def sale_row(db: Database, stream_id: str, sale_id: str) -> FlashSaleRow:
    async with db.session() as session:
        row = await session.get(FlashSaleRow, sale_id)
    if row is None or row.stream_id != stream_id:
        raise NotFound(f"no flash sale '{sale_id}' in stream '{stream_id}'")
    return row


async def sale_rows(db: Database, stream_id: str) -> list[FlashSaleRow]:
    async with db.session() as session:
        rows = await session.scalars(
            select(FlashSaleRow).where(FlashSaleRow.stream_id == stream_id).order_by(FlashSaleRow.started_ms)
        )
        return list(rows)


async def sale_info(db: Database, row: FlashSaleRow) -> SaleInfo:
    from livecompanion.storage.streams import get_script

    product = (await get_script(db, row.stream_id)).product(row.sku)
    return SaleInfo(
        id=row.id, stream_id=row.stream_id, sku=row.sku, name=product.name if product else row.sku,
        list_price=product.list_price if product else None, price=row.price,
        benefits=list(product.benefits) if product else [], stock=row.stock, first_n=row.first_n,
        first_n_bonus=row.first_n_bonus, per_user_limit=row.per_user_limit, started_ms=row.started_ms,
        ends_ms=row.ends_ms,
    )


def live_of(row: FlashSaleRow) -> Live:
    return Live(row.stock, row.sold, row.next_rank, row.ends_ms, row.stopped_ms, row.sold_out_ms)


def money(value: Decimal | None) -> int | float | None:
    """Money on screens and in API answers is a number (the record keeps the exact Decimal)."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def overlay_value(info: SaleInfo, live: Live, now: int) -> dict[str, Any]:
    """The sale as every screen shows it: `flash_sales.<id>` of the live document."""
    return {
        "sku": info.sku, "name": info.name, "list_price": money(info.list_price), "price": money(info.price),
        "benefits": info.benefits, "stock": live.stock, "remaining": live.stock - live.sold,
        "sold": live.sold, "first_n": info.first_n,
        "first_n_left": first_n_left(info.first_n, live.next_rank),
        "first_n_bonus": info.first_n_bonus, "per_user_limit": info.per_user_limit,
        "started_ms": info.started_ms, "ends_at": live.ends_ms, "stopped_ms": live.stopped_ms,
        "sold_out_ms": live.sold_out_ms,  # the first sell-out (a release may have put units back since)
        "status": sale_status(stock=live.stock, sold=live.sold, ends_ms=live.ends_ms,
                              stopped_ms=live.stopped_ms, now_ms=now),
    }


async def claims_summary(db: Database, sale_id: str) -> dict[str, Any]:
    """The claims the record holds for a sale (with Redis: those drained so far)."""
    c = ClaimRow.__table__.c
    async with db.engine.connect() as conn:
        rows = (await conn.execute(
            select(c.status, func.count(), func.sum(c.qty), func.sum(case((c.bonus, 1), else_=0)))
            .where(c.sale_id == sale_id).group_by(c.status)
        )).all()
        buyers = await conn.scalar(
            select(func.count(func.distinct(c.user_id))).where(c.sale_id == sale_id, c.status.in_(HOLDING))
        )
    by_status = {status: {"claims": n, "units": int(units or 0)} for status, n, units, _ in rows}
    return {
        "claims": sum(n for _, n, _, _ in rows),
        "units_held": sum(int(u or 0) for s, _, u, _ in rows if s in HOLDING),
        "buyers": int(buyers or 0),
        "bonus_claims": sum(int(b or 0) for _, _, _, b in rows),
        "by_status": by_status,
    }


async def report_sales(db: Database, stream_id: str) -> list[dict[str, Any]]:
    """Flash sales in the shape analytics.extras.flash_sale_summary reads (claims over time).

    Claims are those that hold units (claimed or paid); released and late-paid claims are listed
    apart, under `released_claims`, so `sold` in the report is what the sale really sold.
    """
    c = ClaimRow.__table__.c
    out = []
    for row in await sale_rows(db, stream_id):
        async with db.engine.connect() as conn:
            claims = (await conn.execute(
                select(c.claimed_ms, c.user_id, c.qty, c.rank, c.bonus, c.status, c.order_id, c.released_ms)
                .where(c.sale_id == row.id).order_by(c.rank)
            )).all()
        held = [cl for cl in claims if cl.status in HOLDING]
        out.append({
            "id": row.id, "sku": row.sku, "price": row.price, "stock": row.stock,
            "started_at": row.started_ms, "ends_at": row.stopped_ms or row.ends_ms,
            "first_n": row.first_n, "first_n_bonus": row.first_n_bonus,
            "per_user_limit": row.per_user_limit, "stopped_at": row.stopped_ms,
            "sold_out_at": row.sold_out_ms,
            "claims": [{"ts": cl.claimed_ms, "user_id": cl.user_id, "qty": cl.qty, "rank": cl.rank,
                        "bonus": bool(cl.bonus), "status": cl.status} for cl in held],
            "released_claims": [{"ts": cl.claimed_ms, "user_id": cl.user_id, "qty": cl.qty, "rank": cl.rank,
                                 "status": cl.status, "released_at": cl.released_ms}
                                for cl in claims if cl.status not in HOLDING],
        })
    return out
