"""Plotly figures of a report (and of several reports), as JSON-ready specs for the dashboard pages.

Plotly renders a small set of HTML tags in its text (<b>, <br>, <a href>): every text that came from
outside (segment titles, sku names, questions) goes in through `plain()`, which escapes it; Plotly
shows the escaped entities as the literal characters.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

KIND_COLOURS = {
    "opening": "#4C78A8", "product": "#F58518", "value": "#54A24B", "closing": "#E45756",
    "wrapup": "#72B7B2", None: "#9D9D9D",
}
KIND_LABELS = {
    "opening": "開場 opening", "product": "產品 product", "value": "價值 value", "closing": "促單 closing",
    "wrapup": "收尾 wrapup", None: "未知 unknown",
}
FUNNEL_STAGES = (
    ("exposure_uv", "曝光 exposure"), ("viewer_uv", "觀看 viewers"),
    ("product_exposure_uv", "商品曝光 product exposure"), ("product_click_uv", "商品點擊 clicks"),
    ("buyer_uv", "成交 buyers"),
)
FUNNEL_RATES = ("enter_rate", "product_exposure_rate", "click_rate", "click_conversion_rate")
_FONT = ("'Noto Sans CJK SC', 'Noto Sans CJK TC', 'PingFang TC', 'Microsoft JhengHei', "
         "'Noto Color Emoji', 'Apple Color Emoji', 'Segoe UI Emoji', sans-serif")


def plain(text: Any) -> str:
    """Outside text for a Plotly label: shown as written, never as markup."""
    return html.escape("" if text is None else str(text), quote=False)


def local_time(iso: str) -> str:
    """'2024-11-02T20:05:00+08:00' -> '2024-11-02 20:05:00': the wall-clock time of the stream's
    zone, which Plotly's date axis then shows as is."""
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S")


def _layout(fig: go.Figure, height: int, **kw: Any) -> dict[str, Any]:
    kw.setdefault("margin", dict(l=60, r=20, t=40, b=40))
    fig.update_layout(height=height, font=dict(family=_FONT, size=13), paper_bgcolor="white",
                      plot_bgcolor="white", **kw)
    spec: dict[str, Any] = fig.to_plotly_json()  # Plotly is untyped
    return spec


def funnel_figure(report: dict[str, Any]) -> dict[str, Any]:
    """五維四率: five stages, the four rates between them."""
    values = [report.get(k) or 0 for k, _ in FUNNEL_STAGES]
    texts = [f"{values[0]:,}"]
    for i, rate_key in enumerate(FUNNEL_RATES, start=1):
        rate = report.get(rate_key)
        texts.append(f"{values[i]:,}  ({_pct(rate)} of previous)")
    fig = go.Figure(go.Funnel(
        y=[label for _, label in FUNNEL_STAGES], x=values, text=texts, textinfo="text",
        marker=dict(color=["#4C78A8", "#72B7B2", "#54A24B", "#F58518", "#E45756"]),
        hovertemplate="%{y}: %{x:,}<extra></extra>",
    ))
    return _layout(fig, 360, title=dict(text="轉化漏斗 Funnel (五維四率)", x=0.01))


# Marker kinds on the time charts: (row of the markers strip from the top, symbol, colour, label).
MARKER_STYLES = {
    "segment": (0, "triangle-right", "#1f2933", "環節開始 segment"),
    "cue": (1, "diamond", "#6C5B7B", "提示 cue fired"),
    "pin": (1, "star", "#C06C84", "置頂 pin"),
    "flash_sale": (2, "triangle-up", "#E45756", "秒殺開始 flash sale"),
    "sold_out": (2, "x", "#B22222", "售罄 sold out"),
    "flash_sale_end": (2, "triangle-down", "#E45756", "秒殺結束 sale end"),
    "lottery": (3, "circle", "#F58518", "抽獎 lottery draw"),
    "explain": (4, "line-ns", "#54A24B", "講解 explain"),
    "alert": (5, "hexagram", "#B9770E", "提醒 alert"),
}
_OTHER_MARKER = (5, "circle-open", "#555", "其他 other")
_STRIP_ROWS = 6


