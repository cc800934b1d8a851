"""Refusals and failures never leak stock: the last unit, the duplicate user checked after the
decrement, a claim whose later step fails, and (Redis) a script that fails half-way."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from livecompanion.sales.rules import GRANTED, LIMIT_REACHED, SOLD_OUT
from livecompanion.storage.tables import ClaimRow
from tests.sales.conftest import close_store, new_sale, new_stream, open_store, recorded_claims, recorded_sale


def run(kind: dict[str, Any], body: Any) -> None:
    async def main() -> None:
        db, store, drainer = await open_store(kind)
        try:
            await body(db, store, drainer)
        finally:
            await close_store(kind, db, store)

    asyncio.run(main())


def test_refusals_take_nothing(store_kind: dict[str, Any]) -> None:
    async def body(db: Any, store: Any, drainer: Any) -> None:
        stream_id = await new_stream(db)
        sale = await new_sale(db, stream_id, stock=2, per_user_limit=1)
        await store.prepare(sale)
        assert (await store.claim(stream_id, sale.id, "a", 1, "a1")).code == GRANTED
        # the same user again: refused after the stock check would have passed (SQL: after the
        # conditional UPDATE took the unit, which the rollback gives back)
        refused = await store.claim(stream_id, sale.id, "a", 1, "a2")
        assert (refused.code, refused.remaining) == (LIMIT_REACHED, 1)
        assert (await store.claim(stream_id, sale.id, "b", 2, "b1")).code == LIMIT_REACHED  # 2 > limit 1
        last = await store.claim(stream_id, sale.id, "b", 1, "b2")  # the last unit, exactly
        assert (last.code, last.claim.rank, last.remaining) == (GRANTED, 2, 0)
        assert (await store.claim(stream_id, sale.id, "c", 1, "c1")).code == SOLD_OUT  # one past it
        live = await store.live(stream_id, sale.id)
        assert (live.sold, live.next_rank) == (2, 3)
        if drainer is not None:
            await drainer.drain({sale.id: stream_id})
        assert [c[0] for c in await recorded_claims(db, sale.id)] == [1, 2]

    run(store_kind, body)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_claim_whose_insert_fails_gives_its_unit_back(backend: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url")
    kind = {"store": "sql", "url": url}

    async def body(db: Any, store: Any, _drainer: Any) -> None:
        stream_id = await new_stream(db)
        sale = await new_sale(db, stream_id, stock=2)
        await store.prepare(sale)
        async with db.engine.begin() as conn:  # a row in the way of the next rank, behind the store's back
            await conn.execute(
                insert(ClaimRow.__table__).values(
                    sale_id=sale.id, user_id="ghost", order_id="g", qty=1, rank=1, bonus=False,
                    status="claimed", claimed_ms=1,
                )
            )
        with pytest.raises(IntegrityError):
            await store.claim(stream_id, sale.id, "a", 1, "a1")
        row = await recorded_sale(db, sale.id)
        assert (row.sold, row.next_rank) == (0, 1)  # the UPDATE's units went back with the rollback

    run(kind, body)


def test_a_script_failing_half_way_withholds_units_and_never_oversells(
    postgres_url: str, redis_url: str, redis_prefix: str
) -> None:
    kind = {"store": "redis", "url": postgres_url, "redis_url": redis_url, "prefix": redis_prefix}

    async def body(db: Any, store: Any, drainer: Any) -> None:
        from redis.exceptions import ResponseError

        stream_id = await new_stream(db)
        sale = await new_sale(db, stream_id, stock=3)
        await store.prepare(sale)
        keys = store.keys(stream_id, sale.id)
        assert (await store.claim(stream_id, sale.id, "a", 1, "a1")).code == GRANTED
        await drainer.drain({sale.id: stream_id})
        await store.redis.delete(keys.log)
        await store.redis.set(keys.log, "not a stream")  # the XADD inside the script will fail
        with pytest.raises(ResponseError):
            await store.claim(stream_id, sale.id, "b", 1, "b1")
        await store.redis.delete(keys.log)
        granted = [(await store.claim(stream_id, sale.id, u, 1, f"{u}1")).code for u in "cdef"]
        assert granted == [GRANTED, SOLD_OUT, SOLD_OUT, SOLD_OUT]  # b's unit is withheld, not sold twice
        live = await store.live(stream_id, sale.id)
        assert live.sold == 3 and live.next_rank == 4
        await drainer.drain({sale.id: stream_id})
        assert [(c[0], c[3]) for c in await recorded_claims(db, sale.id)] == [(1, "a"), (3, "c")]

    run(kind, body)
