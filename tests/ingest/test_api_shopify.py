"""POST /api/streams/{id}/webhooks/shopify against a real server: signature over the raw body,
re-deliveries are duplicates, orders move created -> paid, and no secret means not configured."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import httpx

from tests.conftest import start_server
from tests.ingest.ingest_client import create_stream, sqlite_url_of, stored_orders

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SECRET = "shpss_test_secret"


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def deliver(
    base: str, sid: str, topic: str, body: bytes, *, webhook_id: str, signature: str | None = None
) -> httpx.Response:
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(body) if signature is None else signature,
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Shop-Domain": "example.myshopify.com",
    }
    return httpx.post(f"{base}/api/streams/{sid}/webhooks/shopify", content=body, headers=headers, timeout=30)


async def test_shopify_orders_webhooks(tmp_path: Path) -> None:
    server = start_server(tmp_path, extra_env={"LIVECOMPANION_SHOPIFY_SECRET": SECRET})
    try:
        sid = create_stream(server)
        created = (FIXTURES / "shopify_orders_create.json").read_bytes()
        paid = (FIXTURES / "shopify_orders_paid.json").read_bytes()

        r = deliver(server.base_url, sid, "orders/create", created, webhook_id="w-1")
        assert r.status_code == 200, r.text
        assert r.json() | {"rejected": None} == {
            "topic": "orders/create",
            "webhook_id": "w-1",
            "accepted": 2,
            "duplicates": 0,
            "rejected": None,
        }
        # Shopify re-delivers the same webhook: nothing changes.
        again = deliver(server.base_url, sid, "orders/create", created, webhook_id="w-1")
        assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 2)
        assert deliver(server.base_url, sid, "orders/paid", paid, webhook_id="w-2").json()["accepted"] == 2

        # The signature is over the raw bytes: the same JSON re-serialised does not pass, nor a wrong secret.
        respaced = created.replace(b": ", b":")
        assert (
            deliver(
                server.base_url, sid, "orders/create", respaced, webhook_id="w-3", signature=sign(created)
            ).status_code
            == 401
        )
        assert (
            deliver(
                server.base_url,
                sid,
                "orders/create",
                created,
                webhook_id="w-4",
                signature=sign(created, "other"),
            ).status_code
            == 401
        )
        assert (
            deliver(
                server.base_url, sid, "orders/create", created, webhook_id="w-5", signature=""
            ).status_code
            == 401
        )
        # Topics without events are acknowledged (so Shopify stops retrying); unreadable payloads say why.
        other = deliver(server.base_url, sid, "products/update", b'{"id": 1}', webhook_id="w-6")
        assert other.status_code == 200 and other.json()["accepted"] == 0
        bad = deliver(
            server.base_url,
            sid,
            "orders/paid",
            b'{"id": 7, "total_price": "1.00", "line_items": []}',
            webhook_id="w-7",
        )
        assert bad.status_code == 200 and "line_items" in bad.json()["rejected"][0]["reason"]
        assert deliver(server.base_url, "nope", "orders/paid", paid, webhook_id="w-8").status_code == 404

        orders = await stored_orders(sqlite_url_of(tmp_path), sid)
        assert len(orders) == 2 and all(status == "paid" and paid_ts for status, paid_ts in orders.values())
        state = httpx.get(f"{server.base_url}/api/streams/{sid}", headers=server.headers("viewer")).json()[
            "state"
        ]
        assert state["metrics"]["orders"] == 2 and state["metrics"]["gmv"] == 237
    finally:
        server.stop()


def test_without_a_secret_the_webhook_is_not_configured(server) -> None:  # type: ignore[no-untyped-def]
    sid = create_stream(server)
    body = (FIXTURES / "shopify_orders_paid.json").read_bytes()
    r = deliver(server.base_url, sid, "orders/paid", body, webhook_id="w-1", signature=sign(body, ""))
    assert r.status_code == 503 and "LIVECOMPANION_SHOPIFY_SECRET" in r.json()["detail"]


async def test_shopify_orders_of_another_day_are_refused(tmp_path: Path) -> None:
    """With the time window on (the service's default, 24 h), the 2024 example orders are refused."""
    env = {"LIVECOMPANION_SHOPIFY_SECRET": SECRET, "LIVECOMPANION_MAX_TS_SKEW_HOURS": "24"}
    server = start_server(tmp_path, extra_env=env)
    try:
        sid = create_stream(server)
        created = (FIXTURES / "shopify_orders_create.json").read_bytes()
        r = deliver(server.base_url, sid, "orders/create", created, webhook_id="w-old")
        assert r.status_code == 200, r.text
        assert r.json()["accepted"] == 0
        assert all("from the server's clock" in item["reason"] for item in r.json()["rejected"])
    finally:
        server.stop()
