"""How `order` events move an order's status (contract sections 2 and 4), pure.

An order's status is that of its latest event (greatest `ts`; on a tie, the one that arrived
later). It reached paid if any of its events is `paid`; then its buyer, sku, qty and amount are
those of its first paid event (smallest `ts`), and `paid_ts_ms` is that event's `ts`. Before it is
paid they are those of its latest event. `merge` is associative, so events may be folded in any
grouping (per batch, then into the stored row) with the same result, and re-applying an event that
was already applied changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from livecompanion.events.models import Order


@dataclass(frozen=True, slots=True)
class OrderState:
    user_id: str
    sku: str
    qty: int
    amount: Decimal
    status: str
    status_ts_ms: int
    paid_ts_ms: int | None


@dataclass(frozen=True, slots=True)
class OrderChange:
    """One order touched by a write: as it was before (None: new) and as it is now."""

    order_id: str
    before: OrderState | None
    after: OrderState
    nickname: str | None = None  # of the event that made it paid, for the ticker

    @property
    def became_paid(self) -> bool:
        """True exactly once per order: the write in which it first reached paid."""
        return self.after.paid_ts_ms is not None and (self.before is None or self.before.paid_ts_ms is None)


def state_of(event: Order) -> OrderState:
    return OrderState(
        user_id=event.user_id,
        sku=event.sku,
        qty=event.qty,
        amount=event.amount,
        status=event.status,
        status_ts_ms=event.ts,
        paid_ts_ms=event.ts if event.status == "paid" else None,
    )


def merge(old: OrderState, new: OrderState) -> OrderState:
    """`old` folded with `new`, where `new` arrived later."""
    if new.status_ts_ms >= old.status_ts_ms:
        status, status_ts = new.status, new.status_ts_ms
    else:
        status, status_ts = old.status, old.status_ts_ms
    if new.paid_ts_ms is not None and (old.paid_ts_ms is None or new.paid_ts_ms < old.paid_ts_ms):
        details, paid = new, new.paid_ts_ms  # an earlier paid event: it defines the sale
    elif old.paid_ts_ms is None and new.paid_ts_ms is None and new.status_ts_ms >= old.status_ts_ms:
        details, paid = new, None  # not paid yet: the latest event describes it
    else:
        details, paid = old, old.paid_ts_ms
    return OrderState(
        user_id=details.user_id,
        sku=details.sku,
        qty=details.qty,
        amount=details.amount,
        status=status,
        status_ts_ms=status_ts,
        paid_ts_ms=paid,
    )


@dataclass(slots=True)
class FoldedOrder:
    stream_id: str
    order_id: str
    state: OrderState
    nickname: str | None  # of the first paid event; else the latest one that had a nickname


def fold(events: Iterable[tuple[str, Order]]) -> dict[tuple[str, str], FoldedOrder]:
    """(stream_id, order event) pairs in arrival order -> one folded state per (stream, order)."""
    folded: dict[tuple[str, str], FoldedOrder] = {}
    for stream_id, event in events:
        key = (stream_id, event.order_id)
        state = state_of(event)
        current = folded.get(key)
        if current is None:
            folded[key] = FoldedOrder(stream_id, event.order_id, state, event.nickname)
            continue
        merged = merge(current.state, state)
        defines_sale = merged.paid_ts_ms is not None and merged.paid_ts_ms == state.paid_ts_ms
        if event.nickname and (defines_sale or current.state.paid_ts_ms is None):
            current.nickname = event.nickname
        current.state = merged
    return folded
