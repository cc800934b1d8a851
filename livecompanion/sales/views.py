"""The shapes a flash sale is shown in: on the screens (`flash_sales.<id>` of the live document),
in API answers and in the after-stream report. Pure: the service reads the rows and the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from livecompanion.sales.base import Live
from livecompanion.sales.rules import HOLDING, first_n_left, sale_status
from livecompanion.scripts.models import Script
from livecompanion.storage.tables import FlashSaleRow


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


def info_of(row: FlashSaleRow, script: Script) -> SaleInfo:
    """What does not change once the sale started: its row, and its product in the stream's script."""
    product = script.product(row.sku)
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


def report_entry(row: FlashSaleRow, claims: list[Any]) -> dict[str, Any]:
    """A sale in the shape analytics.extras.flash_sale_summary reads (claims over time).

    Claims are those that hold units (claimed or paid); released and late-paid claims are listed
    apart, under `released_claims`, so `sold` in the report is what the sale really sold.
    `claims`: `SaleRepository.claims` rows.
    """
    held = [cl for cl in claims if cl.status in HOLDING]
    return {
        "id": row.id, "sku": row.sku, "price": row.price, "stock": row.stock,
        "started_at": row.started_ms, "ends_at": row.stopped_ms or row.ends_ms,
        "first_n": row.first_n, "first_n_bonus": row.first_n_bonus,
        "per_user_limit": row.per_user_limit, "stopped_at": row.stopped_ms,
        "sold_out_at": row.sold_out_ms,
        "claims": [{"ts": cl.claimed_ms, "user_id": cl.user_id, "qty": cl.qty, "rank": cl.rank,
                    "bonus": bool(cl.bonus), "status": cl.status, "order_id": cl.order_id}
                   for cl in held],
        "released_claims": [{"ts": cl.claimed_ms, "user_id": cl.user_id, "qty": cl.qty, "rank": cl.rank,
                             "status": cl.status, "released_at": cl.released_ms}
                            for cl in claims if cl.status not in HOLDING],
    }