def _marker_traces(markers: list[dict[str, Any]]) -> list[go.Scatter]:
    """One trace per marker kind (a legend entry, a colour), plus one for all 講解 spans as line pieces
    broken by None: the count of traces does not grow with the stream, and shapes are not used (Plotly
    lays out shapes in time quadratic in their number)."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for m in markers:
        by_kind.setdefault(m.get("kind") or "other", []).append(m)
    traces = []
    span_x: list[Any] = []
    span_y: list[Any] = []
    for kind, items in by_kind.items():
        level, symbol, colour, label = MARKER_STYLES.get(kind, _OTHER_MARKER)
        y = _STRIP_ROWS - 0.5 - level
        traces.append(go.Scatter(
            x=[local_time(m["at"]) for m in items], y=[y] * len(items), mode="markers", name=label,
            marker=dict(symbol=symbol, size=11, color=colour, line=dict(width=1.5, color=colour)),
            text=[plain(m.get("label")) for m in items],
            hovertemplate="%{x|%H:%M:%S} %{text}<extra></extra>", showlegend=False,
        ))
        for n, m in enumerate(items):
            if m.get("until"):
                # Back-to-back spans (a start of another product ends the running one) alternate
                # between two heights, so each one's ends show.
                lift = 0.35 if n % 2 else 0.0
                span_x += [local_time(m["at"]), local_time(m["until"]), None]
                span_y += [y + lift, y + lift, None]
    if span_x:
        traces.append(go.Scatter(x=span_x, y=span_y, mode="lines", line=dict(color="#54A24B", width=5),
                                 hoverinfo="skip", showlegend=False, opacity=0.6))
    return traces


# Alerts about selling are drawn on the GMV curve; the others (audience, show, questions, sources)
# on the online curve: each where the reviewer looks for what it was about.
SALES_ALERTS = frozenset({"stock_low", "sold_out", "sale_unsold", "gmv_pace"})
ALERT_NAME = "提醒 alert"
_ALERT_STYLE = dict(symbol="hexagram", size=14, color="#B9770E", line=dict(width=1.5, color="#5C3B07"))


def _alert_traces(report: dict[str, Any]) -> list[tuple[go.Scatter, int]]:
    """(trace, row) of the recorded alerts on the online (row 3) and GMV (row 6) curves: a marker
    per alert at the curve's value in the alert's minute, its sentence on hover."""
    alerts = [m for m in report.get("markers") or () if m.get("kind") == "alert"]
    minutes = report.get("minutes") or []
    if not alerts or not minutes or not report.get("start"):
        return []
    start = datetime.fromisoformat(report["start"])
    online = any(m.get("online") is not None for m in minutes)
    rows: dict[int, tuple[list[str], list[Any], list[str]]] = {3: ([], [], []), 6: ([], [], [])}
    for m in alerts:
        k = int((datetime.fromisoformat(m["at"]) - start).total_seconds() // 60)
        minute = minutes[max(0, min(k, len(minutes) - 1))]
        row = 6 if m.get("alert") in SALES_ALERTS else 3
        value = minute.get("gmv") if row == 6 else (minute.get("online") if online else None)
        if value is None and row == 3:
            value = minute.get("viewers")
        xs, ys, texts = rows[row]
        xs.append(local_time(m["at"]))
        ys.append(value or 0)
        texts.append(plain(m.get("label")))
    return [(go.Scatter(x=xs, y=ys, mode="markers", name=ALERT_NAME, marker=_ALERT_STYLE, text=texts,
                        hovertemplate="%{x|%H:%M:%S} ⚠ %{text}<extra></extra>", showlegend=False), row)
            for row, (xs, ys, texts) in rows.items() if xs]


def minutes_figure(report: dict[str, Any]) -> dict[str, Any]:
    """Per-minute curves under a timeline of the segments and a strip of markers (segment starts,
    cues, pins, flash sales, lottery draws, 講解 spans, alerts), the alerts also on the online and GMV
    curves (`_alert_traces`); each segment is also a band coloured
    by its kind across the curves. Shapes and annotations are built as lists and set once (one band
    and one bar per segment), so the page's cost grows linearly with the segments."""
    minutes = report.get("minutes") or []
    x = [local_time(m["start"]) for m in minutes]
    end = local_time(report["end"]) if report.get("end") else None
    by_activity = report.get("avg_watch_method") == "online_count"
    in_room = "在場 present (估算 est., by activity)" if by_activity else "在線 viewers in room"
    rows = (("viewers", in_room, "#4C78A8"), ("comments", "評論 comments", "#F58518"),
            ("orders", "訂單 orders", "#54A24B"), ("gmv", "成交額 GMV", "#E45756"))
    fig = make_subplots(rows=6, cols=1, shared_xaxes=True, vertical_spacing=0.03,
                        row_heights=[0.07, 0.11, 0.205, 0.205, 0.205, 0.205],
                        subplot_titles=["環節 segments", "事件 markers", *(label for _, label, _ in rows)])
    for i, (key, label, colour) in enumerate(rows, start=3):
        y = [m.get(key) for m in minutes]
        # A step holds each minute's value to the next minute; the last one to the stream's end.
        fig.add_trace(go.Scatter(x=x + ([end] if end and y else []), y=y + (y[-1:] if end else []),
                                 name=label, mode="lines", line=dict(color=colour, width=2, shape="hv"),
                                 hovertemplate=f"%{{x|%H:%M}} {label}: %{{y:,}}<extra></extra>"),
                      row=i, col=1)
    online = [m.get("online") for m in minutes]
    if any(v is not None for v in online):
        # The count holding at each minute's start, held to the next minute (the last to the end).
        fig.add_trace(go.Scatter(x=x + ([end] if end else []), y=online + (online[-1:] if end else []),
                                 name="平台在線 platform count", mode="lines",
                                 line=dict(color="#2E2E2E", width=1.5, dash="dot", shape="hv"),
                                 hovertemplate="%{x|%H:%M} 平台在線 platform: %{y:,}<extra></extra>"),
                      row=3, col=1)
    for trace in _marker_traces(report.get("markers") or []):
        fig.add_trace(trace, row=2, col=1)
    for trace, row in _alert_traces(report):
        fig.add_trace(trace, row=row, col=1)
    segments = report.get("segments") or []
    span = (datetime.fromisoformat(report["end"]) - datetime.fromisoformat(report["start"])).total_seconds() \
        if report.get("start") else 0
    shapes: list[dict[str, Any]] = []
    annotations = list(fig.layout.annotations)  # the subplot titles
    for n, seg in enumerate(segments, start=1):
        colour = KIND_COLOURS.get(seg.get("kind"), KIND_COLOURS[None])
        x0, x1 = local_time(seg["start"]), local_time(seg["end"])
        # One band behind every row (paper height), one bar in the timeline row.
        shapes.append(dict(type="rect", xref="x", yref="paper", x0=x0, x1=x1, y0=0, y1=1, fillcolor=colour,
                           opacity=0.10, line_width=0, layer="below"))
        shapes.append(dict(type="rect", xref="x", yref="y", x0=x0, x1=x1, y0=0, y1=1, fillcolor=colour,
                           line=dict(color="white", width=1)))
        # The name fits the bar's width (about 1/110 of the chart per character).
        share = (seg.get("actual_seconds") or 0) / span if span else 0
        name = f"{n}. {seg.get('title') or seg.get('id')}"
        room = max(1, int(share * 110))
        shown = name if len(name) <= room else (name[: max(1, room - 1)] + "…" if room > 2 else str(n))
        mid = datetime.fromisoformat(seg["start"]) + (datetime.fromisoformat(seg["end"]) -
                                                       datetime.fromisoformat(seg["start"])) / 2
        annotations.append(dict(x=mid.strftime("%Y-%m-%d %H:%M:%S.%f"), y=0.5, xref="x", yref="y",
                                showarrow=False, text=plain(shown), hovertext=plain(name),
                                font=dict(size=12, color="white")))
    fig.update_xaxes(type="date")  # rows without a trace must still know their axis holds times
    fig.update_yaxes(gridcolor="#eee", rangemode="tozero")
    fig.update_yaxes(visible=False, range=[0, 1], fixedrange=True, row=1, col=1)
    fig.update_yaxes(visible=False, range=[0, _STRIP_ROWS + 1], fixedrange=True, row=2, col=1)  # room for its title
    return _layout(fig, 900, showlegend=False, hovermode="closest", shapes=shapes, annotations=annotations,
                   margin=dict(l=60, r=20, t=30, b=40))


