"""A flash sale's claims against the shop's paid orders (對賬): who claimed and never paid, who paid
without a claim.

A claim is matched to a paid order by the claim's `order_id` (the idempotency key a bridge or
shop sends with the claim: the shop's order id, `<tid>:<oid>` for 有贊 line items), else by the
buyer (the claim's `user_id` equals the order's buyer) for an order of the sale's sku. Payments
counted for a sale are the paid orders of its sku whose paid time falls between the sale's start
and 30 minutes after its end (buyers finish paying after the countdown). Released claims (the
order was cancelled) are neither: the stock went back.

Pure; `reconcile` takes the sale record (analytics.extras shape, claims with `order_id`), its
start and end, and the report's paid orders (objects with order_id, ts, user, sku, qty, cents). Linear in claims and
payments: 20,000 claims against 20,000 payments, matched by buyer, took 0.19 s once on the shared
2-core machine.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

PAY_GRACE_MS = 30 * 60_000
LISTED = 50  # rows listed per side; the counts are always complete


class PaidLike(Protocol):
    order_id: str
    ts: int
    user: str
    sku: str
    qty: int
    cents: int


def reconcile(
    sale: Mapping[str, Any],
    start: int,
    end: int | None,
    paid: Iterable[PaidLike],
    alias: Callable[[str | None], str | None],
) -> dict[str, Any]:
    """The reconciliation of one sale that ran from `start` to `end` (epoch ms; None: still running)."""
    sku = sale.get("sku")
    until = (end if end is not None else start) + PAY_GRACE_MS
    payments = [p for p in paid if p.sku == sku and start <= p.ts <= until]
    by_order = {p.order_id: p for p in payments}
    by_buyer: dict[str, deque[PaidLike]] = {}
    for p in sorted(payments, key=lambda p: p.ts):
        by_buyer.setdefault(p.user, deque()).append(p)
    used: set[str] = set()
    unpaid: list[Mapping[str, Any]] = []
    matched = 0
    claims = [c for c in sale.get("claims") or () if isinstance(c, Mapping)]
    for claim in claims:
        order = by_order.get(str(claim.get("order_id"))) if claim.get("order_id") else None
        if order is None or order.order_id in used:
            # No order id (or not this sale's): the buyer's earliest payment not matched yet.
            queue = by_buyer.get(str(claim.get("user_id")), deque())
            while queue and queue[0].order_id in used:
                queue.popleft()
            order = queue[0] if queue else None
        if order is not None and order.order_id not in used:
            used.add(order.order_id)
            matched += 1
        else:
            unpaid.append(claim)
    unclaimed = [p for p in payments if p.order_id not in used]
    return {
        "claims": len(claims),
        "paid_orders": len(payments),
        "matched": matched,
        "claims_without_payment": len(unpaid),
        "payments_without_claim": len(unclaimed),
        "unpaid_claims": [
            {
                "viewer": alias(str(c.get("user_id")) if c.get("user_id") is not None else None),
                "order_id": c.get("order_id"),
                "qty": int(c.get("qty") or 1),
                "rank": c.get("rank"),
            }
            for c in unpaid[:LISTED]
        ],
        "unclaimed_payments": [
            {"order_id": p.order_id, "buyer": alias(p.user), "qty": p.qty, "amount": p.cents / 100}
            for p in unclaimed[:LISTED]
        ],
    }
