"""微信小店 / 視頻號小店 (WeChat shop, Channels EC) message pushes: verify, decrypt, map.

Configured in the shop's console (微信小店 → 服務市場/開發 → 消息推送): URL, Token, EncodingAESKey,
mode (明文 plaintext, 安全 encrypted; 兼容 both) and format (JSON or XML). WeChat's own protocol:
- URL check: `GET ?signature&timestamp&nonce&echostr`, signature = sha1 of the sorted and joined
  token, timestamp, nonce; answer `echostr` as it is.
- Plaintext push: `POST ?signature&timestamp&nonce`, same signature, the event as the body.
- Encrypted push: `POST ?msg_signature&timestamp&nonce&encrypt_type=aes`, body `{"ToUserName",
  "Encrypt"}` (or `<xml>` with `<Encrypt>`); msg_signature = sha1 of the sorted token,
  timestamp, nonce and Encrypt. Encrypt is base64 of AES-256-CBC (key = base64 of
  EncodingAESKey + "=", IV = the key's first 16 bytes, PKCS#7 padding to 32 bytes) over
  16 random bytes + the message length (4 bytes, big-endian) + the message + the appid.
Answer: the text `success` (HTTP 200) within 5 s; anything else is retried (up to 10 times over
about 3.6 h, then the push is dropped).

| Event | status | ts |
| --- | --- | --- |
| channels_ec_order_new | created | CreateTime |
| channels_ec_order_pay | paid | order_info.pay_time, else CreateTime |
| channels_ec_order_cancel | cancelled | CreateTime |
| channels_ec_aftersale_update, status MERCHANT_REFUND_SUCCESS / MERCHANT_RETURN_SUCCESS | refunded | CreateTime |
| others | nothing | |

Like 抖店, the push names only the order: no items, no amount. The buyer is `FromUserName`
(the buyer's openid in the shop). Orders are kept whole (`order_id`), qty 1, amount 0, sku
`unmapped:wechat_shop:unknown-item`; the report counts them as orders without an item or amount.
Amounts and items come from `/channels/ec/order/get`, which this service does not call.
Event ids: `wechat_shop:<Event>:<order_id>` (refunds: `...:<after_sale_order_id>`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree

from livecompanion.ingest.bridges._common import as_id, as_mapping, epoch_ms
from livecompanion.shops.common import Reply, ShopMessageError, ShopOrder, equal_text, reads_fields

SHOP = "wechat_shop"
REPLY = Reply(200, b"success", "text/plain")
_REFUNDED = {"MERCHANT_REFUND_SUCCESS", "MERCHANT_RETURN_SUCCESS"}
_EVENTS = {
    "channels_ec_order_new": "created",
    "channels_ec_order_pay": "paid",
    "channels_ec_order_cancel": "cancelled",
}


class DecryptError(ValueError):
    """The encrypted body does not decrypt under this EncodingAESKey and appid."""


def signature(token: str, *parts: str) -> str:
    return hashlib.sha1("".join(sorted((token, *parts))).encode("utf-8"), usedforsecurity=False).hexdigest()


def verify_url(token: str, params: Mapping[str, str]) -> bool:
    """The plaintext signature (URL check and plaintext pushes)."""
    given = params.get("signature", "")
    if not token or not given:
        return False
    return equal_text(signature(token, params.get("timestamp", ""), params.get("nonce", "")), given)


def parse_body(raw_body: bytes) -> dict[str, Any]:
    """A JSON or XML push body as a dict (XML: one level of elements, nested ones as dicts)."""
    text = raw_body.strip()
    if text.startswith(b"<"):
        try:
            # expat: no external entities fetched; entity expansion is limited (expat >= 2.4)
            root = ElementTree.fromstring(text)
        except ElementTree.ParseError as exc:
            raise ShopMessageError(f"body: not XML ({exc})") from None
        return _xml_dict(root)
    try:
        payload = json.loads(text)
    except ValueError:
        raise ShopMessageError("body: neither JSON nor XML") from None
    if not isinstance(payload, dict):
        raise ShopMessageError("body: expected an object")
    return payload


def _xml_dict(node: ElementTree.Element) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in node:
        out[child.tag] = _xml_dict(child) if len(child) else (child.text or "")
    return out


def _aes() -> Any:
    try:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    except ImportError:  # an optional extra: only encrypted 微信小店 pushes need it
        raise DecryptError(
            "encrypted pushes need the cryptography package: pip install livecompanion[shops]"
        ) from None
    return Cipher, algorithms, modes


def decrypt(encrypted: str, aes_key: str, appid: str | None) -> bytes:
    """The message inside `Encrypt` (see the module docstring); checks the appid when given."""
    Cipher, algorithms, modes = _aes()

    try:
        key = base64.b64decode(aes_key + "=", validate=True)
        data = base64.b64decode(encrypted, validate=True)
    except (ValueError, TypeError):
        raise DecryptError("Encrypt or the EncodingAESKey is not base64") from None
    if len(key) != 32 or not data or len(data) % 16:
        raise DecryptError("Encrypt does not decrypt under this EncodingAESKey")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain: bytes = decryptor.update(data) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= 32 or len(plain) < 20 + pad:
        raise DecryptError("Encrypt does not decrypt under this EncodingAESKey")
    plain = plain[:-pad]
    (length,) = struct.unpack(">I", plain[16:20])
    message, from_appid = plain[20 : 20 + length], plain[20 + length :]
    if len(message) != length:
        raise DecryptError("Encrypt does not decrypt under this EncodingAESKey")
    if appid and from_appid.decode("utf-8", "replace") != appid:
        raise DecryptError("the message is for another appid")
    return message


def encrypt(message: bytes, aes_key: str, appid: str, random16: bytes) -> str:
    """WeChat's encryption of a message (what the shop sends); used by tests and replay tools."""
    Cipher, algorithms, modes = _aes()

    key = base64.b64decode(aes_key + "=")
    plain = random16 + struct.pack(">I", len(message)) + message + appid.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def open_push(
    raw_body: bytes, params: Mapping[str, str], token: str, aes_key: str | None, appid: str | None
) -> dict[str, Any] | None:
    """The verified event of a push, decrypted when encrypted; None when the signature fails."""
    body = parse_body(raw_body)
    encrypted = body.get("Encrypt")
    if params.get("msg_signature") or isinstance(encrypted, str):
        if not isinstance(encrypted, str) or not token:
            return None
        expected = signature(token, params.get("timestamp", ""), params.get("nonce", ""), encrypted)
        if not equal_text(expected, params.get("msg_signature", "")):
            return None
        if not aes_key:
            raise DecryptError("the push is encrypted: set the EncodingAESKey")
        return parse_body(decrypt(encrypted, aes_key, appid))
    return body if verify_url(token, params) else None


