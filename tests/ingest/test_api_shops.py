"""Shop webhooks against a real server process (on SQLite and on PostgreSQL): each shop's
signature on the raw body (good body accepted, one changed byte refused, a wrong secret refused,
a replay a duplicate), the answer each shop expects, shop ids mapped to skus, and an order moved
created -> paid -> refunded arriving in the record and the report exactly once per state.
Bodies come from fixtures/shops (SOURCES.md)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from livecompanion.shops import generic, wechat_shop
from livecompanion.storage.db import Database
from livecompanion.storage.tables import EventRow
from tests.conftest import ServerProcess, start_server
from tests.ingest.ingest_client import create_stream

SHOPS = Path(__file__).resolve().parent / "fixtures" / "shops"
ENV = {
    "LIVECOMPANION_DOUDIAN_APP_KEY": "7043675397937989128",
    "LIVECOMPANION_DOUDIAN_APP_SECRET": "dd-secret",
    "LIVECOMPANION_YOUZAN_CLIENT_ID": "yz-client",
    "LIVECOMPANION_YOUZAN_CLIENT_SECRET": "yz-secret",
    "LIVECOMPANION_WECHAT_SHOP_TOKEN": "wx-token",
    "LIVECOMPANION_WECHAT_SHOP_AES_KEY": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
    "LIVECOMPANION_WECHAT_SHOP_APPID": "wxshop0001",
    "LIVECOMPANION_SHOP_WEBHOOK_SECRET": "generic-secret",
}
SCRIPT = """title: 秋冬補水專場
products:
  - sku: MASK-01
    name: 玻尿酸補水面膜
    live_price: 99
    shop_ids:
      youzan: [2147483647]
      generic: [p-mask]
segments:
  - kind: opening
    target: 5m
"""


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def new_stream(server: ServerProcess) -> str:
    return create_stream(server, SCRIPT.encode())


def push(
    server: ServerProcess, sid: str, shop: str, body: bytes, headers: dict[str, str], **params: str
) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/api/streams/{sid}/webhooks/{shop}",
        content=body,
        headers=headers,
        params=params,
        timeout=30,
    )


async def order_events(url: str, sid: str) -> list[dict[str, Any]]:
    """The order events in the server's record, in the order stored."""
    db = Database(url)
    try:
        async with db.session() as s:
            rows = await s.scalars(
                select(EventRow.body)
                .where(EventRow.stream_id == sid, EventRow.type == "order")
                .order_by(EventRow.seq)
            )
            return list(rows)
    finally:
        await db.dispose()


def doudian_push(tag: str, data: dict[str, object], msg_id: str) -> bytes:
    # The wire envelope (SOURCES.md): an array of {tag, msg_id, data as JSON text}.
    return json.dumps([{"tag": tag, "msg_id": msg_id, "data": json.dumps(data)}]).encode()


def doudian_headers(body: bytes, secret: str = "dd-secret") -> dict[str, str]:
    key = ENV["LIVECOMPANION_DOUDIAN_APP_KEY"]
    return {
        "app-id": key,
        "event-sign": md5(key.encode() + body + secret.encode()),
        "Content-Type": "application/json",
    }


