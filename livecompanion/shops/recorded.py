"""Recorded shop pushes (`livecompanion bridge SHOP --from FILE --print`) -> events.

One line of a recording is one push as the shop sent it, already verified when it was received
(a recording holds no signature headers, so nothing is verified here):

| shop | one line |
| --- | --- |
| doudian | the push body: an array of `{"tag", "msg_id", "data"}` (one bare message also) |
| youzan | the push body `{"type", "msg", ...}` |
| wechat_shop | one decrypted event `{"Event": "channels_ec_order_pay", ...}` (JSON) |
| generic | the webhook body `{"orders": [...]}` |

`map_recorded(shop, line, catalog)` returns the events (skus through the catalog, else
`unmapped:<shop>:<id>`); a line that cannot be used raises ShopMessageError saying why.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from livecompanion.ingest.bridges._common import Event
from livecompanion.shops import doudian, generic, wechat_shop, youzan
from livecompanion.shops.common import ShopCatalog, ShopMessageError, ShopOrder, to_events


def _doudian(push: Any) -> list[ShopOrder]:
    messages = push if isinstance(push, list) else [push]
    return [order for i, m in enumerate(messages) for order in doudian.map_message(m, f"[{i}]")]


def _generic(body: Any) -> list[ShopOrder]:
    orders = body.get("orders") if isinstance(body, dict) else None
    if not isinstance(orders, list):
        raise ShopMessageError('expected {"orders": [...]}')
    return [generic.map_order(o, f"orders[{i}]") for i, o in enumerate(orders)]


MAPPERS: dict[str, Callable[[Any], list[ShopOrder]]] = {
    "doudian": _doudian,
    "youzan": youzan.map_push,
    "wechat_shop": wechat_shop.map_event,
    "generic": _generic,
}


def map_recorded(shop: str, line: str | bytes, catalog: ShopCatalog | None = None) -> list[Event]:
    """The events of one recorded line of `shop` (see the table above)."""
    if shop not in MAPPERS:
        raise ShopMessageError(f"unknown shop {shop!r} (known: {', '.join(MAPPERS)})")
    try:
        message = json.loads(line)
    except ValueError:
        raise ShopMessageError("not JSON") from None
    return to_events(MAPPERS[shop](message), catalog or ShopCatalog())


def recorded_mapper(shop: str) -> Callable[[Any], list[Event]]:
    """A `message -> events` function for a bridge registry that decodes lines itself."""
    mapper = MAPPERS[shop]
    return lambda message: to_events(mapper(message), ShopCatalog())
