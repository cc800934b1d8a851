"""Several streams compared (pure): side by side, by time slot of day, by weekday, and the trend of
the main rates. Times are the streams' own local times (the offset in each report's `start`).
"""

from __future__ import annotations

from datetime import datetime
from statistics import fmean
from typing import Any

SIDE_BY_SIDE_KEYS = (
    "gmv", "orders", "buyer_uv", "viewer_uv", "views", "peak_viewers", "avg_watch_seconds", "gpm", "uv_value",
    "aov", "enter_rate", "product_exposure_rate", "click_rate", "click_conversion_rate",
    "watch_conversion_rate", "interaction_rate", "follow_rate", "opm", "product_clicks", "ctor", "watch_click_rate",
    "pcu", "acu",
)
RATE_KEYS = ("enter_rate", "product_exposure_rate", "click_rate", "click_conversion_rate",
             "watch_conversion_rate", "interaction_rate")
AVERAGED_KEYS = ("gmv", "gpm", "viewer_uv", "avg_watch_seconds", "watch_conversion_rate", "interaction_rate")
# Time slots of the day by the local start hour: [from, to) hours.
SLOTS = (("早間 morning 06-12", 6, 12), ("午間 afternoon 12-18", 12, 18), ("晚間 evening 18-24", 18, 24),
         ("深夜 late night 00-06", 0, 6))
WEEKDAYS = ("週一 Mon", "週二 Tue", "週三 Wed", "週四 Thu", "週五 Fri", "週六 Sat", "週日 Sun")


def slot_of(hour: int) -> str:
    for label, lo, hi in SLOTS:
        if lo <= hour < hi:
            return label
    raise ValueError(f"hour {hour} out of range")


def _average(values: list[Any]) -> float | None:
    present = [v for v in values if v is not None]
    return round(fmean(present), 6) if present else None


def _groups(streams: list[dict[str, Any]], field: str, labels: list[str]) -> list[dict[str, Any]]:
    out = []
    for label in labels:
        members = [s for s in streams if s[field] == label]
        if not members:
            continue
        out.append({"label": label, "streams": len(members),
                    **{k: _average([m["report"].get(k) for m in members]) for k in AVERAGED_KEYS}})
    return out


def compare_reports(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """`streams` in start order (label, local start, slot, weekday, the side-by-side keys), then
    `slots` and `weekdays` with the averages of `AVERAGED_KEYS` per group (groups without streams
    left out). Reports without a start (no events) are skipped."""
    streams = []
    for index, report in enumerate(reports):
        if not report.get("start"):
            continue
        start = datetime.fromisoformat(report["start"])
        streams.append({
            "index": index,
            "label": f"{report.get('title') or '—'} {start:%m-%d %H:%M}",
            "title": report.get("title"), "start": report["start"], "local_start": f"{start:%Y-%m-%d %H:%M}",
            "slot": slot_of(start.hour), "weekday": WEEKDAYS[start.weekday()],
            "duration_seconds": report.get("duration_seconds"),
            **{k: report.get(k) for k in SIDE_BY_SIDE_KEYS},
            "report": report,
        })
    streams.sort(key=lambda s: datetime.fromisoformat(s["start"]))
    slots = _groups(streams, "slot", [label for label, _, _ in SLOTS])
    weekdays = _groups(streams, "weekday", list(WEEKDAYS))
    for s in streams:
        del s["report"]
    return {"streams": streams, "slots": slots, "weekdays": weekdays, "keys": SIDE_BY_SIDE_KEYS}