def test_shop_pushes_end_to_end(tmp_path: Path, database_url: str) -> None:
    server = start_server(tmp_path, database_url=database_url, extra_env=ENV)
    try:
        sid = new_stream(server)
        ok = b'{"code":0,"msg":"success"}'

        # 有贊: the recorded push as it is, Event-Sign over its raw bytes.
        raw = (SHOPS / "youzan" / "wuwebservice_trade_TradePaid.json").read_bytes()
        sign = {"Event-Sign": md5(b"yz-client" + raw + b"yz-secret"), "Content-Type": "application/json"}
        first = push(server, sid, "youzan", raw, sign)
        assert (first.status_code, first.content) == (200, ok)
        assert push(server, sid, "youzan", raw, sign).content == ok  # re-delivered: answered, a duplicate
        assert push(server, sid, "youzan", raw.replace(b"0.01", b"9.01", 1), sign).status_code == 401
        wrong = {"Event-Sign": md5(b"yz-client" + raw + b"other"), "Content-Type": "application/json"}
        assert push(server, sid, "youzan", raw, wrong).status_code == 401

        # 抖店: one order through created, paid, refund success (the SDK samples' fields, one p_id).
        samples = {
            n: json.loads((SHOPS / "doudian" / f"skit_{n}.json").read_bytes())["data"]
            for n in ("TradeCreateEvent", "TradePaidEvent", "RefundSuccessEvent")
        }
        p_id = "4705288465508532862"
        bodies = [
            doudian_push("100", {**samples["TradeCreateEvent"], "p_id": p_id}, "m-100"),
            doudian_push("101", {**samples["TradePaidEvent"], "p_id": p_id}, "m-101"),
            doudian_push("206", samples["RefundSuccessEvent"], "m-206"),
        ]
        for body in bodies + bodies:  # each twice: the second time a duplicate
            r = push(server, sid, "doudian", body, doudian_headers(body))
            assert (r.status_code, r.content) == (200, ok), r.text
        assert (
            push(server, sid, "doudian", bodies[1][:-2] + b"]]", doudian_headers(bodies[1])).status_code
            == 401
        )
        assert push(server, sid, "doudian", bodies[1], doudian_headers(bodies[1], "other")).status_code == 401

        # 微信小店: encrypted JSON pushes of the SDK samples, signed and encrypted with test keys.
        for name in ("ChannelsECOrderNewEvent", "ChannelsECOrderPayEvent"):
            plain = (SHOPS / "wechat_shop" / f"skit_{name}.json").read_bytes()
            encrypted = wechat_shop.encrypt(
                plain, ENV["LIVECOMPANION_WECHAT_SHOP_AES_KEY"], "wxshop0001", b"0123456789abcdef"
            )
            body = json.dumps({"ToUserName": "gh_test", "Encrypt": encrypted}).encode()
            params = {"timestamp": "1662480000", "nonce": "77", "encrypt_type": "aes"}
            params["msg_signature"] = wechat_shop.signature(
                "wx-token", params["timestamp"], params["nonce"], encrypted
            )
            for _ in range(2):
                r = push(server, sid, "wechat_shop", body, {"Content-Type": "application/json"}, **params)
                assert (r.status_code, r.text) == (200, "success")
            tampered = body.replace(encrypted[:8].encode(), b"AAAAAAAA")
            assert push(server, sid, "wechat_shop", tampered, {}, **params).status_code == 401
            forged = {
                **params,
                "msg_signature": wechat_shop.signature(
                    "other", params["timestamp"], params["nonce"], encrypted
                ),
            }
            assert push(server, sid, "wechat_shop", body, {}, **forged).status_code == 401
        check = {"timestamp": "1", "nonce": "2", "echostr": "4375120948345356249"}
        check["signature"] = wechat_shop.signature("wx-token", "1", "2")
        r = httpx.get(f"{server.base_url}/api/streams/{sid}/webhooks/wechat_shop", params=check)
        assert (r.status_code, r.text) == (200, "4375120948345356249")

        # Generic: created -> paid -> refunded, and an item the script does not map.
        states = [
            {
                "order_id": "G-1",
                "status": s,
                "product_id": "p-mask",
                "qty": 2,
                "amount": "198.00",
                "buyer_id": "u-1",
                "ts": 1765022400000 + i * 60_000,
            }
            for i, s in enumerate(("created", "paid", "refunded"))
        ]
        states.append(
            {
                "order_id": "G-2",
                "status": "paid",
                "product_id": "p-unknown",
                "amount": "10.00",
                "buyer_id": "u-2",
                "ts": 1765022500000,
            }
        )
        body = json.dumps({"orders": states}).encode()
        signed = {"X-LiveCompanion-Signature": generic.sign(body, "generic-secret")}
        r = push(server, sid, "generic", body, signed)
        assert r.status_code == 200 and (r.json()["accepted"], r.json()["duplicates"]) == (4, 0), r.text
        r = push(server, sid, "generic", body, signed)
        assert (r.json()["accepted"], r.json()["duplicates"]) == (0, 4)
        assert push(server, sid, "generic", body + b" ", signed).status_code == 401

        events = asyncio.run(order_events(database_url, sid))
        per_state: dict[tuple[object, object], int] = {}
        for e in events:
            per_state[(e["order_id"], e["status"])] = per_state.get((e["order_id"], e["status"]), 0) + 1
        assert all(count == 1 for count in per_state.values()), per_state
        assert {s for (o, s) in per_state if o == p_id} == {"created", "paid", "refunded"}
        assert {s for (o, s) in per_state if o == "G-1"} == {"created", "paid", "refunded"}
        skus = {e["order_id"]: e["sku"] for e in events}
        assert skus["E20180918101734022600020:1472319870133616259"] == "MASK-01"  # youzan item_id mapped
        assert skus["G-1"] == "MASK-01" and skus["G-2"] == "unmapped:generic:p-unknown"
        assert skus[p_id] == "unmapped:doudian:unknown-item"

        report = httpx.get(
            f"{server.base_url}/api/streams/{sid}/report", headers=server.headers("viewer")
        ).json()
        # Paid: youzan 0.01, doudian 29.90, wechat 0, G-1 198, G-2 10; refunded: doudian (132.00 refund
        # message amount does not replace the paid amount) and G-1.
        assert report["orders"] == 5
        assert float(report["gmv"]) == pytest.approx(0.01 + 29.90 + 198.00 + 10.00)
        assert float(report["refund_amount"]) == pytest.approx(29.90 + 198.00)
    finally:
        server.stop()


