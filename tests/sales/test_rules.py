"""The claim rules (pure model): invariants over any sequence of claims, retries, cancels and pays."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livecompanion.sales.rules import (
    ENDED,
    GRANTED,
    HOLDING,
    LATE_PAID,
    LIMIT_REACHED,
    ORDER_CONFLICT,
    PAID,
    RELEASED,
    REPLAYED,
    SOLD_OUT,
    Terms,
    first_n_left,
    sale_status,
)
from tests.sales.model import SaleModel

USERS = [f"u{i}" for i in range(5)]
ORDERS = [f"o{i}" for i in range(8)]

claims_ops = st.tuples(
    st.just("claim"), st.sampled_from(USERS), st.integers(1, 3), st.one_of(st.none(), st.sampled_from(ORDERS))
)
order_ops = st.tuples(st.sampled_from(["cancelled", "paid", "created", "refunded"]), st.sampled_from(ORDERS))
ops_lists = st.lists(st.one_of(claims_ops, claims_ops, order_ops, st.just(("stop",))), max_size=40)
terms_st = st.builds(
    Terms,
    stock=st.integers(1, 8),
    ends_ms=st.just(10**13),
    per_user_limit=st.integers(1, 3),
    first_n=st.one_of(st.none(), st.integers(1, 5)),
)


def check_invariants(model: SaleModel) -> None:
    t = model.terms
    holding = [c for c in model.claims if c.status in HOLDING]
    assert 0 <= model.sold <= t.stock, "oversold"
    assert model.sold == sum(c.qty for c in holding)
    # Ranks: handed out in claim order, never reused, no gaps among all units ever claimed.
    expected = 1
    for c in model.claims:
        assert c.rank == expected
        expected += c.qty
        assert c.bonus == (t.first_n is not None and c.rank <= t.first_n)
    assert model.next_rank == expected
    for user in USERS:
        held = sum(c.qty for c in holding if c.user_id == user)
        assert held == model.held.get(user, 0) <= t.per_user_limit
    if all(c.status in HOLDING for c in model.claims):  # no releases: units sold hold exactly 1..sold
        assert sorted(r for c in holding for r in range(c.rank, c.rank + c.qty)) == list(
            range(1, model.sold + 1)
        )


@settings(max_examples=300, deadline=None)
@given(terms=terms_st, ops=ops_lists)
def test_any_sequence_keeps_the_invariants(terms: Terms, ops: list[tuple]) -> None:
    model = SaleModel(terms)
    first_grant: dict[str, tuple] = {}
    now = 1000
    for op in ops:
        before = copy.deepcopy(model)
        if op[0] == "claim":
            _, user, qty, order = op
            out = model.claim(user, qty, order, now)
            if out.code == GRANTED:
                assert out.claim is not None and out.claim.status == "claimed"
                if order is not None:
                    first_grant[order] = (out.claim.rank, out.claim.qty, out.claim.bonus, user)
            elif out.code in (REPLAYED, ORDER_CONFLICT):
                # the same order_id always answers with the claim it first got
                c = out.claim
                assert (c.rank, c.qty, c.bonus, c.user_id) == first_grant[order]
                assert (out.code == REPLAYED) == (c.user_id == user and c.qty == qty)
                assert model == before
            else:
                assert out.code in (ENDED, LIMIT_REACHED, SOLD_OUT)
                assert model == before, "a refused claim changed the sale"
            assert out.remaining == model.remaining
        elif op[0] == "stop":
            model.stop(now)
        else:
            status, order = op
            sold_before = model.sold
            moved = model.order_event(order, status)
            if moved == RELEASED:
                assert model.sold == sold_before - model.by_order[order].qty
            else:
                assert model.sold == sold_before, "only a cancel gives units back"
            if moved == LATE_PAID:
                assert before.by_order[order].status == RELEASED
        now += 1
        check_invariants(model)


def test_the_last_unit_and_one_more() -> None:
    model = SaleModel(Terms(stock=3, ends_ms=10**13, per_user_limit=5))
    assert model.claim("a", 2, "o1", 1).claim.rank == 1
    assert model.claim("b", 2, "o2", 1).code == SOLD_OUT  # 2 asked, 1 left: nothing taken
    assert model.remaining == 1
    last = model.claim("b", 1, "o3", 1)
    assert (last.code, last.claim.rank, last.remaining) == (GRANTED, 3, 0)
    assert model.claim("c", 1, "o4", 1).code == SOLD_OUT
    assert model.claim("a", 2, "o1", 1).code == REPLAYED  # the first buyer's retry after sell-out
    assert model.status(1) == "sold_out"


def test_qty_ranks_and_first_n_bonus() -> None:
    model = SaleModel(Terms(stock=10, ends_ms=10**13, per_user_limit=3, first_n=4))
    a = model.claim("a", 3, None, 1).claim
    b = model.claim("b", 3, None, 1).claim
    c = model.claim("c", 1, None, 1).claim
    assert (a.rank, a.bonus, b.rank, b.bonus, c.rank, c.bonus) == (1, True, 4, True, 7, False)
    assert first_n_left(4, model.next_rank) == 0 and first_n_left(4, 3) == 2 and first_n_left(None, 5) is None


def test_cancel_releases_and_late_paid_is_not_sold_twice() -> None:
    model = SaleModel(Terms(stock=1, ends_ms=10**13))
    assert model.claim("a", 1, "o1", 1).code == GRANTED
    assert model.claim("b", 1, "o2", 1).code == SOLD_OUT
    assert model.order_event("o1", "cancelled") == RELEASED
    assert model.remaining == 1
    assert model.claim("b", 1, "o2", 1).claim.rank == 2  # the unit goes again, under a new rank
    assert model.order_event("o1", "paid") == LATE_PAID  # flagged, and the unit stays b's
    assert model.sold == 1 and model.by_order["o2"].status == "claimed"
    assert model.order_event("o2", "paid") == PAID
    assert model.claim("a", 1, "o1", 1).claim.status == LATE_PAID  # a replay tells the claim's fate


def test_limit_counts_units_held_and_a_release_gives_them_back() -> None:
    model = SaleModel(Terms(stock=10, ends_ms=10**13, per_user_limit=2))
    assert model.claim("a", 2, "o1", 1).code == GRANTED
    assert model.claim("a", 1, "o2", 1).code == LIMIT_REACHED
    model.order_event("o1", "cancelled")
    assert model.claim("a", 1, "o2", 1).code == GRANTED


def test_ended_and_stopped() -> None:
    model = SaleModel(Terms(stock=5, ends_ms=100))
    assert model.claim("a", 1, "o1", 99).code == GRANTED
    assert model.claim("b", 1, "o2", 100).code == ENDED
    assert model.claim("a", 1, "o1", 500).code == REPLAYED  # a retry after the end still gets its claim
    assert model.status(100) == "ended"
    stopped = SaleModel(Terms(stock=5, ends_ms=100))
    assert stopped.stop(50) and not stopped.stop(60)
    assert stopped.claim("a", 1, None, 51).code == ENDED and stopped.status(51) == "stopped"


def test_status_order() -> None:
    assert sale_status(stock=2, sold=2, ends_ms=10, stopped_ms=None, now_ms=5) == "sold_out"
    assert sale_status(stock=2, sold=1, ends_ms=10, stopped_ms=None, now_ms=5) == "live"
    assert sale_status(stock=2, sold=2, ends_ms=10, stopped_ms=None, now_ms=10) == "ended"
    assert sale_status(stock=2, sold=0, ends_ms=10, stopped_ms=3, now_ms=5) == "stopped"


@pytest.mark.parametrize("bad", [0, -1, 1001, 1.5, "2", True, None])
def test_bad_qty(bad: object) -> None:
    with pytest.raises(ValueError, match="qty must be an integer"):
        SaleModel(Terms(stock=5, ends_ms=100)).claim("a", bad, None, 1)  # type: ignore[arg-type]
