"""Shop pushes, pure: signatures as each shop documents them, decryption, mapping of the recorded
examples in fixtures/shops (see SOURCES.md there), and the script's shop_ids."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest

from livecompanion.events import parse_event
from livecompanion.scripts import check_text
from livecompanion.shops import doudian, generic, wechat_shop, youzan
from livecompanion.shops.common import ShopCatalog, ShopMessageError, to_events
from livecompanion.shops.receive import ShopSecrets, receive

SHOPS = Path(__file__).resolve().parent / "fixtures" / "shops"


def fixture(shop: str, name: str) -> bytes:
    return (SHOPS / shop / name).read_bytes()


def md5(text: bytes) -> str:
    return hashlib.md5(text, usedforsecurity=False).hexdigest()


# ---- 抖店


def test_doudian_md5_signature_on_the_raw_body() -> None:
    body = b'[{"tag":"100","msg_id":"m1","data":"{\\"p_id\\":1}"}]'
    good = {"app-id": "k", "event-sign": md5(b"k" + body + b"s")}
    assert doudian.verify(body, good, "k", "s")
    assert not doudian.verify(body.replace(b"1}", b"2}"), good, "k", "s")  # one changed byte
    assert not doudian.verify(body, good, "k", "other")  # wrong secret
    assert not doudian.verify(body, {**good, "app-id": "another-app"}, "k", "s")
    assert not doudian.verify(body, {"app-id": "k"}, "k", "s")


@pytest.mark.parametrize(
    ("key", "secret", "body", "signature"),
    [
        # Two public test suites' vectors of the HMAC-SHA256 form (SOURCES.md).
        (
            "app-key",
            "secret",
            b'[{"tag":"100","data":"{\\"shop_id\\":123}"}]',
            "bed9fab93b667a2213b57ca88150a05e189c1f6e0b334ed34e29ccdb14ead058",
        ),
        (
            "app-123",
            "secret-456",
            b'[{"tag":"0","msg_id":"0","data":"probe"}]',
            "7e0bd8b248471435f5a09b27cbc1a07f2cb00f625810bde9f3cc5b0ba7bc4a11",
        ),
    ],
)
def test_doudian_hmac_sha256_vectors(key: str, secret: str, body: bytes, signature: str) -> None:
    assert doudian.verify(body, {"event-sign": signature, "sign-method": "hmac-sha256"}, key, secret)
    assert doudian.verify(body, {"event-sign": signature}, key, secret)  # told apart by length
    assert not doudian.verify(body + b" ", {"event-sign": signature}, key, secret)


def test_doudian_messages_from_the_sdk_samples() -> None:
    create = json.loads(fixture("doudian", "skit_TradeCreateEvent.json"))
    create["tag"] = "100"  # the sample's tag is right; on the wire it is text
    [order] = doudian.map_message(create)
    assert (order.order_id, order.status, order.ts_ms, order.amount) == ("12345", "created", 1618990587000, 0)
    refund = json.loads(fixture("doudian", "skit_RefundSuccessEvent.json"))
    [order] = doudian.map_message(refund)
    assert (order.status, order.amount, order.order_id) == (
        "refunded",
        Decimal("132.00"),
        "4705288465508532862",
    )
    # The SDK's TradePaid sample carries the document page (110) as its tag: 110 is 订单已支付待处理,
    # not used; the same data under the wire tag 101 is the paid message, pay_amount in cents.
    paid = json.loads(fixture("doudian", "skit_TradePaidEvent.json"))
    assert doudian.map_message(paid) == []
    [order] = doudian.map_message({"tag": "101", "msg_id": "x", "data": json.dumps(paid["data"])})
    assert (order.status, order.amount, order.ts_ms) == ("paid", Decimal("29.90"), 1618990587000)
    assert doudian.map_message({"tag": "0", "msg_id": "0", "data": "probe"}) == []
    with pytest.raises(ShopMessageError, match="p_id"):
        doudian.map_message({"tag": "101", "data": "{}"})


# ---- 微信小店

OFFICIAL = {  # WeChat's published encryption example (SOURCES.md)
    "token": "QDG6eK",
    "aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
    "appid": "wx5823bf96d3bd56c7",
    "timestamp": "1409659813",
    "nonce": "1372623149",
    "msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6",
    "encrypt": "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911"
    "L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+"
    "HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LA"
    "VGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDY"
    "A5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==",
}


def test_wechat_official_vector_verifies_and_decrypts() -> None:
    o = OFFICIAL
    body = f"<xml><ToUserName><![CDATA[{o['appid']}]]></ToUserName><Encrypt><![CDATA[{o['encrypt']}]]></Encrypt></xml>"
    params = {"msg_signature": o["msg_signature"], "timestamp": o["timestamp"], "nonce": o["nonce"]}
    event = wechat_shop.open_push(body.encode(), params, o["token"], o["aes_key"], o["appid"])
    assert event is not None and event["Content"] == "hello" and event["FromUserName"] == "mycreate"
    assert wechat_shop.open_push(body.encode(), params, "wrong-token", o["aes_key"], o["appid"]) is None
    with pytest.raises(wechat_shop.DecryptError, match="another appid"):
        wechat_shop.open_push(body.encode(), params, o["token"], o["aes_key"], "wx-other")


def test_wechat_events_from_the_sdk_samples() -> None:
    new = json.loads(fixture("wechat_shop", "skit_ChannelsECOrderNewEvent.json"))
    pay = json.loads(fixture("wechat_shop", "skit_ChannelsECOrderPayEvent.json"))
    cancel = json.loads(fixture("wechat_shop", "skit_ChannelsECOrderCancelEvent.json"))
    statuses = [wechat_shop.map_event(e)[0] for e in (new, pay, cancel)]
    assert [(o.status, o.order_id) for o in statuses] == [
        ("created", "3705115058471208928"),
        ("paid", "3705115058471208928"),
        ("cancelled", "3705115058471208928"),
    ]
    assert statuses[1].ts_ms == 1658509200000  # pay_time, not CreateTime
    # An after-sale still waiting for the buyer's return is no refund yet.
    assert (
        wechat_shop.map_event(json.loads(fixture("wechat_shop", "skit_ChannelsECAftersaleUpdateEvent.json")))
        == []
    )


# ---- 有贊


def test_youzan_recorded_push_both_signature_forms() -> None:
    raw = fixture("youzan", "wuwebservice_trade_TradePaid.json")
    header = {"Event-Sign": md5(b"cid" + raw + b"csecret")}
    assert youzan.verify(raw, header, "cid", "csecret")
    assert not youzan.verify(raw.replace(b"0.01", b"0.02", 1), header, "cid", "csecret")
    assert not youzan.verify(raw, header, "cid", "other")
    # The body `sign` form: md5(client_id + msg + client_secret); the recorded sign is under that
    # shop's secret, so the test signs the same msg with its own.
    push = json.loads(raw)
    push["sign"] = md5(b"cid" + push["msg"].encode() + b"csecret")
    resigned = json.dumps(push).encode()
    assert youzan.verify(resigned, {}, "cid", "csecret")
    assert not youzan.verify(resigned, {}, "cid", "other")
    [line] = youzan.map_push(push)
    assert (line.status, line.order_id, line.amount, line.product_id, line.buyer_id) == (
        "paid",
        "E20180918101734022600020:1472319870133616259",
        Decimal("0.01"),
        "2147483647",
        "290195682",
    )
    assert line.ts_ms == 1537237065000  # 2018-09-18 10:17:45 Asia/Shanghai


# ---- generic, catalog, script


def test_generic_signature_and_shape() -> None:
    body = json.dumps(
        {
            "orders": [
                {
                    "order_id": "A1",
                    "status": "paid",
                    "product_id": "p-9",
                    "amount_cents": 1990,
                    "buyer_id": "u1",
                    "ts": 1700000000000,
                }
            ]
        }
    ).encode()
    secrets = ShopSecrets(shop_webhook_secret="gs")
    good = receive("generic", body, {"X-LiveCompanion-Signature": generic.sign(body, "gs")}, {}, secrets)
    assert good.verified and good.orders[0].amount == Decimal("19.90")
    assert not receive(
        "generic", body, {"X-LiveCompanion-Signature": generic.sign(body, "x")}, {}, secrets
    ).verified
    bad = json.dumps({"orders": [{"order_id": "A2", "status": "shipped", "amount": 1}]}).encode()
    got = receive("generic", bad, {"X-LiveCompanion-Signature": generic.sign(bad, "gs")}, {}, secrets)
    assert got.verified and got.orders == [] and "status" in str(got.unreadable[0]["reason"])


def test_catalog_maps_shop_ids_and_keeps_unmapped_orders() -> None:
    catalog = ShopCatalog({("youzan", "920537227"): "MASK-01", ("youzan", "909787852:37196971"): "SERUM-02"})
    push = json.loads(fixture("youzan", "wuwebservice_trade_TradePaid.json"))
    [event] = to_events(youzan.map_push(push), catalog)
    assert event["sku"] == "unmapped:youzan:2147483647"  # kept, flagged by its sku
    assert catalog.sku_for("youzan", "920537227:37201610") == "MASK-01"  # item mapped: any of its variants
    assert catalog.sku_for("youzan", "909787852:37196971") == "SERUM-02"
    assert catalog.sku_for("doudian", None) == "unmapped:doudian:unknown-item"
    parse_event(event, 0)  # a valid contract event


SCRIPT = """title: 測試
products:
  - sku: MASK-01
    name: 面膜
    shop_ids:
      youzan: [920537227, "909787852:37196971"]
      generic: [p-mask]
  - sku: SERUM-02
    name: 精華
    shop_ids:
      youzan: [920537227]
      kuaishou: ["1"]