@reads_fields
def map_event(event: Mapping[str, Any]) -> list[ShopOrder]:
    """Shop orders for one decrypted event; [] for events not used."""
    event = as_mapping(event, "event")
    name = event.get("Event")
    created = epoch_ms(event.get("CreateTime"), "CreateTime")
    buyer = as_id(event.get("FromUserName"), "FromUserName", required=False)
    if name == "channels_ec_aftersale_update":
        update = as_mapping(
            event.get("finder_shop_aftersale_status_update"), "finder_shop_aftersale_status_update"
        )
        if update.get("status") not in _REFUNDED:
            return []
        order_id = as_id(update.get("order_id"), "finder_shop_aftersale_status_update.order_id")
        after_sale = as_id(update.get("after_sale_order_id"), "after_sale_order_id", required=False)
        status, ts, key = "refunded", created, f"{order_id}:{after_sale or ''}"
    elif isinstance(name, str) and name in _EVENTS:
        info = as_mapping(event.get("order_info"), "order_info")
        order_id = as_id(info.get("order_id"), "order_info.order_id")
        status = _EVENTS[name]
        ts = (epoch_ms(info.get("pay_time"), "order_info.pay_time") if status == "paid" else None) or created
        key = str(order_id)
    else:
        return []
    assert order_id is not None
    return [
        ShopOrder(
            shop=SHOP,
            message_id=f"{SHOP}:{name}:{key}",
            order_id=order_id,
            status=status,
            ts_ms=ts,
            buyer_id=buyer or f"{SHOP}-order-{order_id}",
            product_id=None,
            amount=Decimal(0),
        )
    ]