def marker_legend() -> list[tuple[str, str, str]]:
    """(symbol, colour, label) of each marker kind, for the page's legend."""
    return [(symbol, colour, label) for _, symbol, colour, label in MARKER_STYLES.values()]


def segments_gpm_figure(report: dict[str, Any], weakest: int | None) -> dict[str, Any]:
    """GPM per segment, coloured by kind; the weakest one outlined."""
    segs = report.get("segments") or []
    names = [f"{i + 1}. {plain(s.get('title') or s.get('id'))}" for i, s in enumerate(segs)]
    fig = go.Figure(go.Bar(
        x=names, y=[s.get("gpm") or 0 for s in segs],
        marker=dict(color=[KIND_COLOURS.get(s.get("kind"), KIND_COLOURS[None]) for s in segs],
                    line=dict(color=["#000" if i == weakest else "rgba(0,0,0,0)" for i in range(len(segs))],
                              width=3)),
        text=[_money(s.get("gpm")) for s in segs], textposition="outside",
        hovertemplate="%{x}<br>GPM %{y:,.2f}<extra></extra>",
    ))
    return _layout(fig, 340, title=dict(text="各環節 GPM per segment (千次觀看成交金額)", x=0.01),
                   yaxis=dict(title="GPM", gridcolor="#eee"))


