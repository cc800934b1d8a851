"""Two real instances sharing PostgreSQL and Redis: a crowd split over both, screens on both, order
events on the other instance, and Redis killed in the middle of a sale."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from livecompanion.storage.db import Database
from livecompanion.storage.tables import ClaimRow, FlashSaleRow, OrderRow
from tests.conftest import ServerProcess
from tests.realtime.screen import Screen
from tests.sales.conftest import ThrowawayRedis, create_stream_http, start_sale_http
from tests.sales.crowd import check_crowd, plan, run_crowd

pytestmark = pytest.mark.timeout(180)


def claims_url(server: ServerProcess, stream_id: str, sale_id: str) -> str:
    return f"{server.base_url}/api/streams/{stream_id}/flash-sales/{sale_id}/claims"


async def record(url: str, sale_id: str) -> tuple[list[tuple[Any, ...]], FlashSaleRow]:
    db = Database(url)
    try:
        async with db.session() as session:
            claims = (
                await session.execute(
                    select(
                        ClaimRow.order_id, ClaimRow.rank, ClaimRow.qty, ClaimRow.user_id, ClaimRow.status
                    ).where(ClaimRow.sale_id == sale_id)
                )
            ).all()
            sale = await session.get(FlashSaleRow, sale_id)
            return [tuple(c) for c in claims], sale  # type: ignore[return-value]
    finally:
        await db.dispose()


def test_a_crowd_over_two_instances(
    server_factory: Any, postgres_url: str, deployment_redis: dict[str, Any]
) -> None:
    a = server_factory(database_url=postgres_url, **deployment_redis)
    b = server_factory(database_url=postgres_url, **deployment_redis)
    stock, limit, first_n = 150, 2, 30
    stream_id = create_stream_http(a)
    sale_id = start_sale_http(a, stream_id, stock=stock, per_user_limit=limit, first_n=first_n)["id"]
    requests = plan(buyers=600)  # 1,500 requests: 10x the stock, every order sent to both instances

    async def crowd_watched_from_b() -> tuple[Any, dict[str, Any]]:
        screen = await Screen.open(b.ws_url, stream_id, b.tokens["viewer"])
        try:
            result = await run_crowd([a, b], stream_id, sale_id, requests, concurrency=96)
            sold_out_at = time.monotonic()
            await screen.until(
                lambda m: screen.state["flash_sales"][sale_id]["status"] == "sold_out", timeout=3
            )
            assert time.monotonic() - sold_out_at < 1.5
            return result, screen.state["flash_sales"][sale_id]
        finally:
            await screen.ws.close()

    result, shown = asyncio.run(crowd_watched_from_b())
    granted = check_crowd(result, stock, limit, first_n)
    assert (shown["remaining"], shown["sold"], shown["first_n_left"]) == (0, stock, 0)
    # Every claim answered 201 is in the record already (durable answers), exactly once.
    claims, sale = asyncio.run(record(postgres_url, sale_id))
    assert sorted(c[:4] for c in claims) == sorted(
        (order, c["rank"], c["qty"], result.users[order]) for order, c in granted.items()
    )
    assert (sale.sold, sale.next_rank, sale.sold_out_ms is not None) == (stock, stock + 1, True)
    for server in (a, b):
        got = httpx.get(
            f"{server.base_url}/api/streams/{stream_id}/flash-sales/{sale_id}",
            headers=server.headers("viewer"),
        ).json()
        assert (got["remaining"], got["status"], got["record"]["units_held"]) == (0, "sold_out", stock)


def test_order_events_on_one_instance_move_claims_made_on_the_other(
    server_factory: Any, postgres_url: str, deployment_redis: dict[str, Any]
) -> None:
    a = server_factory(database_url=postgres_url, **deployment_redis)
    b = server_factory(database_url=postgres_url, **deployment_redis)
    stream_id = create_stream_http(a)
    sale_id = start_sale_http(a, stream_id, stock=1)["id"]

    def order(server: ServerProcess, user: str, order_id: str, status: str) -> None:
        body = [
            {
                "type": "order",
                "user_id": user,
                "order_id": order_id,
                "sku": "MASK-01",
                "qty": 1,
                "amount": 79,
                "status": status,
            }
        ]
        r = httpx.post(
            f"{server.base_url}/api/streams/{stream_id}/events", json=body, headers=server.headers("ingest")
        )
        assert r.status_code == 200, r.text

    assert (
        httpx.post(
            claims_url(a, stream_id, sale_id),
            json={"user_id": "x", "order_id": "X-1"},
            headers=a.headers("ingest"),
        ).status_code
        == 201
    )
    assert (
        httpx.post(
            claims_url(b, stream_id, sale_id),
            json={"user_id": "y", "order_id": "Y-1"},
            headers=b.headers("ingest"),
        ).status_code
        == 409
    )
    order(b, "x", "X-1", "cancelled")  # on the other instance
    deadline = time.monotonic() + 5  # the unit comes back just after the cancel's answer
    while True:
        y = httpx.post(
            claims_url(a, stream_id, sale_id),
            json={"user_id": "y", "order_id": "Y-1"},
            headers=a.headers("ingest"),
        )
        if y.status_code != 409 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert (y.status_code, y.json()["rank"]) == (201, 2)
    order(a, "x", "X-1", "paid")  # too late: flagged, not sold twice
    assert (
        httpx.post(
            claims_url(b, stream_id, sale_id), json={"user_id": "z"}, headers=b.headers("ingest")
        ).status_code
        == 409
    )

    async def settled() -> tuple[list[tuple[Any, ...]], Any]:
        deadline = time.monotonic() + 5
        while True:
            claims, sale = await record(postgres_url, sale_id)
            if (
                sorted((c[0], c[4]) for c in claims) == [("X-1", "late_paid"), ("Y-1", "claimed")]
                or time.monotonic() > deadline
            ):
                db = Database(postgres_url)
                async with db.session() as session:
                    flagged = await session.scalar(select(OrderRow.flagged).where(OrderRow.order_id == "X-1"))
                await db.dispose()
                return claims, (sale, flagged)
            await asyncio.sleep(0.05)

    claims, (sale, flagged) = asyncio.run(settled())
    assert sorted((c[0], c[1], c[4]) for c in claims) == [("X-1", 1, "late_paid"), ("Y-1", 2, "claimed")]
    assert sale.sold == 1 and flagged and "released" in flagged


def test_redis_killed_mid_sale(
    server_factory: Any, postgres_url: str, throwaway_redis: ThrowawayRedis
) -> None:
    """503s and nothing oversold while Redis is gone, the rest of the service answers, every claim
    answered 201 before is in PostgreSQL; a fresh Redis picks the sale up from the record."""
    a = server_factory(database_url=postgres_url, redis_url=throwaway_redis.url)
    b = server_factory(database_url=postgres_url, redis_url=throwaway_redis.url)
    stock = 100
    stream_id = create_stream_http(a)
    sale_id = start_sale_http(a, stream_id, stock=stock, per_user_limit=1)["id"]

    async def wave(users: range, kill_after: int | None = None) -> list[tuple[str, int, dict[str, Any]]]:
        out: list[tuple[str, int, dict[str, Any]]] = []
        async with httpx.AsyncClient(timeout=15) as client:

            async def one(i: int) -> None:
                server = (a, b)[i % 2]
                r = await client.post(
                    claims_url(server, stream_id, sale_id),
                    json={"user_id": f"u{i}", "order_id": f"o{i}"},
                    headers=server.headers("ingest"),
                )
                out.append(
                    (f"o{i}", r.status_code, {**r.json(), "retry_after": r.headers.get("retry-after")})
                )

            tasks = [asyncio.create_task(one(i)) for i in users]
            if kill_after is not None:
                while len(out) < kill_after:
                    await asyncio.sleep(0.001)
                throwaway_redis.kill()  # in the middle of the wave
            await asyncio.gather(*tasks)
        return out

    first = asyncio.run(wave(range(80), kill_after=30))
    ok = {order: body for order, code, body in first if code == 201}
    assert {code for _, code, _ in first} <= {201, 503} and 30 <= len(ok) <= 80
    unavailable = [body for _, code, body in first if code == 503]
    assert all(body["retry_after"] == "1" for body in unavailable)

    after = asyncio.run(wave(range(100, 140)))
    assert {code for _, code, _ in after} == {503}  # fail closed: nothing claimed while Redis is gone
    # The rest of the service answers.
    for server in (a, b):
        assert httpx.get(f"{server.base_url}/healthz").status_code == 200
        got = httpx.get(
            f"{server.base_url}/api/streams/{stream_id}/flash-sales/{sale_id}",
            headers=server.headers("viewer"),
        )
        assert got.status_code == 200 and got.json()["numbers_from"] == "record"
    assert create_stream_http(b)
    # Every claim answered 201 is in PostgreSQL; nothing beyond the stock.
    claims, sale = asyncio.run(record(postgres_url, sale_id))
    recorded = {c[0]: c[1] for c in claims}
    assert {order: body["rank"] for order, body in ok.items()}.items() <= recorded.items()
    assert len(claims) <= stock and len({c[1] for c in claims}) == len(claims)

    # A fresh, empty Redis on the same address: the sale comes back from the record.
    throwaway_redis.__init__(throwaway_redis.log.parent, port=throwaway_redis.port)  # type: ignore[misc]

    async def retry_until_answered(order: str, user: str) -> httpx.Response:
        async with httpx.AsyncClient(timeout=15) as client:
            for _ in range(50):
                r = await client.post(
                    claims_url(a, stream_id, sale_id),
                    json={"user_id": user, "order_id": order},
                    headers=a.headers("ingest"),
                )
                if r.status_code != 503:
                    return r
                await asyncio.sleep(0.1)
        raise AssertionError("Redis came back but claims still fail")

    some_order = next(iter(ok))
    replay = asyncio.run(retry_until_answered(some_order, "u" + some_order[1:]))
    assert replay.status_code == 201 and replay.json()["rank"] == ok[some_order]["rank"]
    fresh = asyncio.run(retry_until_answered("o-new", "u-new"))
    assert fresh.status_code == 201 and fresh.json()["rank"] == max(recorded.values()) + 1
    claims, sale = asyncio.run(record(postgres_url, sale_id))
    assert len({c[1] for c in claims}) == len(claims) == len(recorded) + 1 and sale.sold == len(claims)
