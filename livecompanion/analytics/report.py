"""The after-stream report (contract section 4): pure, no I/O.

`compute_report(events, script)` is the one computation behind `livecompanion report`, the report
API and the dashboards. Events are read in ts order with ties in input order; an event whose id was
seen before (in that order) is ignored. The definitions live in `windows` (stays, windows) and
`metrics` (the keys); this module orders the events and lays the report out.

Beside the contract's keys the report holds a few extras: `title`, `host`, `timezone`,
`duration_seconds`, `events`, `duplicates`, `before_first_segment` (the keys on the time before the
first segment, null when the first segment starts the stream or there is none), per segment
`title`, `product` and `target_min_seconds`, per minute `likes`, `views`, `online` (the platform's
last viewer_count) and `segment`, `products` (per-sku funnel), `repeat_buyers` and `warnings`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from livecompanion.analytics.collect import Collector, EventTable, gc_paused
from livecompanion.analytics.explains import explain_summary
from livecompanion.analytics.extras import flash_sale_summary, lottery_summary, to_ms
from livecompanion.analytics.history import history_of
from livecompanion.analytics.markers import alert_markers, report_markers
from livecompanion.analytics.metrics import KEYS, ONLINE_COUNT, STAYS, merge, money, ratio
from livecompanion.analytics.metrics import window_metrics as metrics_of
from livecompanion.analytics.pseudonym import Pseudonymizer, default_pseudonymizer
from livecompanion.analytics.quality import data_quality
from livecompanion.analytics.questions import Grouper, top_questions
from livecompanion.analytics.summary import build_summary
from livecompanion.analytics.windows import MINUTE_MS, Scan, Window, scan
from livecompanion.shops.quality import shop_orders_quality
from livecompanion.shops.reconcile import reconcile


class _Clock:
    """Epoch ms to ISO 8601 in the script's time zone."""

    def __init__(self, tz_name: str) -> None:
        self.tz = UTC if tz_name == "UTC" else ZoneInfo(tz_name)

    def iso(self, ms: int) -> str:
        # Whole seconds, then the milliseconds: ms / 1000 as a float can land a hair below.
        dt = datetime.fromtimestamp(ms // 1000, self.tz).replace(microsecond=ms % 1000 * 1000)
        return dt.isoformat(timespec="seconds" if ms % 1000 == 0 else "milliseconds")


def compute_report(
    events: Iterable[Any],
    script: Any | None = None,
    *,
    flash_sales: Iterable[dict[str, Any]] | None = None,
    lotteries: Iterable[dict[str, Any]] | None = None,
    pseudonymizer: Pseudonymizer | None = None,
    received_ms: int | None = None,
    question_grouper: Grouper | None = None,
    questions_limit: int = 20,
    errors: list[tuple[int, str]] | None = None,
    markers: Iterable[dict[str, Any]] | None = None,
    history: Iterable[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The report of a stream, JSON-ready.

    `events`: raw dicts (validated with the ingest rules; invalid ones are skipped and, with
    `errors`, listed as (index, reason)) or typed events of `livecompanion.events`, in input order.
    `script`: a `livecompanion.scripts.Script` or None. `flash_sales`, `lotteries`: the service's
    records of them (see `extras`). `received_ms`: the time given to events without `ts` (at
    ingest, the receive time); None rejects them. `question_grouper`: see `questions`. `markers`:
    more markers for the time charts (see `markers`), e.g. the cues fired. `history`: the reports of
    earlier streams, for `history` (see `history`) and the summary.
    """
    collector = Collector(received_ms)
    # One pause for the whole computation: records made while the collector is paused stay in the
    # youngest generation, and a collection between two paused steps would walk all of them.
    with gc_paused():
        collector.add_values(events, (lambda i, r: errors.append((i, r))) if errors is not None else _ignore)
        return report_from_table(collector.finish(), script, flash_sales=flash_sales, lotteries=lotteries,
                                 pseudonymizer=pseudonymizer, question_grouper=question_grouper,
                                 questions_limit=questions_limit, markers=markers, history=history)


def _ignore(_pos: int, _reason: str) -> None:
    pass


def report_from_table(
    table: EventTable,
    script: Any | None = None,
    *,
    flash_sales: Iterable[dict[str, Any]] | None = None,
    lotteries: Iterable[dict[str, Any]] | None = None,
    pseudonymizer: Pseudonymizer | None = None,
    question_grouper: Grouper | None = None,
    questions_limit: int = 20,
    markers: Iterable[dict[str, Any]] | None = None,
    history: Iterable[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """As `compute_report`, from collected events (`collect.Collector.finish()`)."""
    alias = pseudonymizer or default_pseudonymizer()
    clock = _Clock(getattr(script, "timezone", None) or "UTC")
    with gc_paused():
        result = scan(table)
        report = _layout(result, script, clock, alias, len(table), table.duplicates, list(flash_sales or ()),
                         list(lotteries or ()), question_grouper, questions_limit)
        report["shop_orders"] = shop_orders_quality(table)  # livecompanion/shops/quality.py
        report["data_quality"] = data_quality(table, result, report["avg_watch_method"])
        alerts = alert_markers(table.alerts)  # the service's alerts recorded in the log
        report["markers"] = report_markers(report, [*(markers or ()), *alerts], clock.iso)
        report["history"] = history_of(report, history or ())
        report["summary"] = build_summary(report)
        return report


def _layout(sc: Scan, script: Any | None, clock: _Clock, alias: Pseudonymizer, events: int,
            duplicates: int, flash_sales: list[dict[str, Any]], lotteries: list[dict[str, Any]],
            grouper: Grouper | None, questions_limit: int) -> dict[str, Any]:
    warnings: list[str] = []
    report: dict[str, Any] = {
        "title": getattr(script, "title", None),
        "host": getattr(script, "host", None),
        "timezone": str(getattr(script, "timezone", None) or "UTC"),
        "start": clock.iso(sc.start) if sc.start is not None else None,
        "end": clock.iso(sc.end) if sc.end is not None else None,
        "duration_seconds": (sc.end - sc.start) / 1000 if sc.start is not None and sc.end is not None else 0,
        "events": events,
        "duplicates": duplicates,
    }
    # The scan sets start and end together: both or neither.
    whole = Window(0, 0) if sc.start is None or sc.end is None else merge(sc.windows, sc.start, sc.end)
    method = STAYS if sc.presence == "stays" else ONLINE_COUNT

    def window_metrics(w: Window) -> dict[str, Any]:
        return metrics_of(w, method)

    report["avg_watch_method"] = method
    report.update(window_metrics(whole))

    by_id = {s.id: s for s in getattr(script, "segments", None) or ()}
    segments = []
    for w in sc.windows[1:]:
        planned = by_id.get(w.segment)
        if script is not None and planned is None:
            warnings.append(f"segment {w.segment!r} went live but is not in the script")
        target = getattr(planned, "target", None)
        segments.append({
            "id": w.segment,
            "kind": getattr(planned, "kind", None),
            "title": getattr(planned, "title", None),
            "product": getattr(planned, "product", None),
            "start": clock.iso(w.start),
            "end": clock.iso(w.end),
            "target_seconds": target.max_seconds if target is not None else None,
            "target_min_seconds": target.min_seconds if target is not None else None,
            "actual_seconds": (w.end - w.start) / 1000,
            **window_metrics(w),
        })
    report["segments"] = segments
    pre = sc.windows[0] if sc.windows else None
    if pre is not None and len(sc.windows) > 1 and pre.end > pre.start:
        report["before_first_segment"] = {
            "start": clock.iso(pre.start), "end": clock.iso(pre.end),
            "actual_seconds": (pre.end - pre.start) / 1000, **window_metrics(pre),
        }
    else:
        report["before_first_segment"] = None

    def segment_at(ms: int) -> str | None:
        return sc.windows[sc.window_at(ms)].segment if sc.windows and ms >= sc.windows[0].start else None

    report["minutes"] = _minutes(sc, clock)
    if sc.start is not None and not sc.minutes.count:
        warnings.append(f"the events span {report['duration_seconds'] / 86400:.0f} days: the per-minute table "
                        "is left out (is there an event with a wrong ts?)")
    report["flash_sales"] = [
        flash_sale_summary(s, alias=alias, iso=clock.iso, segment_at=segment_at,
                           product_name=lambda sku: _product_name(script, sku))
        for s in flash_sales
    ]
    for summary, sale in zip(report["flash_sales"], flash_sales):
        ends = sale.get("ends_at") or sale.get("stopped_at")
        summary["reconciliation"] = reconcile(
            sale, to_ms(sale["started_at"], "started_at"), to_ms(ends, "ends_at") if ends is not None else None,
            sc.paid, alias,
        )
    report["lotteries"] = [lottery_summary(x, alias=alias, iso=clock.iso, segment_at=segment_at)
                           for x in lotteries]
    report["questions"] = [
        {"text": q.text, "count": q.count, "asks": q.asks, "first_at": clock.iso(q.first_ts),
         "segment": segment_at(q.first_ts), "askers": [alias(a) for a in q.askers]}
        for q in top_questions(sc.comment_counts, sc.comments, questions_limit, grouper)
    ]
    report["targets"] = _targets(script, report)
    report["products"] = _products(sc, script)
    report["explains"], report["explained_products"] = explain_summary(
        sc, clock.iso, lambda sku: _product_name(script, sku))
    buyers = Counter(p.user for p in sc.paid)
    report["repeat_buyers"] = sum(1 for n in buyers.values() if n > 1)
    report["warnings"] = warnings
    return report


def _minutes(sc: Scan, clock: _Clock) -> list[dict[str, Any]]:
    m = sc.minutes
    if sc.start is None:
        return []
    starts = [w.start for w in sc.windows]
    out = []
    wi = 0
    for k in range(m.count):
        t = sc.start + k * MINUTE_MS
        while wi + 1 < len(starts) and starts[wi + 1] <= t:
            wi += 1
        out.append({
            "minute": k, "start": clock.iso(t), "segment": sc.windows[wi].segment,
            "viewers": m.viewers[k], "comments": m.comments[k], "orders": m.orders[k],
            "gmv": money(m.gmv_cents[k]), "likes": m.likes[k], "views": m.views[k], "online": m.online[k],
        })
    return out


def _targets(script: Any | None, report: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, target in (getattr(script, "targets", None) or {}).items():
        actual = report.get(name) if name in KEYS else None
        out[name] = {"target": target, "actual": actual,
                     "ratio": ratio(actual, target, 4) if actual is not None else None}
    return out


def _product_name(script: Any | None, sku: str) -> str | None:
    product = script.product(sku) if script is not None and hasattr(script, "product") else None
    return getattr(product, "name", None)


def _products(sc: Scan, script: Any | None) -> list[dict[str, Any]]:
    """Per sku: its own little funnel (exposure, clicks, buyers) and sales."""
    sales: dict[str, list[Any]] = {}
    for p in sc.paid:
        s = sales.setdefault(p.sku, [0, 0, 0, set()])
        s[0] += 1
        s[1] += p.qty
        s[2] += p.cents
        s[3].add(p.user)
    skus = list(dict.fromkeys([*(p.sku for p in getattr(script, "products", None) or ()),
                               *sc.sku_exposure, *sc.sku_clickers, *sales]))
    out = []
    for sku in skus:
        exposed = len(sc.sku_exposure.get(sku, ()))
        clicked = len(sc.sku_clickers.get(sku, ()))
        orders, items, cents, buyers = sales.get(sku, [0, 0, 0, set()])
        out.append({
            "sku": sku, "name": _product_name(script, sku), "exposure_uv": exposed,
            "click_uv": clicked, "buyer_uv": len(buyers), "orders": orders, "items_sold": items,
            "gmv": money(cents), "click_rate": ratio(clicked, exposed),
            "click_conversion_rate": ratio(len(buyers), clicked),
        })
    return out
