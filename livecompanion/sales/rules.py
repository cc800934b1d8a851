"""The claim rules of a flash sale, as a pure model (no I/O).

This is the specification. The two stores implement it atomically (`store_sql.py`: one conditional
UPDATE in a transaction; `store_redis.py` + `claim.lua`: one Lua script), and the tests run the same
sequences through the in-memory reference model (`tests/sales/model.py`) and through each store
and compare every answer.

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

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

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


# The terms a sale may be started with.
MAX_STOCK = 1_000_000
MAX_DURATION_SECONDS = 24 * 3600


def check_terms(*, price: Any, stock: Any, duration_seconds: Any, first_n: Any, per_user_limit: Any) -> None:
    """Bad terms -> `Invalid` naming the field (422)."""
    def whole(name: str, value: Any, low: int, high: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Invalid(f"{name} must be an integer from {low} to {high:,}, got {value!r}")

    whole("stock", stock, 1, MAX_STOCK)
    whole("duration_seconds", duration_seconds, 1, MAX_DURATION_SECONDS)
    whole("per_user_limit", per_user_limit, 1, 1000)
    if first_n is not None:
        whole("first_n", first_n, 1, MAX_STOCK)
    if not isinstance(price, Decimal) or price < 0 or price != price.quantize(Decimal("0.01")):
        raise Invalid(f"price must be a non-negative amount with at most 2 decimals, got {price!r}")
