"""抖店 (Douyin shop) message pushes: verify, then one order event per shop order (`p_id`).

The push (消息推送) is a JSON array of messages `{"tag": "100", "msg_id": "...", "data": "..."}`,
`data` the message's fields as a JSON string (an object is accepted too). Headers `app-id` (the
app key) and `event-sign`:
- md5(app_key + raw body + app_secret), lowercase hex: the default;
- HMAC-SHA256 of the same text keyed with app_secret, hex, when the header `sign-method` says
  `hmac-sha256` (or the signature has 64 hex digits).
A push whose `app-id` is another app's is refused. Answer: HTTP 200 `{"code":0,"msg":"success"}`
within 5 s; the probe the console sends when the URL is saved (tag "0") gets the same answer.

| tag | message | status | ts | amount |
| --- | --- | --- | --- | --- |
| 100 | doudian_trade_TradeCreate | created | create_time | 0 (the message carries none) |
| 101 | doudian_trade_TradePaid | paid | pay_time | pay_amount (cents) |
| 106 | doudian_trade_TradeCanceled | cancelled | cancel_time | 0 |
| 206 | doudian_refund_RefundSuccess | refunded | success_time | refund_amount (cents) |
| others | | nothing | | |

What the push does not carry: the buyer and the items. 抖店 sends ids (`p_id` the shop order,
`s_ids` its sub-orders) and expects the order detail to be fetched with `order.orderDetail`,
which this service does not call. So these orders are kept whole (`order_id` = `p_id`, qty 1),
the buyer is `doudian-order-<p_id>` (one buyer per order), and the sku is
`unmapped:doudian:unknown-item`. They count in GMV and orders, and the report lists them as
orders without an item. A refund of one sub-order marks the whole order refunded; the refund
event carries the refunded amount, while the report keeps the order's paid amount (contract: an
order's amount is that of its paid event).
Event ids: `doudian:<tag>:<p_id>`, per state of an order: re-deliveries are duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from livecompanion.ingest.bridges._common import as_id, as_mapping, epoch_ms
from livecompanion.shops.common import (
    Reply,
    ShopMessageError,
    ShopOrder,
    cents,
    equal_text,
    header,
    load_json,
    md5_hex,
    reads_fields,
)

SHOP = "doudian"
REPLY = Reply(200, b'{"code":0,"msg":"success"}', "application/json")
# tag -> (status, time field, amount field or None)
_TAGS: dict[str, tuple[str, str, str | None]] = {
    "100": ("created", "create_time", None),
    "101": ("paid", "pay_time", "pay_amount"),
    "106": ("cancelled", "cancel_time", None),
    "206": ("refunded", "success_time", "refund_amount"),
}


def verify(raw_body: bytes, headers: Mapping[str, str], app_key: str, app_secret: str) -> bool:
    """Whether `event-sign` signs the raw body under this app (see the module docstring)."""
    if not app_key or not app_secret:
        return False
    given = header(headers, "event-sign").strip()
    app_id = header(headers, "app-id").strip()
    if not given or (app_id and app_id != app_key):
        return False
    text = app_key.encode() + raw_body + app_secret.encode()
    method = header(headers, "sign-method").strip().lower()
    if method in ("hmac-sha256", "hmac_sha256") or (not method and len(given) == 64):
        expected = hmac.new(app_secret.encode(), text, hashlib.sha256).hexdigest()
    else:
        expected = md5_hex(text)
    return equal_text(expected, given)


def _data(message: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    data = message.get("data")
    if isinstance(data, str):
        data = load_json(data, f"{where}.data")
    if not isinstance(data, Mapping):
        raise ShopMessageError(f"{where}.data: expected an object")
    return data


@reads_fields
def map_message(message: Mapping[str, Any], where: str = "message") -> list[ShopOrder]:
    """Shop orders for one message of a push; [] for tags not used (and the probe, tag 0)."""
    message = as_mapping(message, where)
    tag = as_id(message.get("tag"), f"{where}.tag", required=False)
    if tag not in _TAGS:
        return []
    status, time_field, amount_field = _TAGS[tag]
    data = _data(message, where)
    order_id = as_id(data.get("p_id"), f"{where}.data.p_id")
    assert order_id is not None
    amount = cents(data.get(amount_field), f"{where}.data.{amount_field}") if amount_field else cents(0, "")
    return [
        ShopOrder(
            shop=SHOP,
            message_id=f"{SHOP}:{tag}:{order_id}",
            order_id=order_id,
            status=status,
            ts_ms=epoch_ms(data.get(time_field), f"{where}.data.{time_field}"),
            buyer_id=f"{SHOP}-order-{order_id}",
            product_id=None,
            amount=amount,
        )
    ]


def parse_push(raw_body: bytes) -> list[Any]:
    """The push's messages: a JSON array (one bare message object is accepted as one)."""
    payload = load_json(raw_body)
    if isinstance(payload, dict):
        return [payload]
    if not isinstance(payload, list):
        raise ShopMessageError("body: expected an array of messages")
    return payload
