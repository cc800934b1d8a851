"""One flash sale's claims in memory: the reference model the claim stores are tested against.

It follows `livecompanion.sales.rules` step by step (the rules' docstring is the specification);
`test_rules.py` checks its invariants, `test_stores_match_rules.py` runs the same sequences through
it and through each store and compares every answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from livecompanion.sales.rules import (
    ENDED,
    GRANTED,
    LIMIT_REACHED,
    NO_CLAIM,
    ORDER_CONFLICT,
    RELEASED,
    REPLAYED,
    SOLD_OUT,
    UNCHANGED,
    Claim,
    Outcome,
    Terms,
    bonus_for,
    check_qty,
    order_move,
    sale_status,
)


@dataclass
class SaleModel:
    """One flash sale's claims, in memory: the reference the stores are tested against."""

    terms: Terms
    sold: int = 0
    next_rank: int = 1
    stopped_ms: int | None = None
    held: dict[str, int] = field(default_factory=dict)  # user_id -> units held
    by_order: dict[str, Claim] = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)  # in claim order (rank order)

    @property
    def remaining(self) -> int:
        return self.terms.stock - self.sold

    def _outcome(self, code: str, claim: Claim | None) -> Outcome:
        return Outcome(code, claim, self.sold, self.terms.stock)

    def claim(self, user_id: str, qty: int, order_id: str | None, now_ms: int) -> Outcome:
        check_qty(qty)
        if order_id is not None and order_id in self.by_order:
            prev = self.by_order[order_id]
            same = prev.user_id == user_id and prev.qty == qty
            return self._outcome(REPLAYED if same else ORDER_CONFLICT, prev)
        if self.stopped_ms is not None or now_ms >= self.terms.ends_ms:
            return self._outcome(ENDED, None)
        if self.held.get(user_id, 0) + qty > self.terms.per_user_limit:
            return self._outcome(LIMIT_REACHED, None)
        if self.sold + qty > self.terms.stock:
            return self._outcome(SOLD_OUT, None)
        claim = Claim(self.next_rank, qty, bonus_for(self.next_rank, self.terms.first_n), user_id, order_id)
        self.next_rank += qty
        self.sold += qty
        self.held[user_id] = self.held.get(user_id, 0) + qty
        self.claims.append(claim)
        if order_id is not None:
            self.by_order[order_id] = claim
        return self._outcome(GRANTED, claim)

    def order_event(self, order_id: str, order_status: str) -> str:
        """Apply an order event to the claim of that order_id; say what it did."""
        claim = self.by_order.get(order_id)
        if claim is None:
            return NO_CLAIM
        new = order_move(claim.status, order_status)
        if new is None:
            return UNCHANGED
        if new == RELEASED:
            self.sold -= claim.qty
            self.held[claim.user_id] -= claim.qty
        moved = Claim(claim.rank, claim.qty, claim.bonus, claim.user_id, claim.order_id, new)
        self.by_order[order_id] = moved
        self.claims = [moved if c.rank == claim.rank else c for c in self.claims]
        return new

    def stop(self, now_ms: int) -> bool:
        if self.stopped_ms is not None or now_ms >= self.terms.ends_ms:
            return False
        self.stopped_ms = now_ms
        return True

    def status(self, now_ms: int) -> str:
        return sale_status(stock=self.terms.stock, sold=self.sold, ends_ms=self.terms.ends_ms,
                           stopped_ms=self.stopped_ms, now_ms=now_ms)
