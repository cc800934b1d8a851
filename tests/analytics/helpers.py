"""Small hand-written logs: times in seconds from T0, the report with a fixed pseudonym key."""

from __future__ import annotations

from typing import Any

from livecompanion.analytics.pseudonym import Pseudonymizer
from livecompanion.analytics.report import compute_report

T0 = 1_700_000_000_000  # epoch ms; 2023-11-14T22:13:20Z
ALIAS = Pseudonymizer("test-key")


def ev(kind: str, at: float, user: str | None = None, **fields: Any) -> dict[str, Any]:
    """An event `at` seconds after T0."""
    event: dict[str, Any] = {"type": kind, "ts": T0 + round(at * 1000), **fields}
    if user is not None:
        event["user_id"] = user
    return event


def seg(at: float, segment_id: str, **fields: Any) -> dict[str, Any]:
    return ev("segment", at, segment=segment_id, **fields)


def paid(at: float, user: str, order_id: str, amount: Any, qty: int = 1, sku: str = "SKU",
         status: str = "paid", **fields: Any) -> dict[str, Any]:
    return ev("order", at, user, order_id=order_id, sku=sku, qty=qty, amount=amount, status=status, **fields)


def report(events: list[dict[str, Any]], script: Any = None, **kw: Any) -> dict[str, Any]:
    return compute_report(events, script, pseudonymizer=ALIAS, **kw)


def segment(r: dict[str, Any], segment_id: str, nth: int = 0) -> dict[str, Any]:
    return [s for s in r["segments"] if s["id"] == segment_id][nth]


def ghost_leave(at: float = 0) -> dict[str, Any]:
    """A leave of someone never in the room: it changes no stay, but the log then holds a `leave`, so
    presence is counted by stays (contract section 4) rather than by activity."""
    return ev("leave", at, "~nobody")