segments:
  - kind: opening
    target: 5m
"""


def test_script_shop_ids_are_validated_with_positions() -> None:
    result = check_text(SCRIPT, "live.yaml")
    errors = [f.format() for f in result.findings if f.severity == "error"]
    assert any(e.startswith("live.yaml:11:16: error: duplicate youzan id '920537227'") for e in errors), (
        errors
    )
    assert any(e.startswith("live.yaml:12:") and "kuaishou" in e for e in errors), errors
    ok = check_text(
        SCRIPT.replace('      youzan: [920537227]\n      kuaishou: ["1"]\n', "      generic: [g-1]\n")
    )
    assert ok.script is not None and not [f for f in ok.findings if f.severity == "error"]
    catalog = ShopCatalog.from_products(ok.script.products)
    assert (
        catalog.sku_for("youzan", "920537227") == "MASK-01"
        and catalog.sku_for("generic", "g-1") == "SERUM-02"
    )


def test_bridge_print_for_recorded_shop_pushes(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from livecompanion.cli import app

    push = json.loads(fixture("youzan", "wuwebservice_trade_TradePaid.json"))
    recording = tmp_path / "youzan.ndjson"
    recording.write_text(json.dumps(push, ensure_ascii=False) + "\nnot json\n", "utf-8")
    script = tmp_path / "live.yaml"
    script.write_text(SCRIPT.replace("      youzan: [920537227]\n", "      youzan: [2147483647]\n"), "utf-8")
    result = CliRunner().invoke(
        app, ["bridge", "youzan", "--from", str(recording), "--print", "--script", str(script)]
    )
    assert result.exit_code == 2  # the script still names kuaishou: refused, with its finding
    assert "kuaishou" in result.output
    script.write_text(
        SCRIPT.replace('      youzan: [920537227]\n      kuaishou: ["1"]\n', "      youzan: [2147483647]\n")
    )
    result = CliRunner().invoke(
        app, ["bridge", "youzan", "--from", str(recording), "--print", "--script", str(script)]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [(e["sku"], e["status"], e["amount"]) for e in lines] == [("SERUM-02", "paid", "0.01")]
    assert f"{recording}:2: youzan: not JSON" in result.output


def test_a_signed_push_that_does_not_decrypt_is_a_settings_problem() -> None:
    o = OFFICIAL
    body = json.dumps({"ToUserName": o["appid"], "Encrypt": o["encrypt"]}).encode()
    params = {"msg_signature": o["msg_signature"], "timestamp": o["timestamp"], "nonce": o["nonce"]}
    other_key = "A" * 43  # a valid-looking EncodingAESKey that is not the shop's
    got = receive(
        "wechat_shop",
        body,
        {},
        params,
        ShopSecrets(wechat_shop_token=o["token"], wechat_shop_aes_key=other_key),
    )
    assert got.verified and got.orders == [] and got.settings_problem
    ok = receive(
        "wechat_shop",
        body,
        {},
        params,
        ShopSecrets(wechat_shop_token=o["token"], wechat_shop_aes_key=o["aes_key"]),
    )
    assert ok.verified and ok.settings_problem is None and ok.orders == []  # a text message: no order
