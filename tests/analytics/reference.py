"""Contract section 4 computed the slow, literal way, to check the fast one against.

Written straight from the definitions: every window looks at every event and every stay; a peak
is the largest count of stays with start <= t < end over the instants of the window.

The platform count (contract section 4): at instant t the count that holds is that of the latest
`viewer_count` with ts <= t (of several at that ts, the last in order), up to the stream's end;
it changes only at a viewer_count's ts, so it is constant between the window's bounds and the ts
of the viewer_counts inside, and is integrated piece by piece between those instants.

Without any `leave` in the log, presence is counted as docs/report.md says: a user is in the room
during a window when they have an enter, comment, like, share, follow, product_impression or
product_click event in it; avg_watch_seconds is viewer_seconds / viewer_uv, peak_viewers is pcu.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise
from typing import Any


def _in(t: int, w: tuple[int, int, bool]) -> bool:
    start, end, closed = w
    return start <= t < end or (closed and t == end)


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


def reference_report(events: list[dict[str, Any]]) -> dict[str, Any]:
    """`events`: valid event dicts with integer `ts`. Returns {"whole": keys, "segments": [(id, keys)],
    "before": keys or None}."""
    ordered = sorted(events, key=lambda e: e["ts"])  # stable
    seen: set[str] = set()
    evs = []
    for e in ordered:
        eid = e.get("id")
        if eid is not None:
            if eid in seen:
                continue
            seen.add(eid)
        evs.append(e)
    if not evs:
        return {"whole": None, "segments": [], "before": None, "avg_watch_method": "online_count"}
    start, end = evs[0]["ts"], evs[-1]["ts"]

    stays: list[tuple[str, int, int]] = []
    in_room: dict[str, int] = {}
    for e in evs:
        if e["type"] == "enter" and e["user_id"] not in in_room:
            in_room[e["user_id"]] = e["ts"]
        elif e["type"] == "leave" and e["user_id"] in in_room:
            stays.append((e["user_id"], in_room.pop(e["user_id"]), e["ts"]))
    stays += [(u, s, end) for u, s in in_room.items()]

    orders: dict[str, dict[str, Any]] = {}
    for e in evs:
        if e["type"] != "order":
            continue
        o = orders.setdefault(e["order_id"], {"paid": None})
        o["status"] = e["status"]
        if e["status"] == "paid" and o["paid"] is None:
            o["paid"] = e

    counts = [e for e in evs if e["type"] == "viewer_count"]
    no_leave = not any(e["type"] == "leave" for e in evs)

    def count_at(t: int) -> int | None:
        before = [e for e in counts if e["ts"] <= t]
        return before[-1]["count"] if before and t <= end else None

    def platform(w: tuple[int, int, bool]) -> tuple[int | None, float | None, float | None]:
        ws, we, closed = w
        points = sorted({ws, *(e["ts"] for e in counts if _in(e["ts"], w))})
        if not points or (we == ws and not closed):
            return None, None, None
        holding = [count_at(t) for t in points if t < we or (closed and t == we)]
        held = [n for n in holding if n is not None]
        if not held:
            return None, None, None
        bounds = [*points, we]
        area = held_ms = 0
        for a, b in pairwise(bounds):
            if b > a and count_at(a) is not None:
                area += count_at(a) * (b - a)
                held_ms += b - a
        return max(held), area / 1000, (area / held_ms if held_ms else None)

    def keys(w: tuple[int, int, bool]) -> dict[str, Any]:
        ws, we, _ = w
        inside = [e for e in evs if _in(e["ts"], w)]

        def users(*types: str) -> set[str]:
            return {e["user_id"] for e in inside if e["type"] in types}

        pcu, viewer_seconds, acu = platform(w)
        viewers = {u for u, s, e in stays if max(s, ws) < min(e, we) or _in(s, w)}
        watch = sum(max(0, min(e, we) - max(s, ws)) for _, s, e in stays)
        instants = {ws} | {e["ts"] for e in inside if e["ts"] < we}
        peak = max((sum(1 for _, s, e in stays if s <= t < e) for t in instants), default=0) if we > ws else 0
        avg_watch = _ratio(watch / 1000, len(viewers))
        if no_leave:
            viewers = users("enter", "comment", "like", "share", "follow", "product_impression", "product_click")
            peak = pcu  # type: ignore[assignment]
            avg_watch = _ratio(viewer_seconds, len(viewers)) if viewer_seconds is not None else None
        paid_here = [o for o in orders.values() if o["paid"] is not None and _in(o["paid"]["ts"], w)]
        gmv = sum(Decimal(str(o["paid"]["amount"])) for o in paid_here)
        views = sum(1 for e in inside if e["type"] == "enter")
        n_orders = len(paid_here)
        return {
            "exposure_uv": len(users("impression")), "viewer_uv": len(viewers), "views": views,
            "product_exposure_uv": len(users("product_impression")),
            "product_click_uv": len(users("product_click")),
            "buyer_uv": len({o["paid"]["user_id"] for o in paid_here}),
            "enter_rate": _ratio(len(viewers), len(users("impression"))),
            "product_exposure_rate": _ratio(len(users("product_impression")), len(viewers)),
            "click_rate": _ratio(len(users("product_click")), len(users("product_impression"))),
            "click_conversion_rate": _ratio(len({o["paid"]["user_id"] for o in paid_here}),
                                            len(users("product_click"))),
            "watch_conversion_rate": _ratio(len({o["paid"]["user_id"] for o in paid_here}), len(viewers)),
            "orders": n_orders, "gmv": float(gmv),
            "items_sold": sum(o["paid"]["qty"] for o in paid_here),
            "refund_amount": float(sum(Decimal(str(o["paid"]["amount"])) for o in paid_here
                                       if o["status"] == "refunded")),
            "gpm": _ratio(float(gmv) * 1000, views), "uv_value": _ratio(float(gmv), len(viewers)),
            "aov": _ratio(float(gmv), n_orders), "avg_watch_seconds": avg_watch,
            "peak_viewers": peak, "comments": sum(1 for e in inside if e["type"] == "comment"),
            "likes": sum(e.get("count", 1) for e in inside if e["type"] == "like"),
            "interaction_rate": _ratio(len(users("comment", "like", "share", "follow")), len(viewers)),
            "follow_rate": _ratio(len(users("follow")), len(viewers)),
            "opm": _ratio(n_orders, (we - ws) / 60_000),
            "product_clicks": sum(1 for e in inside if e["type"] == "product_click"),
            "ctor": _ratio(n_orders, sum(1 for e in inside if e["type"] == "product_click")),
            "watch_click_rate": _ratio(len(users("product_click")), len(viewers)),
            "pcu": pcu, "viewer_seconds": viewer_seconds, "acu": acu,
        }

    seg_events = [e for e in evs if e["type"] == "segment"]
    bounds = [e["ts"] for e in seg_events] + [end]
    segments = [(e["segment"], keys((bounds[i], bounds[i + 1], i == len(seg_events) - 1)))
                for i, e in enumerate(seg_events)]
    before = keys((start, seg_events[0]["ts"], False)) if seg_events and seg_events[0]["ts"] > start else None
    return {"whole": keys((start, end, True)), "segments": segments, "before": before,
            "avg_watch_method": "online_count" if no_leave else "stays"}
