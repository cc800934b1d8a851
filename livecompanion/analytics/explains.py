"""講解 (product explanation) in the report: each span the host explained a product, and each product
across all its spans.

A span starts at a `product_explain` `start` and ends at the first of: a `stop` of that sku, a
`start` of another sku (contract section 2: it ends the running one), the stream's end. A `start`
of the sku already being explained and a `stop` of a sku not being explained change nothing.
Spans are half-open, [start, end), like segments; one that runs to the stream's end also holds the
events at the end.

Per span, on its time: the product's card impressions and clicks (users and events), the click
rate (click users / impression users), that product's orders whose paid event is in the span,
their GMV, and GPM (that GMV per thousand `enter` events in the span, as section 4's gpm).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from livecompanion.analytics.metrics import money, ratio
from livecompanion.analytics.windows import Scan


@dataclass(slots=True)
class Span:
    sku: str
    start: int
    end: int
    to_end: bool  # ran to the stream's end (holds its last instant too)
    exposed: set = field(default_factory=set)
    clickers: set = field(default_factory=set)
    impressions: int = 0
    clicks: int = 0
    views: int = 0
    orders: int = 0
    cents: int = 0
    buyers: set = field(default_factory=set)


def spans(sc: Scan) -> list[Span]:
    column = sc.columns.get("explains")
    if column is None or not len(column) or sc.end is None:
        return []
    out: list[Span] = []
    running: tuple[str, int] | None = None
    for ts, (sku, action) in zip(column.ts, column.values):
        if action == "start":
            if running is not None and running[0] == sku:
                continue
            if running is not None:
                out.append(Span(running[0], running[1], ts, False))
            running = (sku, ts)
        elif running is not None and running[0] == sku:
            out.append(Span(sku, running[1], ts, False))
            running = None
    if running is not None:
        out.append(Span(running[0], running[1], sc.end, True))
    return out


def _slice(column: Any, span: Span) -> tuple[int, int]:
    lo = bisect_left(column.ts, span.start)
    hi = bisect_right(column.ts, span.end) if span.to_end else bisect_left(column.ts, span.end)
    return lo, hi


def _fill(sc: Scan, span: Span) -> None:
    for name, users_of, count in (("product_impressions", span.exposed, "impressions"),
                                  ("product_clicks", span.clickers, "clicks")):
        column = sc.columns[name]
        lo, hi = _slice(column, span)
        n = 0
        users: list[str] = column.users or []
        for user, sku in zip(users[lo:hi], column.values[lo:hi]):
            if sku == span.sku:
                users_of.add(user)
                n += 1
        setattr(span, count, n)
    stays = sc.columns["stays"]
    lo, hi = _slice(stays, span)
    span.views = sum(stays.values[lo:hi])
    for p in sc.paid:
        if p.sku == span.sku and span.start <= p.ts and (p.ts < span.end or (span.to_end and p.ts == span.end)):
            span.orders += 1
            span.cents += p.cents
            span.buyers.add(p.user)


def _figures(sku: str, name: str | None, parts: list[Span]) -> dict[str, Any]:
    exposed = set().union(*(s.exposed for s in parts))
    clickers = set().union(*(s.clickers for s in parts))
    cents = sum(s.cents for s in parts)
    views = sum(s.views for s in parts)
    return {
        "sku": sku, "name": name,
        "seconds": sum(s.end - s.start for s in parts) / 1000,
        "product_exposure_uv": len(exposed), "product_impressions": sum(s.impressions for s in parts),
        "product_click_uv": len(clickers), "product_clicks": sum(s.clicks for s in parts),
        "click_rate": ratio(len(clickers), len(exposed)),
        "orders": sum(s.orders for s in parts), "buyer_uv": len(set().union(*(s.buyers for s in parts))),
        "gmv": money(cents), "views": views, "gpm": ratio(cents / 100 * 1000, views, 2),
    }


def explain_summary(sc: Scan, iso: Callable[[int], str], product_name: Callable[[str], str | None]
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(`explains`: one entry per span in time order, `explained_products`: one per sku, in the order
    first explained)."""
    found = spans(sc)
    for span in found:
        _fill(sc, span)
    per_span = [{"n": i + 1, "start": iso(s.start), "end": iso(s.end), **_figures(s.sku, product_name(s.sku), [s])}
                for i, s in enumerate(found)]
    for row in per_span:
        row["duration_seconds"] = row.pop("seconds")
    by_sku: dict[str, list[Span]] = {}
    for s in found:
        by_sku.setdefault(s.sku, []).append(s)
    products = [{**_figures(sku, product_name(sku), parts), "explains": len(parts)} for sku, parts in by_sku.items()]
    return per_span, products
