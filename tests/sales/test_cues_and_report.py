"""The operator's one-click cues start flash sales and lotteries; report_records gives the
after-stream report its flash sales (claims over time) and lotteries, in the shapes it reads."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import httpx

from livecompanion.analytics.extras import flash_sale_summary, lottery_summary
from livecompanion.sales.service import report_records
from livecompanion.storage.db import Database
from tests.conftest import ServerProcess

CUED = """title: 補水專場
products:
  - sku: MASK-01
    name: 玻尿酸補水面膜 10片
    list_price: 199
    live_price: 99
segments:
  - id: close
    kind: closing
    target: 10m
    cues:
      - at: 1m
        action: flash_sale
        sku: MASK-01
        price: 79.5
        stock: 3
        duration: 5m
        first_n: 1
        first_n_bonus: 立減50元
        per_user_limit: 2
      - at: 6m
        action: lottery
        keyword: 想要
        winners: 1
        duration: 2m
        prize: 免單
"""


def test_cues_then_the_report_records(server: ServerProcess, tmp_path: Path) -> None:
    r = httpx.post(
        f"{server.base_url}/api/streams",
        content=CUED.encode(),
        headers={**server.headers("operator"), "Content-Type": "application/yaml"},
    )
    assert r.status_code == 201, r.text
    stream_id = r.json()["id"]
    fire = f"{server.base_url}/api/streams/{stream_id}/cues/close"
    sale = httpx.post(f"{fire}/0/fire", headers=server.headers("operator"))
    assert sale.status_code == 200, sale.text
    sale_id = sale.json()["result"]["id"]
    got = httpx.get(
        f"{server.base_url}/api/streams/{stream_id}/flash-sales/{sale_id}", headers=server.headers("viewer")
    ).json()
    assert (got["price"], got["stock"], got["first_n"], got["per_user_limit"], got["list_price"]) == (
        79.5,
        3,
        1,
        2,
        199,
    )
    assert (
        got["ends_at"] - got["started_ms"] == 300_000 and got["ends_at"] == sale.json()["result"]["ends_at"]
    )
    lottery = httpx.post(f"{fire}/1/fire", headers=server.headers("operator"))
    assert lottery.status_code == 200, lottery.text
    lottery_id = lottery.json()["result"]["id"]

    claims = f"{server.base_url}/api/streams/{stream_id}/flash-sales/{sale_id}/claims"
    for user, qty in (("a", 2), ("b", 1)):
        assert (
            httpx.post(
                claims, json={"user_id": user, "qty": qty}, headers=server.headers("ingest")
            ).status_code
            == 201
        )
    httpx.post(
        f"{server.base_url}/api/streams/{stream_id}/events",
        headers=server.headers("ingest"),
        json=[{"type": "comment", "user_id": "a", "nickname": "阿花", "text": "想要"}],
    )
    httpx.post(
        f"{server.base_url}/api/streams/{stream_id}/lotteries/{lottery_id}/draw",
        headers=server.headers("operator"),
    )

    async def records() -> dict:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'livecompanion.sqlite3'}")
        try:
            return await report_records(db, stream_id)
        finally:
            await db.dispose()

    found = asyncio.run(records())
    (fs,), (lot,) = found["flash_sales"], found["lotteries"]
    assert [(c["user_id"], c["qty"], c["rank"], c["bonus"]) for c in fs["claims"]] == [
        ("a", 2, 1, True),
        ("b", 1, 3, False),
    ]
    assert fs["sold_out_at"] is not None and fs["stock"] == 3
    assert (lot["entrants"], lot["winner_count"], len(lot["seed"])) == (1, 1, 32)
    assert lot["winners"] == [{"user_id": "a", "nickname": "阿花"}]

    def iso(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, UTC).isoformat()

    summary = flash_sale_summary(
        fs,
        alias=lambda u: u and f"viewer-{u}",
        iso=iso,
        segment_at=lambda ms: "close",
        product_name=lambda sku: "面膜",
    )
    assert (summary["sold"], summary["sell_through"], summary["buyers"], summary["first_n_claimed"]) == (
        3,
        1.0,
        2,
        2,
    )
    shown = lottery_summary(lot, alias=lambda u: u and f"viewer-{u}", iso=iso, segment_at=lambda ms: "close")
    assert (
        shown["entrants"] == 1
        and shown["winners"][0]["viewer"] == "viewer-a"
        and shown["seed"] == lot["seed"]
    )
