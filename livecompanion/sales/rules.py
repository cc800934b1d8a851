"""The claim rules of a flash sale, as a pure model (no I/O).

This is the specification. The two stores implement it atomically (`store_sql.py`: one conditional
UPDATE in a transaction; `store_redis.py` + `claim.lua`: one Lua script), and the tests run the same
sequences through the model and through each store and compare every answer.

A claim asks for `qty` units for `user_id`, optionally under an `order_id` (the idempotency key).
It is decided by these checks, in this order; the first that applies is the answer:

1. replay: the sale already holds a claim with this `order_id`: the answer is that claim again
   (same rank, qty, bonus; its current status), whatever happened since: sold out, ended, released.
   The same `order_id` with a different user or qty is refused with `order_id_conflict`.
   Only claims are remembered: a refused request created nothing, so repeating it is a new try.
2. ended: the operator stopped the sale, or its end time has come (now >= ends_ms).
3. limit_reached: the units the user holds (claims not released) + qty > per_user_limit.
4. sold_out: sold + qty > stock (also when fewer than qty units are left).
5. otherwise the claim is granted: rank = next_rank; next_rank += qty; sold += qty.

Ranks: a claim of qty k holds ranks r .. r+k-1 and `rank` is r, its first. Ranks are handed out in
claim order and never reused, so without releases the units sold hold exactly ranks 1..sold, no
gaps; a released claim leaves its ranks unused for good (the next claim gets next_rank).
Bonus: `first_n` set and rank <= first_n, i.e. the claim's first unit is among the first N units
ever claimed; a released bonus is not handed out again. first_n_left = first_n - (next_rank - 1), >= 0.

Order events move a claim (linked by order_id):
- cancelled: a claimed or paid claim is released: its units go back to stock and stop counting
  against the user's limit.
- paid: a claimed claim becomes paid (still holding its units). A paid for a released claim makes it
  `late_paid`: flagged for the shop, and its units are NOT taken back: they may be sold again.
- anything else (created, refunded, a second paid...) changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from livecompanion.errors import Invalid

# Outcomes of a claim.
GRANTED = "granted"
REPLAYED = "replayed"
ORDER_CONFLICT = "order_id_conflict"
ENDED = "ended"
LIMIT_REACHED = "limit_reached"
SOLD_OUT = "sold_out"
REFUSALS = (ORDER_CONFLICT, ENDED, LIMIT_REACHED, SOLD_OUT)

# Claim statuses. HOLDING: the claim's units count as sold and against the user's limit.
CLAIMED, PAID, RELEASED, LATE_PAID = "claimed", "paid", "released", "late_paid"
HOLDING = (CLAIMED, PAID)

# What an order event did to its claim.
MOVED_RELEASED, MOVED_PAID, MOVED_LATE_PAID, UNCHANGED, NO_CLAIM = (
    "released", "paid", "late_paid", "unchanged", "no_claim",
)

MAX_QTY = 1000


@dataclass(frozen=True, slots=True)
class Terms:
    stock: int
    ends_ms: int
    per_user_limit: int = 1
    first_n: int | None = None

    def __post_init__(self) -> None:
        if self.stock < 1:
            raise ValueError("stock must be at least 1")
        if self.per_user_limit < 1:
            raise ValueError("per_user_limit must be at least 1")
        if self.first_n is not None and self.first_n < 1:
            raise ValueError("first_n must be at least 1 when given")


@dataclass(frozen=True, slots=True)
class Claim:
    rank: int
    qty: int
    bonus: bool
    user_id: str
    order_id: str | None
    status: str = CLAIMED


@dataclass(frozen=True, slots=True)
class Outcome:
    code: str  # GRANTED | REPLAYED | one of REFUSALS
    claim: Claim | None  # the claim granted or replayed (also the stored one on ORDER_CONFLICT)
    sold: int  # units held after this request
    stock: int

    @property
    def remaining(self) -> int:
        return self.stock - self.sold

    @property
    def ok(self) -> bool:
        return self.code in (GRANTED, REPLAYED)


def check_qty(qty: object) -> int:
    if isinstance(qty, bool) or not isinstance(qty, int) or not 1 <= qty <= MAX_QTY:
        raise Invalid(f"qty must be an integer from 1 to {MAX_QTY}, got {qty!r}")
    return qty


def bonus_for(rank: int, first_n: int | None) -> bool:
    return first_n is not None and rank <= first_n


def first_n_left(first_n: int | None, next_rank: int) -> int | None:
    return None if first_n is None else max(0, first_n - (next_rank - 1))


def sale_status(*, stock: int, sold: int, ends_ms: int, stopped_ms: int | None, now_ms: int) -> str:
    """live | sold_out | ended | stopped, as screens show it."""
    if stopped_ms is not None:
        return "stopped"
    if now_ms >= ends_ms:
        return "ended"
    if sold >= stock:
        return "sold_out"
    return "live"


def order_move(current: str, order_status: str) -> str | None:
    """The claim status an order event moves a claim to, or None for no change."""
    if order_status == "cancelled" and current in HOLDING:
        return RELEASED
    if order_status == "paid":
        if current == CLAIMED:
            return PAID
        if current == RELEASED:
            return LATE_PAID
    return None


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
