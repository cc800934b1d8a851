"""The order step's look-up of orders Redis does not know (RedisClaimStore.sales_of_orders): on
PostgreSQL one statement on the store's own connections, with the answers of the SQLAlchemy query
(store_sql.sales_of_orders) it replaced; on SQLite that query itself."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy import event

from livecompanion.sales.store_sql import sales_of_orders
from livecompanion.storage.tables import ClaimRow, FlashSaleRow
from tests.sales.conftest import close_store, new_sale, new_stream, open_store


@pytest.fixture(params=["redis-postgresql", "redis-sqlite"])
def redis_store_kind(request: pytest.FixtureRequest, redis_url: str, redis_prefix: str) -> dict[str, Any]:
    backend = request.param.split("-")[1]
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url")
    return {"store": "redis", "url": url, "redis_url": redis_url, "prefix": redis_prefix}


async def claims_in_record(db: Any) -> tuple[str, str, str, str]:
    """Two streams; the first with sales s1 and s2, the second with s3. Claims in the record only
    (Redis knows none of them): order A in s2 then s1 (s2's claim first), B in s1, C twice in s2,
    D in the other stream's s3 only, and 700 orders X-i in s1 (more than one IN chunk)."""
    stream, other = await new_stream(db), await new_stream(db)
    s1 = (await new_sale(db, stream, stock=1000)).id
    async with db.session() as session:  # stopped: a second sale of the sku may start
        sale = await session.get(FlashSaleRow, s1)
        assert sale is not None
        sale.stopped_ms = int(time.time() * 1000)
        await session.commit()
    s2 = (await new_sale(db, stream, stock=1000)).id
    s3 = (await new_sale(db, other, stock=1000)).id
    rows = [(s2, "A"), (s1, "A"), (s1, "B"), (s2, "C"), (s3, "D"), *((s1, f"X-{i}") for i in range(700))]
    now = int(time.time() * 1000)
    async with db.session() as session:
        ranks: dict[str, int] = {}
        for sale_id, order_id in rows:
            ranks[sale_id] = ranks.get(sale_id, 0) + 1
            session.add(ClaimRow(sale_id=sale_id, user_id=f"u-{order_id}", order_id=order_id, qty=1,
                                 rank=ranks[sale_id], bonus=False, status="claimed", claimed_ms=now))
        await session.commit()
    return stream, s1, s2, s3


def test_orders_redis_does_not_know_are_found_in_the_record_as_the_sql_query_finds_them(
    redis_store_kind: dict[str, Any],
) -> None:
    async def main() -> None:
        db, store, _ = await open_store(redis_store_kind)
        try:
            stream, s1, s2, _s3 = await claims_in_record(db)
            ids = ["A", "B", "C", "D", "nobody", *(f"X-{i}" for i in range(700))]
            found = await store.sales_of_orders(stream, ids)
            async with db.engine.connect() as conn:
                expected = await sales_of_orders(conn, stream, ids)
            assert found == expected
            assert found["A"] == s2 and found["B"] == s1 and found["C"] == s2  # the first claim's sale
            assert "D" not in found and "nobody" not in found  # another stream's claim; no claim
            assert len(found) == 703
            assert await store.sales_of_orders(stream, ["nobody"]) == {}
        finally:
            await close_store(redis_store_kind, db, store)

    asyncio.run(main())


def test_the_order_step_takes_no_pool_connection_on_postgresql(postgres_url: str, redis_url: str,
                                                              redis_prefix: str) -> None:
    """Every ingest flush with paid or cancelled orders looks its orders up: through the pool that
    was a checkout, a ping and a rollback each time (fails on the code before)."""
    kind = {"store": "redis", "url": postgres_url, "redis_url": redis_url, "prefix": redis_prefix}

    async def main() -> None:
        db, store, _ = await open_store(kind)
        checkouts: list[object] = []
        try:
            stream, s1, _s2, _s3 = await claims_in_record(db)
            event.listen(db.engine.sync_engine.pool, "checkout", lambda *a: checkouts.append(a))
            moves = [(o, m) async for o, _s, m in store.order_events(stream, [("nobody", "paid"), ("Y", "cancelled")])]
            assert moves == [("nobody", None), ("Y", None)]
            assert checkouts == []
            assert await store.sales_of_orders(stream, ["B"]) == {"B": s1}
            assert checkouts == []
        finally:
            await close_store(kind, db, store)

    asyncio.run(main())
