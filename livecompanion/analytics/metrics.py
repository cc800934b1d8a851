"""The keys of contract section 4 on one window, from the counts of `windows.scan`.

A figure whose denominator is zero is None (JSON null). Presentation rounding: money 2 decimals
(gmv, refund_amount exact from cents), rates and opm 6 decimals, seconds 3 decimals.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from livecompanion.analytics.windows import Window

# In the order of the contract's table.
KEYS = (
    "exposure_uv", "viewer_uv", "views", "product_exposure_uv", "product_click_uv", "buyer_uv",
    "enter_rate", "product_exposure_rate", "click_rate", "click_conversion_rate",
    "watch_conversion_rate", "orders", "gmv", "items_sold", "refund_amount", "gpm", "uv_value", "aov",
    "avg_watch_seconds", "peak_viewers", "comments", "likes", "interaction_rate", "follow_rate", "opm",
    "product_clicks", "ctor", "watch_click_rate", "pcu", "viewer_seconds", "acu",
)
RATE_KEYS = ("enter_rate", "product_exposure_rate", "click_rate", "click_conversion_rate",
             "watch_conversion_rate", "interaction_rate", "follow_rate", "ctor", "watch_click_rate")
# Keys that add up over windows (the sums a segmentation must never change).
ADDITIVE_KEYS = ("views", "orders", "gmv", "items_sold", "refund_amount", "comments", "likes", "product_clicks")
# How presence was counted (the report's `avg_watch_method`): from stays (the log has `leave`
# events) or, without any `leave`, from the platform's online count and viewers' activity.
STAYS, ONLINE_COUNT = "stays", "online_count"


def ratio(num: float, den: float, digits: int = 6) -> float | None:
    return None if not den else round(num / den, digits)


def money(cents: int) -> float:
    return cents / 100


def merge(windows: Iterable[Window], start: int, end: int) -> Window:
    """One window from consecutive ones: sums, unions of user sets, the largest peak."""
    total = Window(start, end)
    for w in windows:
        for name in ("exposure", "viewers", "product_exposure", "clickers", "buyers", "interacting",
                     "followers"):
            getattr(total, name).update(getattr(w, name))
        total.views += w.views
        total.comments += w.comments
        total.likes += w.likes
        total.watch_ms += w.watch_ms
        total.peak = max(total.peak, w.peak)
        total.orders += w.orders
        total.gmv_cents += w.gmv_cents
        total.items_sold += w.items_sold
        total.refund_cents += w.refund_cents
        total.product_clicks += w.product_clicks
        total.online.add(w.online)
    return total


def window_metrics(w: Window, method: str = STAYS) -> dict[str, Any]:
    """Every key of section 4 on this window. `method` is the report's `avg_watch_method`: with
    ONLINE_COUNT (no `leave` in the log) the window's viewers are those present by activity
    (`windows.present_by_activity`), the average watch is the platform's viewer-seconds per viewer
    and the peak is the platform's (docs/report.md)."""
    exposure_uv = len(w.exposure)
    viewer_uv = len(w.viewers)
    product_exposure_uv = len(w.product_exposure)
    product_click_uv = len(w.clickers)
    buyer_uv = len(w.buyers)
    gmv = w.gmv_cents / 100
    minutes = (w.end - w.start) / 60_000
    online = w.online
    viewer_seconds = online.area_ms / 1000 if online.peak is not None else None
    if method == STAYS:
        watch_seconds: float | None = w.watch_ms / 1000
        peak: int | None = w.peak
    else:
        watch_seconds, peak = viewer_seconds, online.peak
    return {
        "exposure_uv": exposure_uv,
        "viewer_uv": viewer_uv,
        "views": w.views,
        "product_exposure_uv": product_exposure_uv,
        "product_click_uv": product_click_uv,
        "buyer_uv": buyer_uv,
        "enter_rate": ratio(viewer_uv, exposure_uv),
        "product_exposure_rate": ratio(product_exposure_uv, viewer_uv),
        "click_rate": ratio(product_click_uv, product_exposure_uv),
        "click_conversion_rate": ratio(buyer_uv, product_click_uv),
        "watch_conversion_rate": ratio(buyer_uv, viewer_uv),
        "orders": w.orders,
        "gmv": money(w.gmv_cents),
        "items_sold": w.items_sold,
        "refund_amount": money(w.refund_cents),
        "gpm": ratio(gmv * 1000, w.views, 2),
        "uv_value": ratio(gmv, viewer_uv, 2),
        "aov": ratio(gmv, w.orders, 2),
        "avg_watch_seconds": ratio(watch_seconds, viewer_uv, 3) if watch_seconds is not None else None,
        "peak_viewers": peak,
        "comments": w.comments,
        "likes": w.likes,
        "interaction_rate": ratio(len(w.interacting), viewer_uv),
        "follow_rate": ratio(len(w.followers), viewer_uv),
        "opm": ratio(w.orders, minutes),
        "product_clicks": w.product_clicks,
        "ctor": ratio(w.orders, w.product_clicks),
        "watch_click_rate": ratio(product_click_uv, viewer_uv),
        "pcu": online.peak,
        "viewer_seconds": viewer_seconds,
        "acu": ratio(online.area_ms, online.held_ms, 3) if online.peak is not None else None,
    }