def test_unconfigured_shops_say_what_to_set(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        sid = new_stream(server)
        for shop, name in (
            ("doudian", "DOUDIAN_APP_SECRET"),
            ("youzan", "YOUZAN_CLIENT_ID"),
            ("wechat_shop", "WECHAT_SHOP_TOKEN"),
            ("generic", "SHOP_WEBHOOK_SECRET"),
        ):
            r = push(server, sid, shop, b"[]", {})
            assert r.status_code == 503 and f"LIVECOMPANION_{name}" in r.json()["detail"], r.text
    finally:
        server.stop()


def test_a_flash_sale_reconciles_with_shop_payments(tmp_path: Path) -> None:
    """Claims sent with the shop's order id, the shop's paid pushes, and the report's 對賬."""
    server = start_server(tmp_path, extra_env=ENV)
    try:
        sid = new_stream(server)
        sales = f"{server.base_url}/api/streams/{sid}/flash-sales"
        terms = {"sku": "MASK-01", "price": 79, "stock": 10, "duration_seconds": 600}
        sale = httpx.post(sales, json=terms, headers=server.headers("operator"), timeout=10)
        assert sale.status_code == 201, sale.text
        claims = f"{sales}/{sale.json()['id']}/claims"
        for body in ({"user_id": "v1", "order_id": "S-1"}, {"user_id": "v2", "order_id": "S-2"}):
            r = httpx.post(claims, json=body, headers=server.headers("ingest"), timeout=10)
            assert r.status_code == 201, r.text
        # The shop reports S-1 paid (claimed) and S-3 paid (never claimed); S-2 is never paid.
        paid = [
            {"order_id": o, "status": "paid", "product_id": "p-mask", "amount": "79.00", "buyer_id": b}
            for o, b in (("S-1", "shop-buyer-1"), ("S-3", "shop-buyer-3"))
        ]
        body = json.dumps({"orders": paid}).encode()
        r = push(
            server, sid, "generic", body, {"X-LiveCompanion-Signature": generic.sign(body, "generic-secret")}
        )
        assert r.json()["accepted"] == 2, r.text

        report = httpx.get(
            f"{server.base_url}/api/streams/{sid}/report", headers=server.headers("viewer"), timeout=30
        ).json()
        rec = report["flash_sales"][0]["reconciliation"]
        assert (rec["claims"], rec["paid_orders"], rec["matched"]) == (2, 2, 1), rec
        assert [c["order_id"] for c in rec["unpaid_claims"]] == ["S-2"]
        assert [p["order_id"] for p in rec["unclaimed_payments"]] == ["S-3"]
        html = httpx.get(
            f"{server.base_url}/api/streams/{sid}/report",
            params={"format": "html"},
            headers=server.headers("viewer"),
            timeout=30,
        ).text
        assert 'data-unpaid="1" data-unclaimed="1"' in html and "#S-2" in html and "#S-3" in html
    finally:
        server.stop()
