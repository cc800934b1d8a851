"""Flash sales through HTTP against one real server on SQLite (the embedded default): the endpoints,
what the screens show, the end of a sale, cancel and late payment, and a crowd of retrying buyers."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ServerProcess
from tests.realtime.screen import Screen
from tests.sales.conftest import create_stream_http, start_sale_http
from tests.sales.crowd import check_crowd, plan, run_crowd


def claim(
    server: ServerProcess, stream_id: str, sale_id: str, role: str = "ingest", **body: Any
) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/api/streams/{stream_id}/flash-sales/{sale_id}/claims",
        json=body,
        headers=server.headers(role),
        timeout=10,
    )


def state(server: ServerProcess, stream_id: str) -> dict[str, Any]:
    r = httpx.get(f"{server.base_url}/api/streams/{stream_id}", headers=server.headers("viewer"), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["state"]


def eventually(server: ServerProcess, stream_id: str, sale_id: str, **want: Any) -> dict[str, Any]:
    """The sale as the screens show it, once it shows `want` (pushes are asynchronous, and quick)."""
    deadline = time.monotonic() + 2
    while True:
        shown = state(server, stream_id)["flash_sales"][sale_id]
        if all(shown[k] == v for k, v in want.items()):
            return shown
        assert time.monotonic() < deadline, f"the screens show {shown}, not {want}"
        time.sleep(0.02)


def events(server: ServerProcess, stream_id: str, batch: list[dict[str, Any]]) -> None:
    r = httpx.post(
        f"{server.base_url}/api/streams/{stream_id}/events",
        json=batch,
        headers=server.headers("ingest"),
        timeout=10,
    )
    assert r.status_code == 200 and r.json()["accepted"] == len(batch), r.text


def order(user: str, order_id: str, status: str) -> dict[str, Any]:
    return {
        "type": "order",
        "user_id": user,
        "order_id": order_id,
        "sku": "MASK-01",
        "qty": 1,
        "amount": 79,
        "status": status,
    }


def test_start_claim_sell_out_and_stop(server: ServerProcess) -> None:
    stream_id = create_stream_http(server)
    base = f"{server.base_url}/api/streams/{stream_id}/flash-sales"
    terms = {
        "sku": "MASK-01",
        "price": 79,
        "stock": 3,
        "duration_seconds": 600,
        "first_n": 2,
        "first_n_bonus": "立減50元",
        "per_user_limit": 2,
    }
    assert httpx.post(base, json=terms, headers=server.headers("ingest")).status_code == 403
    assert httpx.post(base, json=terms).status_code == 401
    assert httpx.post(base, json={**terms, "stock": 0}, headers=server.headers("operator")).status_code == 422
    assert (
        httpx.post(
            f"{server.base_url}/api/streams/nope/flash-sales", json=terms, headers=server.headers("operator")
        ).status_code
        == 404
    )
    sale = start_sale_http(server, stream_id, **{k: v for k, v in terms.items() if k not in ("sku",)})
    assert sale["ends_at"] - sale["started_ms"] == 600_000 and sale["status"] == "live"
    assert (sale["name"], sale["list_price"], sale["price"], sale["benefits"]) == (
        "玻尿酸補水面膜 10片",
        199,
        79,
        ["買二送一"],
    )
    sale_id = sale["id"]
    assert state(server, stream_id)["flash_sales"][sale_id]["remaining"] == 3

    assert claim(server, stream_id, sale_id, role="viewer", user_id="a").status_code == 403
    assert claim(server, stream_id, sale_id, user_id="").status_code == 422
    assert claim(server, stream_id, sale_id, user_id="a", qty=0).status_code == 422
    assert claim(server, stream_id, sale_id, user_id="a", extra=1).status_code == 422
    assert claim(server, stream_id, "nope", user_id="a").status_code == 404

    first = claim(server, stream_id, sale_id, user_id="a", order_id="o1")
    assert first.status_code == 201
    assert {k: first.json()[k] for k in ("rank", "bonus", "remaining", "replayed")} == {
        "rank": 1,
        "bonus": True,
        "remaining": 2,
        "replayed": False,
    }
    assert claim(server, stream_id, sale_id, user_id="a", qty=2).json() == {
        "detail": "limit_reached",
        "remaining": 2,
    }
    two = claim(server, stream_id, sale_id, user_id=12345, qty=2, order_id=777).json()  # numeric ids are ids
    assert (two["rank"], two["bonus"], two["remaining"], two["order_id"]) == (2, True, 0, "777")
    sold_out = claim(server, stream_id, sale_id, user_id="c", order_id="o3")
    assert (sold_out.status_code, sold_out.json()) == (409, {"detail": "sold_out", "remaining": 0})
    again = claim(server, stream_id, sale_id, user_id="a", order_id="o1")  # the retry after the sell-out
    assert again.status_code == 201 and again.json()["rank"] == 1 and again.json()["replayed"] is True
    conflict = claim(server, stream_id, sale_id, user_id="z", order_id="o1")
    assert (conflict.status_code, conflict.json()["detail"]) == (409, "order_id_conflict")
    eventually(server, stream_id, sale_id, remaining=0, sold=3, status="sold_out", first_n_left=0)

    stopped = httpx.post(f"{base}/{sale_id}/stop", headers=server.headers("operator")).json()
    assert stopped["status"] == "stopped" and stopped["stopped_ms"] is not None
    assert claim(server, stream_id, sale_id, user_id="d").status_code == 410
    got = httpx.get(f"{base}/{sale_id}", headers=server.headers("viewer")).json()
    assert got["record"]["claims"] == 2 and got["record"]["units_held"] == 3 and got["record"]["buyers"] == 2
    assert [s["id"] for s in httpx.get(base, headers=server.headers("viewer")).json()] == [sale_id]
    eventually(server, stream_id, sale_id, status="stopped")


def test_the_sale_ends_on_time_on_every_screen(server: ServerProcess) -> None:
    stream_id = create_stream_http(server)
    sale = start_sale_http(server, stream_id, stock=5, duration_seconds=1)

    async def watch() -> dict[str, Any]:
        screen = await Screen.open(server.ws_url, stream_id, server.tokens["viewer"])
        try:
            await screen.until(
                lambda m: screen.state.get("flash_sales", {}).get(sale["id"], {}).get("status") == "ended",
                timeout=3,
            )
            return screen.state["flash_sales"][sale["id"]]
        finally:
            await screen.ws.close()

    assert claim(server, stream_id, sale["id"], user_id="a").status_code == 201
    shown = asyncio.run(watch())
    assert shown["ends_at"] == sale["ends_at"] and int(time.time() * 1000) - sale["ends_at"] < 2000
    assert claim(server, stream_id, sale["id"], user_id="b").status_code == 410
    assert claim(server, stream_id, sale["id"], user_id="b").json() == {"detail": "ended"}


def test_a_cancel_releases_the_unit_and_a_late_payment_is_flagged(
    server: ServerProcess, tmp_path: Path
) -> None:
    stream_id = create_stream_http(server)
    sale_id = start_sale_http(server, stream_id, stock=1)["id"]
    assert claim(server, stream_id, sale_id, user_id="a", order_id="A-1").status_code == 201
    events(server, stream_id, [order("a", "A-1", "created")])
    assert claim(server, stream_id, sale_id, user_id="b", order_id="B-1").status_code == 409
    events(server, stream_id, [order("a", "A-1", "cancelled")])
    eventually(server, stream_id, sale_id, remaining=1, status="live")  # the unit is back, on screens too
    b = claim(server, stream_id, sale_id, user_id="b", order_id="B-1")
    assert (b.status_code, b.json()["rank"]) == (201, 2)
    events(server, stream_id, [order("a", "A-1", "paid"), order("b", "B-1", "paid")])  # A pays too late
    assert claim(server, stream_id, sale_id, user_id="c").status_code == 409  # not sold twice
    deadline = time.monotonic() + 5  # the order step runs just after the answer (an answer means stored)
    while True:
        with sqlite3.connect(tmp_path / "data" / "livecompanion.sqlite3") as db:
            claims = db.execute("SELECT order_id, rank, status FROM claims ORDER BY rank").fetchall()
            flagged = db.execute("SELECT order_id, flagged FROM orders ORDER BY order_id").fetchall()
            sold = db.execute("SELECT sold FROM flash_sales WHERE id = ?", (sale_id,)).fetchone()[0]
        if claims == [("A-1", 1, "late_paid"), ("B-1", 2, "paid")] or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert claims == [("A-1", 1, "late_paid"), ("B-1", 2, "paid")]
    assert flagged[0][0] == "A-1" and "released" in flagged[0][1] and flagged[1] == ("B-1", None)
    assert sold == 1
    replay = claim(server, stream_id, sale_id, user_id="a", order_id="A-1").json()
    assert (replay["rank"], replay["status"]) == (1, "late_paid")


@pytest.mark.timeout(120)
def test_a_crowd_of_retrying_buyers_on_sqlite(server: ServerProcess, tmp_path: Path) -> None:
    stock, limit, first_n = 80, 2, 20
    stream_id = create_stream_http(server)
    sale_id = start_sale_http(server, stream_id, stock=stock, per_user_limit=limit, first_n=first_n)["id"]
    requests = plan(buyers=320)  # 800 requests: 10x the stock
    result = asyncio.run(run_crowd([server], stream_id, sale_id, requests, concurrency=48))
    granted = check_crowd(result, stock, limit, first_n)
    with sqlite3.connect(tmp_path / "data" / "livecompanion.sqlite3") as db:
        recorded = db.execute(
            "SELECT order_id, rank, qty, user_id FROM claims WHERE sale_id = ?", (sale_id,)
        ).fetchall()
        sold, next_rank = db.execute(
            "SELECT sold, next_rank FROM flash_sales WHERE id = ?", (sale_id,)
        ).fetchone()
    assert sorted(recorded) == sorted((o, c["rank"], c["qty"], result.users[o]) for o, c in granted.items())
    assert (sold, next_rank) == (stock, stock + 1)
    eventually(server, stream_id, sale_id, remaining=0, status="sold_out")
