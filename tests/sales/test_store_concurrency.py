"""Many claims at once straight on each store (no HTTP): exact stock, ranks 1..N, limits, retries.

The HTTP crowds (test_api.py, test_two_instances.py) do the same through real servers; this one is
quick and also covers PostgreSQL without Redis, which the servers' tests do not.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from typing import Any

from livecompanion.sales.rules import GRANTED, LIMIT_REACHED, REPLAYED, SOLD_OUT
from livecompanion.storage.db import Database
from tests.sales.conftest import close_store, new_sale, new_stream, open_store, recorded_claims, recorded_sale

STOCK = 60
BUYERS = 300


def test_a_crowd_of_retrying_buyers(store_kind: dict[str, Any]) -> None:
    asyncio.run(crowd(store_kind))


async def crowd(store_kind: dict[str, Any]) -> None:
    db, store, drainer = await open_store(store_kind)
    try:
        await _crowd(db, store, drainer)
    finally:
        await close_store(store_kind, db, store)


async def _crowd(db: Database, store: Any, drainer: Any) -> None:
    stream_id = await new_stream(db)
    sale = await new_sale(db, stream_id, stock=STOCK, per_user_limit=2, first_n=10)
    await store.prepare(sale)
    # Each buyer sends one order twice (a retry), and every third buyer a second order (qty 2 or 1).
    requests = []
    for i in range(BUYERS):
        user = f"buyer-{i}"
        requests += [(user, 1, f"{user}/a"), (user, 1, f"{user}/a")]
        if i % 3 == 0:
            requests.append((user, 1 + i % 2, f"{user}/b"))
    random.Random(7).shuffle(requests)
    semaphore = asyncio.Semaphore(40)

    async def send(user: str, qty: int, order: str) -> tuple[str, str, Any]:
        async with semaphore:
            return user, order, await store.claim(stream_id, sale.id, user, qty, order)

    answers = await asyncio.gather(*(send(*r) for r in requests))
    by_order: dict[str, list[Any]] = defaultdict(list)
    for _user, order, reply in answers:
        by_order[order].append(reply)
        assert reply.code in (GRANTED, REPLAYED, SOLD_OUT, LIMIT_REACHED)
    granted = {order: r[0].claim for order, r in by_order.items() if any(x.code == GRANTED for x in r)}
    for order, replies in by_order.items():
        kept = [x.claim for x in replies if x.code in (GRANTED, REPLAYED)]
        assert all(c == kept[0] for c in kept), f"{order} answered with different claims"
        assert sum(x.code == GRANTED for x in replies) <= 1
        if order in granted:
            assert all(x.code in (GRANTED, REPLAYED) for x in replies), f"{order}: granted, then refused"
    assert sum(c.qty for c in granted.values()) == STOCK
    units = sorted(r for c in granted.values() for r in range(c.rank, c.rank + c.qty))
    assert units == list(range(1, STOCK + 1))
    held: dict[str, int] = defaultdict(int)
    for c in granted.values():
        held[c.user_id] += c.qty
        assert c.bonus == (c.rank <= 10)
    assert max(held.values()) <= 2
    live = await store.live(stream_id, sale.id)
    assert (live.sold, live.next_rank) == (STOCK, STOCK + 1)
    if drainer is not None:
        await drainer.drain({sale.id: stream_id})
    recorded = await recorded_claims(db, sale.id)
    assert sorted((r[0], r[1], r[3], r[4]) for r in recorded) == sorted(
        (c.rank, c.qty, c.user_id, c.order_id) for c in granted.values()
    )
    row = await recorded_sale(db, sale.id)
    assert (row.sold, row.next_rank) == (STOCK, STOCK + 1) and row.sold_out_ms is not None
