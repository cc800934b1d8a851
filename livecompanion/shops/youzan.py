"""有贊 (Youzan) trade pushes: verify, then one order event per line item (`oid`).

The push (消息推送) is a JSON object: `client_id`, `type` (e.g. `trade_TradePaid`), `msg_id`,
`id` (the trade id `tid`), `status`, `test`, `sign`, and `msg`: the trade as URL-encoded JSON
(`full_order_info` with `order_info`, `buyer_info`, `pay_info` and `orders[]`).
Signature, two documented forms (both need the app's client secret):
- body field `sign` = md5(client_id + msg + client_secret), `msg` as sent (still URL-encoded);
- header `Event-Sign` = md5(client_id + raw body + client_secret), on newer pushes.
When `Event-Sign` is present it is the one checked; otherwise the body's `sign`.
Answer: HTTP 200 `{"code":0,"msg":"success"}`; anything else is retried.

| type | status | ts |
| --- | --- | --- |
| trade_TradeCreate | created | order_info.created |
| trade_TradePaid, trade_TradeBuyerPay | paid | order_info.pay_time |
| anything else | nothing (no recorded example of close or refund messages was found) | |

Amounts are yuan strings ("0.01") in `orders[].payment`: already currency units.
`user_id` is `buyer_info.yz_open_id`, else `buyer_id`, else `fans_id`; the product id is
`item_id`, and `item_id:sku_id` when the item has a sku (the script may map either).
Event ids: `youzan:<msg type>:<tid>:<oid>`: a re-delivery (same message, `sendCount` + 1) is a
duplicate; the paid push of the same line item is a new event that moves it.
Times are Asia/Shanghai wall clock ("2018-09-18 10:17:45"), as Youzan sends them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote, unquote_plus

from livecompanion.ingest.bridges._common import as_id, as_int, as_mapping, parse_amount
from livecompanion.shops.common import (
    Reply,
    ShopMessageError,
    ShopOrder,
    equal_text,
    header,
    load_json,
    md5_hex,
    reads_fields,
)

SHOP = "youzan"
REPLY = Reply(200, b'{"code":0,"msg":"success"}', "application/json")
SHANGHAI = timezone(timedelta(hours=8))
_STATUS = {"trade_TradeCreate": "created", "trade_TradePaid": "paid", "trade_TradeBuyerPay": "paid"}


def verify(raw_body: bytes, headers: Mapping[str, str], client_id: str, client_secret: str) -> bool:
    """Whether the push was signed with this app's secret (see the module docstring)."""
    if not client_id or not client_secret:
        return False
    event_sign = header(headers, "Event-Sign")
    if event_sign:
        expected = md5_hex(client_id.encode(), raw_body, client_secret.encode())
        return equal_text(expected, event_sign)
    try:
        payload = json.loads(raw_body)
    except ValueError:
        return False
    if not isinstance(payload, dict) or not isinstance(payload.get("msg"), str):
        return False
    sign = payload.get("sign")
    if not isinstance(sign, str) or not sign:
        return False
    expected = md5_hex(client_id.encode(), payload["msg"].encode(), client_secret.encode())
    return equal_text(expected, sign)


def _time(value: Any, where: str) -> int | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = unquote_plus(value).strip()
    try:
        parsed = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise ShopMessageError(f"{where}: {value!r} is not a 'YYYY-MM-DD HH:MM:SS' time") from None
    return int(parsed.replace(tzinfo=SHANGHAI).timestamp() * 1000)


def parse_body(raw_body: bytes) -> Any:
    return load_json(raw_body)


def decode_msg(payload: Mapping[str, Any]) -> dict[str, Any]:
    raw = payload.get("msg")
    if not isinstance(raw, str):
        raise ShopMessageError("msg: expected the URL-encoded trade")
    try:
        msg = json.loads(unquote(raw))
    except ValueError:
        raise ShopMessageError("msg: not URL-encoded JSON") from None
    if not isinstance(msg, dict):
        raise ShopMessageError("msg: expected an object")
    return msg


@reads_fields
def map_push(payload: Mapping[str, Any]) -> list[ShopOrder]:
    """Shop orders for one verified push; [] for message types not used."""
    payload = as_mapping(payload, "push")
    kind = payload.get("type")
    status = _STATUS.get(kind) if isinstance(kind, str) else None
    if status is None or payload.get("test") is True:
        return []
    info = as_mapping(decode_msg(payload).get("full_order_info"), "msg.full_order_info")
    order_info = as_mapping(info.get("order_info"), "full_order_info.order_info")
    tid = as_id(order_info.get("tid"), "order_info.tid", required=False) or as_id(payload.get("id"), "id")
    ts_field = "pay_time" if status == "paid" else "created"
    ts = _time(order_info.get(ts_field), f"order_info.{ts_field}") or _time(
        order_info.get("update_time"), "order_info.update_time"
    )
    raw_buyer = info.get("buyer_info")
    buyer: Mapping[str, Any] = raw_buyer if isinstance(raw_buyer, Mapping) else {}
    buyer_id = next(
        (
            found
            for field in ("yz_open_id", "buyer_id", "fans_id")
            if (found := as_id(buyer.get(field), f"buyer_info.{field}", required=False))
        ),
        f"youzan-guest-{tid}",
    )
    nickname = buyer.get("fans_nickname") if isinstance(buyer.get("fans_nickname"), str) else None
    lines = info.get("orders")
    if not isinstance(lines, list) or not lines:
        raise ShopMessageError("full_order_info.orders: expected a non-empty list")
    out: list[ShopOrder] = []
    for i, raw in enumerate(lines):
        where = f"orders[{i}]"
        line = as_mapping(raw, where)
        oid = as_id(line.get("oid"), f"{where}.oid") or str(i)
        item = as_id(line.get("item_id"), f"{where}.item_id", required=False)
        sku = as_id(line.get("sku_id"), f"{where}.sku_id", required=False)
        product = f"{item}:{sku}" if item and sku else item
        out.append(
            ShopOrder(
                shop=SHOP,
                message_id=f"{SHOP}:{kind}:{tid}:{oid}",
                order_id=f"{tid}:{oid}",
                status=status,
                ts_ms=ts,
                buyer_id=buyer_id,
                product_id=product,
                qty=max(1, as_int(line.get("num"), f"{where}.num", default=1)),
                amount=parse_amount(line.get("payment", "0"), f"{where}.payment"),
                nickname=nickname or None,
            )
        )
    return out
