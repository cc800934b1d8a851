"""The generic signed order webhook: any shop or script can push orders in one documented shape.

`POST /api/streams/{id}/webhooks/generic`, header `X-LiveCompanion-Signature: sha256=<hex>`,
the HMAC-SHA256 of the raw body under `LIVECOMPANION_SHOP_WEBHOOK_SECRET`. Body:

    {"orders": [{"order_id": "A1001", "status": "paid", "product_id": "sku-8812",
                 "qty": 2, "amount": "198.00", "buyer_id": "u-77", "nickname": "小鹿",
                 "ts": "2026-12-06T20:15:00+08:00", "message_id": "A1001-paid"}]}

`status` one of created, paid, cancelled, refunded; `amount` in currency units (or
`amount_cents` in cents); `ts` ISO 8601 with an offset or epoch milliseconds; `product_id` the
shop's id of the item, resolved through the script's `shop_ids.generic` (an sku of the script
is taken as it is); `message_id` optional: without it the event id is
`generic:<order_id>:<status>:<product_id>`, so re-sending the same state is a duplicate and a
later state moves the order. Answer: 200 with accepted / duplicates / rejected.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from livecompanion.ingest.bridges._common import as_id, as_int, as_mapping, epoch_ms, parse_amount
from livecompanion.shops.common import (
    ShopMessageError,
    ShopOrder,
    cents,
    equal_text,
    header,
    load_json,
    reads_fields,
)

SHOP = "generic"
SIGNATURE_HEADER = "X-LiveCompanion-Signature"
STATUSES = ("created", "paid", "cancelled", "refunded")


def sign(raw_body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()


def verify(raw_body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    given = header(headers, SIGNATURE_HEADER)
    return bool(secret and given) and equal_text(sign(raw_body, secret), given)


def _amount(line: Mapping[str, Any], where: str) -> Decimal:
    if line.get("amount_cents") is not None:
        return cents(line.get("amount_cents"), f"{where}.amount_cents")
    return parse_amount(line.get("amount"), f"{where}.amount (or amount_cents)")


@reads_fields
def map_order(line: Any, where: str) -> ShopOrder:
    line = as_mapping(line, where)
    order_id = as_id(line.get("order_id"), f"{where}.order_id")
    status = line.get("status")
    if status not in STATUSES:
        raise ShopMessageError(f"{where}.status: {status!r} is not one of {', '.join(STATUSES)}")
    product = as_id(line.get("product_id"), f"{where}.product_id", required=False)
    message_id = as_id(line.get("message_id"), f"{where}.message_id", required=False)
    assert order_id is not None
    return ShopOrder(
        shop=SHOP,
        message_id=f"{SHOP}:{message_id}" if message_id else f"{SHOP}:{order_id}:{status}:{product or ''}",
        order_id=order_id,
        status=status,
        ts_ms=epoch_ms(line.get("ts"), f"{where}.ts"),
        buyer_id=as_id(line.get("buyer_id"), f"{where}.buyer_id", required=False)
        or f"{SHOP}-order-{order_id}",
        product_id=product,
        qty=as_int(line.get("qty"), f"{where}.qty", default=1),
        amount=_amount(line, where),
        nickname=line.get("nickname") if isinstance(line.get("nickname"), str) else None,
    )


def parse_orders(raw_body: bytes) -> list[Any]:
    payload = load_json(raw_body)
    orders = payload.get("orders") if isinstance(payload, dict) else None
    if not isinstance(orders, list):
        raise ShopMessageError('body: expected {"orders": [...]}')
    return orders
