"""What the report says about shop orders: unmapped items, orders without items, orders outside the live window.

The decision on orders outside the stream. A shop pushes every order of the shop, whenever it is
placed: yesterday's order paid this morning, a refund three days after the show. The live window
of a stream runs from 30 minutes before its first live activity (the first event that is not an
order: a segment going live, a comment, a viewer count) to 2 hours after its last one; buyers
who watched still pay in the minutes after the show, and pre-orders open before it. An order
whose paid event (else its first event) falls outside that window is kept in the log and in the
figures - a refund later is still a refund of the show's order - and is counted here, before and
after, with its amount, so a reviewer sees how much of the GMV was not placed during the show.

Pure: it reads the report's event table (analytics.columns.EventTable) and returns a JSON-ready dict.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from livecompanion.shops.common import UNKNOWN_ITEM, UNMAPPED_PREFIX

BEFORE_MS = 30 * 60_000
AFTER_MS = 2 * 3_600_000


class _Table(Protocol):
    columns: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LiveWindow:
    start_ms: int
    end_ms: int


def live_window(table: _Table) -> LiveWindow | None:
    """The live window (module docstring) of a table, None when it holds orders only (or nothing)."""
    spans = [(c.ts[0], c.ts[-1]) for name, c in table.columns.items()
             if name not in ("orders", "alerts") and len(c)]  # the service's alerts are not the stream
    if not spans:
        return None
    return LiveWindow(min(s for s, _ in spans) - BEFORE_MS, max(e for _, e in spans) + AFTER_MS)


def _orders(rows: Iterable[tuple[int, Any, tuple[Any, ...]]]) -> dict[str, tuple[int, str, int, bool]]:
    """order_id -> (ts of its first paid event else of its first event, sku, cents, paid)."""
    found: dict[str, tuple[int, str, int, bool]] = {}
    for ts, _user, (order_id, sku, _qty, cents, status) in rows:
        seen = found.get(order_id)
        if seen is None or (status == "paid" and not seen[3]):
            found[order_id] = (ts, sku, cents, status == "paid")
    return found


def shop_orders_quality(table: _Table) -> dict[str, Any]:
    """The report's `shop_orders` object (see docs/bridges.md, Shops)."""
    orders_column = table.columns.get("orders")
    rows = (
        zip(orders_column.ts, orders_column.users, orders_column.values) if orders_column is not None else ()
    )
    orders = _orders(rows)
    window = live_window(table)
    outside_orders = {"before": 0, "after": 0}
    outside_paid = {"before": Decimal(0), "after": Decimal(0)}
    unmapped: dict[tuple[str, str], list[Any]] = {}
    without_item: dict[str, int] = {}
    for ts, sku, cents, paid in orders.values():
        if window is not None and not window.start_ms <= ts <= window.end_ms:
            side = "before" if ts < window.start_ms else "after"
            outside_orders[side] += 1
            if paid:
                outside_paid[side] += Decimal(cents) / 100
        if sku.startswith(UNMAPPED_PREFIX):
            shop, _, product = sku[len(UNMAPPED_PREFIX) :].partition(":")
            if product == UNKNOWN_ITEM:
                without_item[shop] = without_item.get(shop, 0) + 1
                continue
            entry = unmapped.setdefault((shop, product), [0, Decimal(0)])
            entry[0] += 1
            entry[1] += Decimal(cents) / 100 if paid else 0
    return {
        "live_window": None
        if window is None
        else {
            "start_ms": window.start_ms,
            "end_ms": window.end_ms,
            "before_minutes": 30,
            "after_minutes": 120,
        },
        "outside_live_window": {
            **outside_orders,
            "paid_amount_before": float(outside_paid["before"]),
            "paid_amount_after": float(outside_paid["after"]),
        },
        "unmapped_items": [
            {"shop": shop, "product_id": product, "orders": n, "paid_amount": float(amount)}
            for (shop, product), (n, amount) in sorted(unmapped.items())
        ],
        "orders_without_item": without_item,
    }
