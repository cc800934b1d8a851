"""Each claim store answers exactly as the pure rules do, for any sequence of claims, retries, cancels,
pays and stops; and what the record holds afterwards is the model's claims, unit for unit.

Stores: the record alone on SQLite and on PostgreSQL, and Redis (drained into PostgreSQL, or SQLite).
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livecompanion.sales.base import ClaimStore
from livecompanion.sales.rules import NO_CLAIM, ORDER_CONFLICT, Terms
from livecompanion.storage.db import Database
from tests.sales.conftest import close_store, new_sale, new_stream, open_store, recorded_claims, recorded_sale
from tests.sales.model import SaleModel

USERS = [f"用戶{i}" for i in range(4)] + ["user with spaces"]
ORDERS = [f"o{i}" for i in range(8)]

claim_op = st.tuples(
    st.just("claim"), st.sampled_from(USERS), st.integers(1, 3), st.one_of(st.none(), st.sampled_from(ORDERS))
)
order_op = st.tuples(st.sampled_from(["cancelled", "paid", "created"]), st.sampled_from(ORDERS))
ops_lists = st.lists(st.one_of(claim_op, claim_op, claim_op, order_op, st.just(("stop",))), max_size=30)
terms_st = st.fixed_dictionaries(
    {
        "stock": st.integers(1, 8),
        "per_user_limit": st.integers(1, 3),
        "first_n": st.one_of(st.none(), st.integers(1, 5)),
    }
)


async def run_sequence(
    db: Database, store: ClaimStore, drainer: Any, terms: dict[str, int | None], ops: list[tuple]
) -> None:
    stream_id = await new_stream(db)  # order ids link to claims within a stream: one each
    sale = await new_sale(db, stream_id, **terms)  # type: ignore[arg-type]
    await store.prepare(sale)
    model = SaleModel(
        Terms(
            stock=sale.stock, ends_ms=sale.ends_ms, per_user_limit=sale.per_user_limit, first_n=sale.first_n
        )
    )
    sold_out_once = False
    for i, op in enumerate(ops):
        where = f"op {i} {op}"
        if op[0] == "claim":
            _, user, qty, order = op
            want = model.claim(user, qty, order, sale.started_ms + 1)
            got = await store.claim(stream_id, sale.id, user, qty, order)
            assert got.code == want.code, where
            sold_out_once = sold_out_once or (want.code == "granted" and want.sold == want.stock)
            assert (got.sold, got.stock) == (want.sold, want.stock), where
            if want.code != ORDER_CONFLICT:
                assert got.claim == want.claim, where
        elif op[0] == "stop":
            assert (await store.stop(stream_id, sale.id) is not None) == model.stop(sale.started_ms + 1), (
                where
            )
        else:
            status, order = op
            want_move = model.order_event(order, status)
            moved = await store.order_event(stream_id, order, status)
            assert (moved.move if moved else NO_CLAIM) == want_move, where
            if moved is not None:
                assert moved.claim == model.by_order[order], where
                assert moved.sold == model.sold, where
    live = await store.live(stream_id, sale.id)
    assert (live.sold, live.next_rank) == (model.sold, model.next_rank)
    assert (live.stopped_ms is not None) == (model.stopped_ms is not None)
    if drainer is not None:
        await drainer.drain({sale.id: stream_id})
    assert await recorded_claims(db, sale.id) == [
        (c.rank, c.qty, c.bonus, c.user_id, c.order_id, c.status) for c in model.claims
    ]
    row = await recorded_sale(db, sale.id)
    assert (row.sold, row.next_rank) == (model.sold, model.next_rank)
    assert (row.stopped_ms is not None) == (model.stopped_ms is not None)
    assert (row.sold_out_ms is not None) == sold_out_once  # the first sell-out is kept


def test_stores_answer_as_the_rules(store_kind: dict[str, Any]) -> None:
    with asyncio.Runner() as runner:
        db, store, drainer = runner.run(open_store(store_kind))

        @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(terms=terms_st, ops=ops_lists)
        def check(terms: dict[str, int | None], ops: list[tuple]) -> None:
            runner.run(run_sequence(db, store, drainer, terms, ops))

        try:
            check()
        finally:
            runner.run(close_store(store_kind, db, store))
