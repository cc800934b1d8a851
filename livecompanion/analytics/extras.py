"""Flash sales and lotteries in the report, from the service's own records of them.

The events of contract section 2 carry no flash-sale or lottery records, so `compute_report` takes
them as extra inputs, one dict each (keys below; times as epoch ms, ISO 8601 or datetime):

flash sale: `id`, `sku`, `price`, `stock`, `started_at`, optional `ends_at`, `first_n`,
    `first_n_bonus`, `sold_out_at` (when the service saw its stock reach 0), `claims`: a list of
    {`ts`, `user_id`, `qty` (default 1), `rank`, `bonus`} holding units, and `released_claims`: the
    claims whose units went back to stock (a cancelled order), each with `ts`, `qty` and `released_at`.

A sale "sold out" when its stock reached 0 at some moment: claims taken minus claims given back
reached the stock. Cancels may give units back afterwards, so a sale that sold out can end with a
sell-through under 100%; `released_units` (and `released_after_sell_out`) say how many.
lottery: `id`, `keyword`, optional `prize`, `winner_count`, `entrants` (a count, or the list of
    entrant ids), `seed`, `entrants_digest`, `started_at`, `drawn_at`, and `winners`: a list of user
    ids, or of {`user_id`, `nickname`}.

(`livecompanion.sales.service.report_records` returns both lists in these shapes; other keys are
ignored.)

Viewer identities come out pseudonymised, nicknames masked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from livecompanion.analytics.pseudonym import mask_nickname
from livecompanion.events.models import ts_to_ms

CURVE_POINTS = 120  # enough for a smooth sell-through line, small enough for the page
FIRST_BUYERS_SHOWN = 10


def to_ms(value: Any, what: str) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{what}: datetime without a time zone")
        return round(value.timestamp() * 1000)
    try:
        return ts_to_ms(value)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None


def _number(value: Any) -> float | None:
    if value is None:
        return None
    return float(Decimal(str(value)))


def _curve(points: list[tuple[int, int]], start: int) -> list[list[float]]:
    """Units taken (claimed and not given back) against seconds since the sale started, at most
    CURVE_POINTS points (the last point is always kept)."""
    if len(points) > CURVE_POINTS:
        step = len(points) / (CURVE_POINTS - 1)
        picked = [points[int(i * step)] for i in range(CURVE_POINTS - 1)] + [points[-1]]
    else:
        picked = points
    return [[round((t - start) / 1000, 3), n] for t, n in picked]


def _stock_timeline(held: list[tuple[int, int]], released: list[tuple[int, int, int | None]]) -> list[tuple[int, int]]:
    """(ts, change in units taken), in time order: +qty at each claim, -qty when a released claim gave
    its units back. A release of unknown time is left out (its units cannot be placed in time); at the
    same millisecond a release counts before a claim, so a sell-out is never read into a tie."""
    changes = [(ts, 1, qty) for ts, qty in held]
    for ts, qty, back in released:
        if back is not None:
            changes += [(ts, 1, qty), (max(back, ts), 0, -qty)]
    changes.sort(key=lambda c: (c[0], c[1]))
    return [(ts, delta) for ts, _, delta in changes]


def flash_sale_summary(sale: dict[str, Any], *, alias: Callable[[str | None], str | None],
                       iso: Callable[[int], str], segment_at: Callable[[int], str | None],
                       product_name: Callable[[str], str | None]) -> dict[str, Any]:
    sale_id = sale.get("id")
    what = f"flash sale {sale_id!r}"
    start = to_ms(sale["started_at"], f"{what} started_at")
    stock = int(sale["stock"])
    claims = sorted(
        ((to_ms(c["ts"], f"{what} claim ts"), c) for c in sale.get("claims") or ()), key=lambda tc: tc[0]
    )
    released = []
    for c in sale.get("released_claims") or ():
        back = c.get("released_at")
        released.append((to_ms(c["ts"], f"{what} released claim ts"), int(c.get("qty") or 1),
                         to_ms(back, f"{what} released_at") if back is not None else None))
    sold = 0
    buyers: set[str] = set()
    bonus_units = 0
    has_bonus_flags = False
    first_buyers: list[dict[str, Any]] = []
    for ts, claim in claims:
        qty = int(claim.get("qty") or 1)
        sold += qty
        if len(first_buyers) < FIRST_BUYERS_SHOWN:
            first_buyers.append({"rank": claim.get("rank", len(first_buyers) + 1),
                                 "viewer": alias(_text(claim.get("user_id"))),
                                 "seconds": round((ts - start) / 1000, 3), "qty": qty})
        if claim.get("user_id") is not None:
            buyers.add(str(claim["user_id"]))
        if "bonus" in claim:
            has_bonus_flags = True
            bonus_units += qty if claim["bonus"] else 0

    # Stock reached 0 when the units taken (claims minus those given back) reached the stock.
    taken = peak = 0
    points: list[tuple[int, int]] = [(start, 0)]
    sold_out_at: int | None = None
    for ts, delta in _stock_timeline([(ts, int(c.get("qty") or 1)) for ts, c in claims], released):
        taken += delta
        peak = max(peak, taken)
        points.append((ts, taken))
        if sold_out_at is None and taken >= stock:
            sold_out_at = ts
    recorded = sale.get("sold_out_at")  # the service's own record of the moment, when it has one
    if recorded is not None:
        recorded_ms = to_ms(recorded, f"{what} sold_out_at")
        sold_out_at = recorded_ms if sold_out_at is None else min(sold_out_at, recorded_ms)
    released_units = sum(qty for _, qty, _ in released)
    released_after = (sum(qty for _, qty, back in released if back is not None and back > sold_out_at)
                      if sold_out_at is not None else 0)

    first_n = sale.get("first_n")
    if first_n is None:
        first_n_claimed = None
    elif has_bonus_flags:
        first_n_claimed = bonus_units
    else:
        first_n_claimed = min(int(first_n), sold)
    ends_at = sale.get("ends_at")
    sku = sale.get("sku")
    return {
        "id": sale_id,
        "sku": sku,
        "name": product_name(sku) if sku else None,
        "price": _number(sale.get("price")),
        "stock": stock,
        "sold": sold,  # units still held at the end: released units are not in it
        "sell_through": round(sold / stock, 6) if stock else None,
        "peak_sold": max(peak, sold),  # the most units taken at one moment
        "buyers": len(buyers),
        "started_at": iso(start),
        "ends_at": iso(to_ms(ends_at, f"{what} ends_at")) if ends_at is not None else None,
        "sold_out": sold_out_at is not None,
        "sold_out_at": iso(sold_out_at) if sold_out_at is not None else None,
        "seconds_to_sell_out": round((sold_out_at - start) / 1000, 3) if sold_out_at is not None else None,
        "first_n": first_n,
        "first_n_bonus": sale.get("first_n_bonus"),
        "first_n_claimed": first_n_claimed,
        "released_units": released_units,  # given back to stock by cancelled orders
        "released_after_sell_out": released_after,
        "segment": segment_at(start),
        "first_buyers": first_buyers,
        "curve": _curve(points, start),
    }


def lottery_summary(lottery: dict[str, Any], *, alias: Callable[[str | None], str | None],
                    iso: Callable[[int], str], segment_at: Callable[[int], str | None]) -> dict[str, Any]:
    what = f"lottery {lottery.get('id')!r}"
    entrants = lottery.get("entrants")
    if isinstance(entrants, (list, tuple, set)):
        entrants = len(entrants)
    winners = []
    for winner in lottery.get("winners") or ():
        if isinstance(winner, dict):
            winners.append({"viewer": alias(_text(winner.get("user_id"))),
                            "nickname": mask_nickname(winner.get("nickname"))})
        else:
            winners.append({"viewer": alias(_text(winner)), "nickname": None})
    started = lottery.get("started_at")
    drawn = lottery.get("drawn_at")
    started_ms = to_ms(started, f"{what} started_at") if started is not None else None
    drawn_ms = to_ms(drawn, f"{what} drawn_at") if drawn is not None else None
    anchor = started_ms if started_ms is not None else drawn_ms
    return {
        "id": lottery.get("id"),
        "keyword": lottery.get("keyword"),
        "prize": lottery.get("prize"),
        "winner_count": lottery.get("winner_count", len(winners)),
        "entrants": entrants,
        "seed": lottery.get("seed"),
        "entrants_digest": lottery.get("entrants_digest"),  # with the seed, lets anyone re-run the draw
        "started_at": iso(started_ms) if started_ms is not None else None,
        "drawn_at": iso(drawn_ms) if drawn_ms is not None else None,
        "segment": segment_at(anchor) if anchor is not None else None,
        "winners": winners,
    }


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
