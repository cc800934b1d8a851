"""Shopify order webhooks: verify the signature, then one `order` event per line item.

Why per line item: the contract's order has one `sku` and one `qty`. One event per Shopify order
would have to drop every sku but the first, so a flash sale's sell-through and `items_sold` would
be wrong whenever a buyer takes two products. Per line item, `sku`, `qty` and `items_sold` are
right, and the line items' `amount`s add up to the order's `total_price` exactly (the total,
shipping and taxes included, is shared out in proportion to each line's price after its own
discounts; leftover cents go to the last line), so `gmv` is right too. The price: `orders` and
`buyer_uv` count line items and buyers (like the sub-orders, 子訂單, of Chinese shop back-ends),
so `aov` is per line item. `order_id` is `<order id>:<line item id>`.

| topic | status | ts |
| --- | --- | --- |
| orders/create | created | created_at |
| orders/paid | paid | updated_at (the payment), else processed_at |
| orders/cancelled | cancelled | cancelled_at |
| orders/updated with financial_status `refunded` | refunded | updated_at |
| anything else, and orders/updated in other states | nothing | |

`user_id` is the Shopify customer id (an order without a customer is its own buyer,
`shopify-guest-<order id>`). No name, e-mail or address leaves the payload. Event ids are
`shopify:<topic>:<order id>:<line item id>`, so a re-delivered webhook changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal
from typing import Any

from livecompanion.ingest.bridges._common import (
    Event,
    as_id,
    as_int,
    as_mapping,
    epoch_ms,
    event,
    need_id,
    parse_amount,
)

PLATFORM = "shopify"
CENT = Decimal("0.01")
_STATUS = {"orders/create": "created", "orders/paid": "paid", "orders/cancelled": "cancelled"}


def verify_shopify_hmac(raw_body: bytes, header_value: str, secret: str) -> bool:
    """Whether `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body under the app's
    secret. Compare before parsing the body; the comparison takes constant time."""
    if not isinstance(raw_body, (bytes, bytearray)) or not header_value or not secret:
        return False
    digest = hmac.new(secret.encode("utf-8"), bytes(raw_body), hashlib.sha256).digest()
    expected = base64.b64encode(digest)
    try:
        given = header_value.strip().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, given)


def _line_net(line: Mapping[str, Any], where: str) -> Decimal:
    qty = as_int(line.get("quantity"), f"{where}.quantity")
    gross = parse_amount(line.get("price"), f"{where}.price") * qty
    allocations = line.get("discount_allocations")
    if isinstance(allocations, list):
        discount = sum(
            (
                parse_amount(
                    as_mapping(a, f"{where}.discount_allocations[{i}]").get("amount"),
                    f"{where}.discount_allocations[{i}].amount",
                )
                for i, a in enumerate(allocations)
            ),
            Decimal(0),
        )
    else:
        discount = parse_amount(line.get("total_discount", "0"), f"{where}.total_discount")
    return max(gross - discount, Decimal(0))


def share_total(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """`total` split in proportion to `weights`, to the cent, adding up to `total` exactly."""
    if not weights:
        return []
    weight_sum = sum(weights, Decimal(0))
    if weight_sum == 0:
        weights, weight_sum = [Decimal(1)] * len(weights), Decimal(len(weights))
    shares = [(total * w / weight_sum).quantize(CENT, rounding=ROUND_DOWN) for w in weights]
    shares[-1] += total - sum(shares, Decimal(0))
    return shares


def _sku(line: Mapping[str, Any]) -> str:
    sku = line.get("sku")
    if isinstance(sku, str) and sku.strip():
        return sku.strip()[:100]
    for field, prefix in (("variant_id", "variant"), ("product_id", "product"), ("id", "line")):
        value = as_id(line.get(field), f"line item {field}", required=False)
        if value:
            return f"shopify-{prefix}-{value}"
    raise ValueError("line item: no sku, variant_id, product_id or id")


def map_shopify_order(topic: str, payload: Mapping[str, Any]) -> list[Event]:
    """Events for one order webhook (`X-Shopify-Topic` and the parsed body); [] for other topics."""
    payload = as_mapping(payload, "order")
    if topic == "orders/updated":
        if payload.get("financial_status") != "refunded":
            return []
        status = "refunded"
        ts_fields: tuple[str, ...] = ("updated_at",)
    elif topic in _STATUS:
        status = _STATUS[topic]
        ts_fields = {
            "created": ("created_at",),
            "paid": ("updated_at", "processed_at"),
            "cancelled": ("cancelled_at", "updated_at"),
        }[status]
    else:
        return []
    order_id = need_id(payload.get("id"), "id")
    ts = None
    for field in ts_fields:
        ts = epoch_ms(payload.get(field), field)
        if ts is not None:
            break
    customer = payload.get("customer")
    customer_id = (
        as_id(as_mapping(customer, "customer").get("id"), "customer.id", required=False) if customer else None
    )
    user_id = customer_id or f"shopify-guest-{order_id}"
    total = parse_amount(payload.get("total_price"), "total_price")
    lines = payload.get("line_items")
    if not isinstance(lines, list) or not lines:
        raise ValueError("line_items: expected a non-empty list")
    kept: list[tuple[Mapping[str, Any], str, int]] = []
    for index, raw in enumerate(lines):
        where = f"line_items[{index}]"
        line = as_mapping(raw, where)
        qty = as_int(line.get("quantity"), f"{where}.quantity")
        if qty > 0:
            kept.append((line, where, qty))
    if not kept:
        raise ValueError("line_items: no line with a positive quantity")
    amounts = share_total(total, [_line_net(line, where) for line, where, _ in kept])
    events: list[Event] = []
    for (line, where, qty), amount in zip(kept, amounts):
        line_id = need_id(line.get("id"), f"{where}.id")
        events.append(
            event(
                "order",
                PLATFORM,
                id=f"{PLATFORM}:{topic}:{order_id}:{line_id}",
                ts=ts,
                user_id=user_id,
                order_id=f"{order_id}:{line_id}",
                sku=_sku(line),
                qty=min(qty, 1_000_000),
                amount=str(amount),
                status=status,
            )
        )
    return events
