"""One entry for every shop push: which secrets a shop needs, verify, map, and the answer to give.

Pure: the HTTP router hands it the raw body, headers and query, and gets back either "refused"
(bad or missing signature: 401, the shop retries and the operator sees it) or the shop orders,
the reasons for messages that could not be read, and the reply that stops the shop retrying.
A message that was signed but cannot be read is answered as received (a retry would bring the
same bytes) and its reason is kept for the log and, for the generic webhook, for the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from livecompanion.shops import doudian, generic, wechat_shop, youzan
from livecompanion.shops.common import Reply, ShopMessageError, ShopOrder

SHOPS = ("doudian", "wechat_shop", "youzan", "generic")


@dataclass(frozen=True, slots=True)
class ShopSecrets:
    """What each shop signs with; set by environment (LIVECOMPANION_<NAME>) or Settings."""

    doudian_app_key: str | None = None
    doudian_app_secret: str | None = None
    youzan_client_id: str | None = None
    youzan_client_secret: str | None = None
    wechat_shop_token: str | None = None
    wechat_shop_aes_key: str | None = None  # EncodingAESKey (43 characters); encrypted mode only
    wechat_shop_appid: str | None = None  # checked against the decrypted message when set
    shop_webhook_secret: str | None = None  # the generic webhook's HMAC key

    def missing(self, shop: str) -> list[str]:
        """The settings `shop` needs that are not set (environment names)."""
        needed = {
            "doudian": ("doudian_app_key", "doudian_app_secret"),
            "youzan": ("youzan_client_id", "youzan_client_secret"),
            "wechat_shop": ("wechat_shop_token",),
            "generic": ("shop_webhook_secret",),
        }[shop]
        return [f"LIVECOMPANION_{name.upper()}" for name in needed if not getattr(self, name)]


@dataclass(slots=True)
class Received:
    verified: bool
    orders: list[ShopOrder] = field(default_factory=list)
    unreadable: list[dict[str, object]] = field(default_factory=list)  # {"index", "reason"}
    reply: Reply = doudian.REPLY
    # A signed push this service cannot open because of its own settings (wrong EncodingAESKey,
    # the AES package missing): answered 503 so the shop retries while the operator fixes them.
    settings_problem: str | None = None


def receive(
    shop: str, raw_body: bytes, headers: Mapping[str, str], params: Mapping[str, str], secrets: ShopSecrets
) -> Received:
    """Verify and map one push of `shop` (one of SHOPS; secrets already checked with `missing`)."""
    if shop == "doudian":
        if not doudian.verify(
            raw_body, headers, secrets.doudian_app_key or "", secrets.doudian_app_secret or ""
        ):
            return Received(False)
        return _each(doudian.REPLY, lambda: doudian.parse_push(raw_body), doudian.map_message)
    if shop == "youzan":
        if not youzan.verify(
            raw_body, headers, secrets.youzan_client_id or "", secrets.youzan_client_secret or ""
        ):
            return Received(False)
        return _each(
            youzan.REPLY, lambda: [youzan.parse_body(raw_body)], lambda push, _: youzan.map_push(push)
        )
    if shop == "wechat_shop":
        try:
            event = wechat_shop.open_push(
                raw_body,
                params,
                secrets.wechat_shop_token or "",
                secrets.wechat_shop_aes_key,
                secrets.wechat_shop_appid,
            )
        except wechat_shop.DecryptError as exc:
            return Received(True, reply=wechat_shop.REPLY, settings_problem=str(exc))
        except ShopMessageError:
            return Received(False)  # a body that cannot be read cannot carry a valid signature
        if event is None:
            return Received(False)
        return _each(wechat_shop.REPLY, lambda: [event], lambda e, _: wechat_shop.map_event(e))
    if shop == "generic":
        if not generic.verify(raw_body, headers, secrets.shop_webhook_secret or ""):
            return Received(False)
        return _each(
            GENERIC_REPLY, lambda: generic.parse_orders(raw_body), lambda o, w: [generic.map_order(o, w)]
        )
    raise ValueError(f"unknown shop {shop!r}")


GENERIC_REPLY = Reply(200, b"", "application/json")  # the router answers with the ingest result


def _each(
    reply: Reply, read: Callable[[], list[Any]], mapper: Callable[[Any, str], list[ShopOrder]]
) -> Received:
    received = Received(True, reply=reply)
    try:
        items = read()
    except ShopMessageError as exc:
        received.unreadable.append({"index": 0, "reason": str(exc)})
        return received
    for index, item in enumerate(items):
        try:
            received.orders.extend(mapper(item, f"[{index}]"))
        except ShopMessageError as exc:
            received.unreadable.append({"index": index, "reason": str(exc)})
    return received
