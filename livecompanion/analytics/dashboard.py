"""The after-stream dashboard (復盤): one self-contained HTML file that works offline.

plotly.js is embedded once; the figures are JSON specs read by a few lines of script. Jinja2
autoescapes every value, and the specs are embedded with <, > and & as JSON escapes, so text from
outside (titles, questions, nicknames) can never become markup. Viewer identities in the report are
pseudonyms already.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from livecompanion.analytics import figures
from livecompanion.analytics.figures import KIND_COLOURS, KIND_LABELS

CARDS = (  # (key, label, format)
    ("gmv", "成交金額 GMV", "money"), ("gpm", "千次觀看成交 GPM", "money"), ("uv_value", "UV價值 UV value", "money2"),
    ("aov", "客單價 AOV", "money2"), ("buyer_uv", "成交人數 buyers", "int"),
    ("avg_watch_seconds", "人均觀看 avg watch", "duration"), ("peak_viewers", "最高在線 peak viewers", "int"),
    ("interaction_rate", "互動率 interaction", "pct"), ("follow_rate", "關注率 follow", "pct"),
    ("opm", "每分鐘訂單 OPM", "num2"), ("pcu", "平台最高在線 PCU", "int"), ("acu", "平均在線 ACU", "num2"),
    ("ctor", "點擊-訂單率 CTOR", "pct"), ("watch_click_rate", "觀看-點擊率 watch→click", "pct"),
)
MARKER_GLYPHS = {"triangle-right": "▶", "diamond": "◆", "star": "★", "triangle-up": "▲", "x": "✕",
                 "triangle-down": "▼", "circle": "●", "line-ns": "┃", "hexagram": "✶"}
# How a figure was obtained, as the dashboard marks it (see docs/report.md and data_quality).
BASIS_LABELS = {"measured": ("實測", "measured"), "estimate": ("估算", "estimate"),
                "platform": ("平台", "platform count")}
METRIC_LABELS = {
    "exposure_uv": "曝光人數 exposure UV", "viewer_uv": "觀看人數 viewers", "views": "觀看次數 views",
    "product_exposure_uv": "商品曝光人數", "product_click_uv": "商品點擊人數", "buyer_uv": "成交人數 buyers",
    "enter_rate": "曝光-觀看率", "product_exposure_rate": "觀看-商品曝光率", "click_rate": "商品曝光-點擊率",
    "click_conversion_rate": "點擊-成交轉化率", "watch_conversion_rate": "觀看-成交轉化率", "orders": "訂單 orders",
    "gmv": "成交金額 GMV", "items_sold": "成交件數 items", "refund_amount": "退款金額 refunds", "gpm": "GPM",
    "uv_value": "UV價值", "aov": "客單價 AOV", "avg_watch_seconds": "人均觀看時長", "peak_viewers": "最高在線",
    "comments": "評論數 comments", "likes": "點讚數 likes", "interaction_rate": "互動率", "follow_rate": "關注率",
    "opm": "每分鐘訂單 OPM", "product_clicks": "商品點擊次數 clicks", "ctor": "點擊-訂單率 CTOR",
    "watch_click_rate": "觀看-點擊率", "pcu": "平台最高在線 PCU", "viewer_seconds": "平台在線人秒 viewer-seconds",
    "acu": "平均在線 ACU",
}
PCT_KEYS = {"enter_rate", "product_exposure_rate", "click_rate", "click_conversion_rate",
            "watch_conversion_rate", "interaction_rate", "follow_rate", "ctor", "watch_click_rate"}
MONEY_KEYS = {"gmv", "refund_amount", "gpm", "uv_value", "aov"}


def fmt(value: Any, kind: str = "auto", key: str | None = None) -> str:
    """A figure for people: thousands separators, percentages, durations; null as —."""
    if value is None:
        return "—"
    if kind == "auto":
        kind = "pct" if key in PCT_KEYS else "money2" if key in MONEY_KEYS else (
            "duration" if key == "avg_watch_seconds" else "num2" if key in ("opm", "acu") else "int")
    if kind == "pct":
        return f"{value * 100:.1f}%"
    if kind == "money":
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.2f}"
    if kind == "money2":
        return f"{value:,.2f}"
    if kind == "num2":
        return f"{value:,.2f}"
    if kind == "duration":
        return duration(value)
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = round(seconds)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    if h:
        return f"{h}h{m:02d}m" + (f"{sec:02d}s" if sec else "")
    if m:
        return f"{m}m" + (f"{sec:02d}s" if sec else "")
    return f"{sec}s"


def quick_duration(seconds: float | None) -> str:
    """Like `duration`, with a tenth of a second under 10 s (a flash sale sells out in 0.4 s at demo
    speed, in 6 s live): "0.4s", "6.0s", "36s"."""
    if seconds is not None and seconds < 10:
        return f"{seconds:.1f}s"
    return duration(seconds)


def clock(iso: str | None, with_date: bool = False) -> str:
    if not iso:
        return "—"
    dt = datetime.fromisoformat(iso)
    return dt.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def spec_json(spec: Any) -> Markup:
    """JSON for a <script type="application/json"> block: nothing in it can close the block."""
    data = orjson.dumps(spec, option=orjson.OPT_SERIALIZE_NUMPY)
    data = data.replace(b"<", b"\\u003c").replace(b">", b"\\u003e").replace(b"&", b"\\u0026")
    return Markup(data.decode("utf-8"))


@lru_cache(maxsize=1)
def plotly_js() -> Markup:
    from plotly.offline import get_plotlyjs

    return Markup(get_plotlyjs())


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("livecompanion.analytics", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["fmt"] = fmt
    env.filters["duration"] = duration
    env.filters["quick_duration"] = quick_duration
    env.filters["clock"] = clock
    env.filters["spec"] = spec_json
    env.globals.update(kind_colours=KIND_COLOURS, kind_labels=KIND_LABELS, metric_labels=METRIC_LABELS)
    return env


# Segments where selling happens: the weakest is looked for among these. An opening or a wrap-up
# sells little by design, so it would always come out "weakest" and say nothing.
SELLING_KINDS = frozenset({"product", "value", "closing"})
WEAKEST_RULES = {
    "selling": ("最弱 = 帶貨環節中 GPM 最低（有商品，或類型為產品、價值、促單；開場與收尾不參與比較）",
                "weakest = lowest GPM among the selling segments (with a product, or of kind product, value or "
                "closing; opening and wrap-up are not compared), of those watched"),
    "watched": ("最弱 = 有人觀看的環節中 GPM 最低（本場沒有帶貨環節可比）",
                "weakest = lowest GPM among the watched segments (no selling segment to compare)"),
}


def is_selling(segment: dict[str, Any]) -> bool:
    return bool(segment.get("product")) or segment.get("kind") in SELLING_KINDS


def weakest_choice(segments: list[dict[str, Any]]) -> tuple[int | None, str | None]:
    """(index, rule): the segment that sold least for its audience, and which rule chose it (a key of
    WEAKEST_RULES). Lowest GPM among the selling segments people watched (views > 0); when the stream
    has none of those, among all watched segments. Ties: the earlier one. (None, None) when no
    segment was watched."""
    watched = [i for i, seg in enumerate(segments) if seg.get("views")]
    selling = [i for i in watched if is_selling(segments[i])]
    pool, rule = (selling, "selling") if selling else (watched, "watched")
    if not pool:
        return None, None
    return min(pool, key=lambda i: (segments[i].get("gpm") or 0.0, i)), rule


def weakest_segment(segments: list[dict[str, Any]]) -> int | None:
    """The index of the weakest segment (see `weakest_choice`), None when no segment was watched."""
    return weakest_choice(segments)[0]


def _duration_flag(seg: dict[str, Any]) -> str | None:
    """'over' / 'under' the target range, None when on target or without one."""
    actual, top, bottom = seg.get("actual_seconds"), seg.get("target_seconds"), seg.get("target_min_seconds")
    if actual is None or top is None:
        return None
    if actual > top:
        return "over"
    if bottom is not None and actual < bottom:
        return "under"
    return None


def _target_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key, t in (report.get("targets") or {}).items():
        ratio = t.get("ratio")
        rows.append({"key": key, "label": METRIC_LABELS.get(key, key), "target": t.get("target"),
                     "actual": t.get("actual"), "ratio": ratio,
                     "width": 0 if ratio is None else max(0.0, min(ratio, 1.0)) * 100,
                     "met": ratio is not None and ratio >= 1})
    return rows


def _history_card(report: dict[str, Any], key: str, kind: str) -> dict[str, Any]:
    """The card's history line: the earlier streams' median and best quarter, and where this one is."""
    h = ((report.get("history") or {}).get("figures") or {}).get(key) or {}
    if not h.get("n"):
        return {"median": None}
    return {"median": fmt(h["median"], kind), "best_quarter": fmt(h["best_quarter"], kind),
            "in_best_quarter": h.get("in_best_quarter"), "vs_median": h.get("vs_median")}


def basis_of(report: dict[str, Any], key: str) -> str:
    """'estimate', 'platform' or 'measured' for a figure of the report (its data_quality says)."""
    quality = report.get("data_quality") or {}
    if key in (quality.get("estimated") or ()):
        return "estimate"
    if key in (quality.get("from_platform_count") or ()):
        return "platform"
    return "measured"


def render_dashboard_html(report: dict[str, Any], *, page_title: str | None = None) -> str:
    """The dashboard of one report (from `compute_report`), a complete HTML document."""
    segments = report.get("segments") or []
    weakest, weakest_rule = weakest_choice(segments)
    targets = report.get("targets") or {}
    cards = [{"key": k, "label": label, "value": fmt(report.get(k), f),
              "target": fmt(targets[k]["target"], f) if k in targets else None,
              "ratio": targets[k]["ratio"] if k in targets else None, "basis": basis_of(report, k),
              **_history_card(report, k, f)}
             for k, label, f in CARDS]
    seg_rows = [{**seg, "n": i + 1, "weakest": i == weakest, "duration_flag": _duration_flag(seg)}
                for i, seg in enumerate(segments)]
    charts = {"funnel": figures.funnel_figure(report)}
    if report.get("minutes"):
        charts["minutes"] = figures.minutes_figure(report)
    if segments:
        charts["segments"] = figures.segments_gpm_figure(report, weakest)
    if report.get("flash_sales"):
        charts["flash_sales"] = figures.flash_sales_figure(report)
    template = environment().get_template("dashboard.html")
    return template.render(
        r=report, page_title=page_title or report.get("title") or "直播復盤 Stream report",
        cards=cards, segments=seg_rows, weakest=seg_rows[weakest] if weakest is not None else None,
        weakest_rule=WEAKEST_RULES.get(weakest_rule) if weakest_rule else None,
        charts=charts, targets=_target_rows(report), plotly_js=plotly_js(),
        funnel_rates=[(k, METRIC_LABELS[k]) for k in figures.FUNNEL_RATES],
        basis=lambda key: basis_of(report, key), basis_labels=BASIS_LABELS,
        marker_legend=[(MARKER_GLYPHS.get(symbol, "●"), colour, label)
                       for symbol, colour, label in figures.marker_legend()],
    )


def render_comparison_html(reports: list[dict[str, Any]], *, page_title: str | None = None) -> str:
    """Several streams side by side: by time slot of day, by weekday, and the trend of the rates."""
    from livecompanion.analytics.compare import RATE_KEYS, compare_reports

    data = compare_reports(reports)
    charts = {}
    if data["streams"]:
        charts["trend"] = figures.trend_figure(data["streams"], [(k, METRIC_LABELS[k]) for k in RATE_KEYS])
        charts["slots"] = figures.slot_figure(data["slots"], "按時段 By time of day (平均 average)")
        charts["weekdays"] = figures.slot_figure(data["weekdays"], "按星期 By weekday (平均 average)")
    template = environment().get_template("comparison.html")
    return template.render(data=data, charts=charts, plotly_js=plotly_js(),
                           page_title=page_title or "多場對比 Streams compared")
