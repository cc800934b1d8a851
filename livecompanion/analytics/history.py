"""A stream against the team's own history: each headline figure beside the median and the best
quarter of the earlier streams (the database's, or the logs given on the CLI).

"Best quarter" is the value a stream must reach to be among the best 25% of the earlier ones: the
upper quartile for figures where more is better, the lower for those where less is (refunds). The
quartiles are the inclusive method of `statistics.quantiles` (the earlier values' own range), so
one earlier stream gives its own value for both. A figure that is null in a stream (a zero
denominator) is left out of that figure's history.
"""

from __future__ import annotations

from collections.abc import Iterable
from statistics import median, quantiles
from typing import Any

# The dashboard's headline figures and the funnel rates, and whether more is better.
HISTORY_KEYS: dict[str, bool] = {
    "gmv": True, "orders": True, "buyer_uv": True, "viewer_uv": True, "gpm": True, "uv_value": True,
    "aov": True, "avg_watch_seconds": True, "pcu": True, "acu": True, "opm": True, "interaction_rate": True,
    "follow_rate": True, "enter_rate": True, "product_exposure_rate": True, "click_rate": True,
    "click_conversion_rate": True, "watch_conversion_rate": True, "ctor": True, "watch_click_rate": True,
    "refund_amount": False,
}


def _quarter(values: list[float], higher_is_better: bool) -> float:
    if len(values) == 1:
        return values[0]
    q1, _, q3 = quantiles(values, n=4, method="inclusive")
    return q3 if higher_is_better else q1


def history_of(report: dict[str, Any], earlier: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """{"streams": how many earlier streams, "figures": {key: {value, median, best_quarter, n,
    in_best_quarter, vs_median}}}; `vs_median` is value / median (null when either is null or
    the median is 0). Streams without events are not history."""
    past = [r for r in earlier if r.get("start")]
    figures: dict[str, Any] = {}
    for key, higher in HISTORY_KEYS.items():
        values = [float(r[key]) for r in past if r.get(key) is not None]
        value = report.get(key)
        if not values:
            figures[key] = {"value": value, "median": None, "best_quarter": None, "n": 0,
                            "in_best_quarter": None, "vs_median": None}
            continue
        mid = round(median(values), 6)
        best = round(_quarter(values, higher), 6)
        figures[key] = {
            "value": value, "median": mid, "best_quarter": best, "n": len(values),
            "in_best_quarter": None if value is None else (value >= best if higher else value <= best),
            "vs_median": round(value / mid, 4) if value is not None and mid else None,
        }
    return {"streams": len(past), "figures": figures}
