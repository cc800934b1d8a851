"""CSV exports of a report: the per-minute table and the per-segment table.

Headers are `key (中文)` so a spreadsheet is readable and a program can split on " (". The tables
hold aggregates only; the report they come from already carries viewers as pseudonyms.
Empty cells are null figures (zero denominators).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from livecompanion.analytics.metrics import KEYS

LABELS = {
    "minute": "分鐘", "start": "開始", "end": "結束", "segment": "環節", "viewers": "在線人數(分鐘初)",
    "comments": "評論數", "orders": "訂單數", "gmv": "成交金額", "likes": "點讚數", "views": "觀看次數",
    "online": "平台在線人數(分鐘初)", "id": "環節", "kind": "類型", "title": "標題", "product": "商品",
    "target_seconds": "目標時長(秒)", "target_min_seconds": "目標最短(秒)", "actual_seconds": "實際時長(秒)",
    "exposure_uv": "曝光人數", "viewer_uv": "觀看人數", "product_exposure_uv": "商品曝光人數",
    "product_click_uv": "商品點擊人數", "buyer_uv": "成交人數", "enter_rate": "曝光-觀看率",
    "product_exposure_rate": "觀看-商品曝光率", "click_rate": "商品曝光-點擊率",
    "click_conversion_rate": "商品點擊-成交轉化率", "watch_conversion_rate": "觀看-成交轉化率",
    "items_sold": "成交件數", "refund_amount": "退款金額", "gpm": "千次觀看成交金額", "uv_value": "UV價值",
    "aov": "客單價", "avg_watch_seconds": "人均觀看時長(秒)", "peak_viewers": "最高在線",
    "interaction_rate": "互動率", "follow_rate": "關注率", "opm": "每分鐘訂單",
    "product_clicks": "商品點擊次數", "ctor": "點擊-訂單率(次數)", "watch_click_rate": "觀看-點擊率",
    "pcu": "平台最高在線", "viewer_seconds": "平台在線人秒", "acu": "平均在線",
}
MINUTE_COLUMNS = ("minute", "start", "segment", "viewers", "comments", "orders", "gmv", "likes", "views",
                  "online")
SEGMENT_COLUMNS = ("id", "kind", "title", "product", "start", "end", "target_seconds", "target_min_seconds",
                   "actual_seconds", *KEYS)


def _header(key: str) -> str:
    label = LABELS.get(key)
    return f"{key} ({label})" if label else key


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        # Text from outside (segment titles) must not run as a spreadsheet formula.
        return "'" + value
    return value


def _table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([_header(c) for c in columns])
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buf.getvalue()


def minutes_csv(report: dict[str, Any]) -> str:
    return _table(report.get("minutes") or [], MINUTE_COLUMNS)


def segments_csv(report: dict[str, Any]) -> str:
    rows = list(report.get("segments") or [])
    pre = report.get("before_first_segment")
    if pre:
        rows.insert(0, {**pre, "id": "(before first segment)"})
    return _table(rows, SEGMENT_COLUMNS)
