"""What every shop push has in common: a verified raw body, order events out, an answer back.

A shop push is verified on the raw bytes before anything is parsed (a parser that normalises
whitespace or key order would sign a different text). Each shop module then turns one push into
`ShopOrder`s: one per order, or per sub-order where the shop names sub-orders, carrying the
shop's own product id. `to_events` resolves product ids to the script's skus through the
products' `shop_ids`; an order for an item the script does not map keeps the shop's id as
`unmapped:<shop>:<product id>` (never dropped), so the report counts it apart and the operator
sees which id to add. Amounts are currency units (Decimal), converted from the shop's cents
where the shop sends cents.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar

from livecompanion.ingest.bridges._common import Event, derived_id

CENT = Decimal("0.01")
UNMAPPED_PREFIX = "unmapped:"
UNKNOWN_ITEM = "unknown-item"  # the push names no item (抖店, 微信小店 send ids only)


class ShopMessageError(ValueError):
    """A push that was verified but cannot be read; the reason says which field."""


_P = ParamSpec("_P")
_R = TypeVar("_R")


def reads_fields(mapper: Callable[_P, _R]) -> Callable[_P, _R]:
    """A mapper's ValueErrors (the bridges' field readers raise them) as ShopMessageError."""

    @functools.wraps(mapper)
    def wrapped(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return mapper(*args, **kwargs)
        except ShopMessageError:
            raise
        except ValueError as exc:
            raise ShopMessageError(str(exc)) from None

    return wrapped


def load_json(raw: bytes | str, what: str = "body") -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise ShopMessageError(f"{what}: not JSON") from None


@dataclass(frozen=True, slots=True)
class ShopOrder:
    """One order (or sub-order) state as a shop reported it, before skus are resolved."""

    shop: str
    message_id: str  # unique per (order, state) push: a re-delivery repeats it
    order_id: str
    status: str  # created | paid | cancelled | refunded
    ts_ms: int | None
    buyer_id: str
    product_id: str | None  # the shop's id of the item; None: the push does not say
    qty: int = 1
    amount: Decimal = Decimal(0)
    nickname: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """The answer a shop expects so that it stops retrying."""

    status_code: int
    body: bytes
    media_type: str


@dataclass(slots=True)
class ShopCatalog:
    """(shop, shop product id) -> sku, from the script's products' `shop_ids`."""

    skus: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def from_products(cls, products: Iterable[Any]) -> ShopCatalog:
        skus: dict[tuple[str, str], str] = {}
        for product in products:
            for shop, ids in (getattr(product, "shop_ids", None) or {}).items():
                for shop_id in ids:
                    skus.setdefault((shop, str(shop_id)), product.sku)
        return cls(skus)

    def sku_for(self, shop: str, product_id: str | None) -> str:
        if product_id is None:
            return f"{UNMAPPED_PREFIX}{shop}:{UNKNOWN_ITEM}"
        # "item:variant" ids match a mapping of the variant first, then of the whole item.
        found = self.skus.get((shop, product_id)) or self.skus.get((shop, product_id.split(":", 1)[0]))
        return found or f"{UNMAPPED_PREFIX}{shop}:{product_id}"[:100]


def is_unmapped(sku: str) -> bool:
    return sku.startswith(UNMAPPED_PREFIX)


def cents(value: Any, where: str) -> Decimal:
    """Whole cents (a number or digits) -> currency units."""
    if isinstance(value, bool) or value is None:
        raise ShopMessageError(f"{where}: missing")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value < 0:
        raise ShopMessageError(f"{where}: {value!r} is not an amount in cents")
    return (Decimal(value) * CENT).quantize(CENT)


def to_events(orders: Iterable[ShopOrder], catalog: ShopCatalog) -> list[Event]:
    """Contract `order` events (section 2) for shop orders, skus resolved through the catalog."""
    events: list[Event] = []
    for order in orders:
        event: Event = {
            "type": "order",
            "platform": order.shop,
            "id": order.message_id
            if len(order.message_id) <= 200
            else derived_id(order.shop, order.message_id),
            "user_id": order.buyer_id[:200],
            "order_id": order.order_id[:200],
            "sku": catalog.sku_for(order.shop, order.product_id),
            "qty": max(1, min(order.qty, 1_000_000)),
            "amount": str(order.amount.quantize(CENT)),
            "status": order.status,
        }
        if order.ts_ms is not None:
            event["ts"] = order.ts_ms
        if order.nickname:
            event["nickname"] = order.nickname[:200]
        events.append(event)
    return events


def equal_text(expected: str, given: str) -> bool:
    """Constant-time comparison of two signatures as text (hex is compared case-insensitively)."""
    try:
        return hmac.compare_digest(expected.lower().encode("ascii"), given.strip().lower().encode("ascii"))
    except UnicodeEncodeError:
        return False


def md5_hex(*parts: bytes) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


def header(headers: Mapping[str, str], name: str) -> str:
    """A header by case-insensitive name ('' when absent)."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return ""