def flash_sales_figure(report: dict[str, Any]) -> dict[str, Any]:
    """Sell-through: share of the stock sold against seconds since each sale started."""
    fig = go.Figure()
    for sale in report.get("flash_sales") or []:
        stock = sale.get("stock") or 0
        curve = sale.get("curve") or []
        label = plain(f"{sale.get('name') or sale.get('sku')} ({sale.get('id')})")
        fig.add_trace(go.Scatter(
            x=[p[0] for p in curve], y=[(p[1] / stock * 100) if stock else 0 for p in curve],
            mode="lines", line=dict(shape="hv", width=2), name=label,
            hovertemplate="%{x:.0f} s: %{y:.1f}%<extra>" + label + "</extra>",
        ))
    return _layout(fig, 320, title=dict(text="秒殺售罄曲線 Flash-sale sell-through", x=0.01),
                   xaxis=dict(title="開始後秒數 seconds since start", gridcolor="#eee"),
                   yaxis=dict(title="已售 % of stock", range=[0, 105], gridcolor="#eee"))


def trend_figure(rows: list[dict[str, Any]], rate_keys: list[tuple[str, str]]) -> dict[str, Any]:
    """The main rates across streams, in the order they were streamed."""
    fig = go.Figure()
    x = [f"{plain(r['label'])}" for r in rows]
    for key, label in rate_keys:
        fig.add_trace(go.Scatter(x=x, y=[None if r.get(key) is None else r[key] * 100 for r in rows],
                                 mode="lines+markers", name=label,
                                 hovertemplate="%{x}<br>" + label + ": %{y:.2f}%<extra></extra>"))
    return _layout(fig, 380, title=dict(text="主要比率走勢 Trend of the main rates", x=0.01),
                   yaxis=dict(title="%", gridcolor="#eee"), legend=dict(orientation="h", y=-0.25))


def slot_figure(groups: list[dict[str, Any]], title: str) -> dict[str, Any]:
    """Average GMV and GPM per group (time slot or weekday)."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    names = [g["label"] for g in groups]
    fig.add_trace(go.Bar(x=names, y=[g.get("gmv") or 0 for g in groups], name="平均 GMV",
                         marker_color="#4C78A8"), secondary_y=False)
    fig.add_trace(go.Scatter(x=names, y=[g.get("gpm") for g in groups], name="平均 GPM", mode="markers+lines",
                             marker=dict(size=10, color="#E45756")), secondary_y=True)
    fig.update_yaxes(rangemode="tozero", gridcolor="#eee")
    return _layout(fig, 320, title=dict(text=title, x=0.01), legend=dict(orientation="h", y=-0.2))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"
