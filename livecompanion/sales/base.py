"""What a claim store answers, shared by the SQL and Redis stores."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from livecompanion.sales.rules import Claim
from livecompanion.storage.tables import FlashSaleRow


class StoreUnavailable(RuntimeError):
    """The stock store (Redis) cannot be reached: claims fail closed (503), nothing was sold."""


@dataclass(frozen=True, slots=True)
class ClaimReply:
    code: str  # rules.GRANTED | REPLAYED | ORDER_CONFLICT | ENDED | LIMIT_REACHED | SOLD_OUT
    claim: Claim | None
    sold: int
    stock: int
    next_rank: int
    # Redis: "<epoch>/<entry id>" of the claim in the sale's log, so the answer can wait until the
    # record holds it (entry "0-0": it came from the record). None for the SQL store: its claims
    # are in the record at once.
    entry: str | None = None
    # Redis: the claim woke another instance's drainer, whose lease on the sale lasts this many ms
    # more: it writes the claim and publishes its position, so this instance need not read the log
    # until then (claim.lua, drain.py).
    holder_lease_ms: int | None = None

    @property
    def remaining(self) -> int:
        return self.stock - self.sold


class NotRecorded(RuntimeError):
    """A claim Redis granted did not reach the record in time (the record is down or slow): the
    caller is told to retry with the same order_id, which replays the claim once it is recorded."""


@dataclass(frozen=True, slots=True)
class Live:
    """A sale's moving numbers, as the stock store holds them now."""

    stock: int
    sold: int
    next_rank: int
    ends_ms: int
    stopped_ms: int | None
    sold_out_ms: int | None


@dataclass(frozen=True, slots=True)
class OrderMove:
    """What an order event did to the claim with its order_id."""

    sale_id: str
    move: str  # rules.MOVED_RELEASED | MOVED_PAID | MOVED_LATE_PAID | UNCHANGED
    claim: Claim
    sold: int
    stock: int


class ClaimStore(Protocol):
    async def prepare(self, sale: FlashSaleRow) -> None:
        """Make a sale just written to the record claimable."""

    async def claim(self, stream_id: str, sale_id: str, user_id: str, qty: int,
                    order_id: str | None) -> ClaimReply:
        """Decide one claim atomically (rules.py). LookupError: no such sale in that stream."""

    async def order_event(self, stream_id: str, order_id: str, status: str) -> OrderMove | None:
        """Move the claim of that order (None: no sale of the stream holds a claim with it)."""

    def order_events(self, stream_id: str,
                     events: Sequence[tuple[str, str]]) -> AsyncIterator[tuple[str, str, OrderMove | None]]:
        """`order_event` for each (order_id, status) in order, the claims of all looked up at once.
        StoreUnavailable ends the iteration (the moves yielded before it were made)."""

    async def stop(self, stream_id: str, sale_id: str) -> int | None:
        """Stop a running sale; the stop time if this call stopped it, None if it had already ended."""

    async def live(self, stream_id: str, sale_id: str) -> Live:
        """The sale's numbers now. LookupError: no such sale."""

    async def close(self) -> None: ...
