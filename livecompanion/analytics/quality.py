"""The report's `data_quality` (contract section 4): how presence was counted, which figures are
therefore estimates, and per platform what the log holds (types seen, leaves, silent minutes,
events without id, duplicates, rejects). See docs/report.md.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from typing import Any

from livecompanion.analytics.columns import EventTable
from livecompanion.analytics.metrics import ONLINE_COUNT, ratio
from livecompanion.analytics.sources import SourceTally
from livecompanion.analytics.windows import MINUTE_MS, Scan
from livecompanion.events.models import EVENT_TYPES

# Figures computed from viewer_uv or presence when presence is counted by activity (no `leave`):
# estimates, a floor of who was in the room (silent viewers who entered earlier are not counted).
ESTIMATED_BY_ACTIVITY = (
    "viewer_uv", "avg_watch_seconds", "enter_rate", "product_exposure_rate", "watch_conversion_rate",
    "watch_click_rate", "uv_value", "interaction_rate", "follow_rate", "minutes.viewers",
)
FROM_PLATFORM = ("pcu", "viewer_seconds", "acu")  # the platform's own online count
PRESENCE_RULES = {
    "stays": ("在場按進出計：進場（enter）到離場（leave）為一次停留，沒有離場的停留算到直播結束。",
              ("presence from stays: an enter opens a stay, the user's next leave closes it "
               "(else the stream's end).")),
    ONLINE_COUNT: (("日誌沒有離場（leave）事件：某環節或某分鐘的觀看人數 = 在其中進場或有互動（評論、點讚、分享、"
                    "關注、看到或點擊商品卡）的用戶，是下限估計；人均觀看時長 = 平台在線人數的積分 / 觀看人數；"
                    "最高在線 = 平台在線人數的最大值。"),
                   ("the log holds no leave event: the viewers of a segment or a minute are the users who "
                    "entered or did something in it (comment, like, share, follow, see or click a product card), "
                    "a floor estimate; avg watch = the platform count's viewer-seconds / viewers; peak viewers = "
                    "the platform count's peak.")),
}


def _type_counts(table: EventTable) -> Counter:
    c = table.columns
    stays = c["stays"].values
    enters = stays.count(1)
    counts = Counter({
        "impression": len(c["impressions"]), "enter": enters, "leave": len(stays) - enters,
        "viewer_count": len(c["viewer_counts"]), "comment": len(c["comments"]), "like": len(c["likes"]),
        "share": len(c["shares"]), "follow": len(c["follows"]),
        "product_impression": len(c["product_impressions"]), "product_click": len(c["product_clicks"]),
        "order": len(c["orders"]), "segment": len(c["segments"]), "product_explain": len(c["explains"]),
    })
    return counts


def _events_per_minute(table: EventTable, start: int, n_min: int) -> list[int]:
    per = [0] * n_min
    for column in table:
        ts = column.ts
        if not len(ts):
            continue
        prev = 0
        for k in range(n_min):
            cut = bisect_left(ts, start + (k + 1) * MINUTE_MS) if k + 1 < n_min else len(ts)
            per[k] += cut - prev
            prev = cut
    return per


def _ordered(counts: Counter) -> dict[str, int]:
    return {t: counts[t] for t in EVENT_TYPES if counts[t] > 0}


def data_quality(table: EventTable, sc: Scan, method: str) -> dict[str, Any]:
    src: SourceTally = table.sources if table.sources is not None else SourceTally(main=None)
    main = src.main if isinstance(src.main, str) else None
    totals = _type_counts(table)
    n_min = sc.minutes.count if sc.start is not None else 0
    start = sc.start or 0
    per_minute = _events_per_minute(table, start, n_min) if n_min else []

    # The other platforms' figures one by one; the main platform's are the totals minus theirs.
    types: dict[str | None, Counter] = {}
    minutes: dict[str | None, list[int]] = {}
    no_id: Counter = Counter()
    for rec in src.others:
        types.setdefault(rec.platform, Counter())[rec.type] += 1
        if n_min:
            k = min((rec.ts - start) // MINUTE_MS, n_min - 1)
            minutes.setdefault(rec.platform, [0] * n_min)[k] += 1
        no_id[rec.platform] += rec.no_id
    main_types = totals.copy()
    for c in types.values():
        main_types.subtract(c)
    types[main] = +main_types
    main_minutes = list(per_minute)
    for m in minutes.values():
        main_minutes = [a - b for a, b in zip(main_minutes, m)]
    minutes[main] = main_minutes
    no_id[main] = src.without_id - sum(v for p, v in no_id.items() if p != main)

    names = set(types) | set(src.rejected) | set(src.duplicates)
    platforms: list[dict[str, Any]] = []
    for name in names:
        counts = types.get(name, Counter())
        events = sum(counts.values())
        if not events and not src.rejected[name] and not src.duplicates[name]:
            continue
        silent = (sum(1 for n in minutes.get(name, [0] * n_min) if n == 0) if n_min else None)
        platforms.append({
            "platform": name, "events": events, "types": _ordered(counts), "leaves": counts["leave"] > 0,
            "minutes_without_events": silent, "events_without_id": no_id[name],
            "share_without_id": ratio(no_id[name], events), "duplicates": src.duplicates[name],
            "rejected": src.rejected[name],
        })
    platforms.sort(key=lambda p: (-int(p["events"]), p["platform"] or ""))

    events = sum(totals.values())
    span = sc.end - sc.start if sc.start is not None and sc.end is not None else 0
    held_ms = sum(w.online.held_ms for w in sc.windows)
    estimated = list(ESTIMATED_BY_ACTIVITY) if method == ONLINE_COUNT else []
    from_platform = [*FROM_PLATFORM, *(("peak_viewers",) if method == ONLINE_COUNT else ())]
    zh, en = PRESENCE_RULES[method]
    return {
        "avg_watch_method": method,
        "presence": zh, "presence_en": en,
        "leaves": totals["leave"] > 0,
        "estimated": estimated,
        "from_platform_count": from_platform,
        "events": events, "types": _ordered(totals),
        "minutes": n_min, "minutes_without_events": sum(1 for n in per_minute if n == 0) if n_min else None,
        "events_without_id": src.without_id, "share_without_id": ratio(src.without_id, events),
        "duplicates": table.duplicates, "rejected": sum(src.rejected.values()),
        "platform_count": {
            "events": totals["viewer_count"], "held_seconds": held_ms / 1000,
            "share_of_stream_held": ratio(held_ms, span),
        },
        "platforms": platforms,
    }
