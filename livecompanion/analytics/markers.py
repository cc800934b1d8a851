"""What happened when, for the dashboard's time charts: the report's `markers`.

Data-driven: every marker is {`at`, `kind`, `label`, `until`} (ISO 8601 times; `until` only for
spans), made from the report's own sections (segment starts, flash sales: start, sold out, end,
lottery draws, 講解 spans) plus any records the caller passes (`extra`: dicts with `at` or `ts` as
epoch ms / ISO, `kind`, `label`, optional `until`), e.g. the cues the console fired and the pins
they showed (`cue_markers`). The service's 場控 alerts recorded in the log (`alert` events, raised
once each; their acknowledgements are not marked) are `alert` markers with the alert's own kind in
`alert` (`alert_markers`): the dashboard draws them on the online and GMV curves. A new kind needs
no code here: the dashboard draws unknown kinds with a default symbol.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from livecompanion.analytics.extras import to_ms

Iso = Callable[[int], str]


def cue_markers(fired: Mapping[str, int], script: Any) -> list[dict[str, Any]]:
    """Markers of the cues fired on the console ({"<segment id>/<index>": epoch ms}); a pin cue's
    marker is a `pin` (the pin it showed), the others `cue`."""
    out = []
    by_id = {s.id: s for s in getattr(script, "segments", None) or ()}
    for key, ms in fired.items():
        segment_id, _, index = key.rpartition("/")
        cues = getattr(by_id.get(segment_id), "cues", None) or []
        cue = cues[int(index)] if index.isdigit() and int(index) < len(cues) else None
        action = getattr(cue, "action", None)
        label = {"pin": f"置頂 {getattr(cue, 'text', '')}", "note": f"提示 {getattr(cue, 'text', '')}",
                 "countdown": f"倒計時 {getattr(cue, 'label', None) or ''}".strip()}.get(
                     action or "", f"{action or 'cue'} {key}")
        out.append({"ts": ms, "kind": "pin" if action == "pin" else "cue", "label": label[:80]})
    return out


def alert_markers(rows: Iterable[tuple[int, Any]]) -> list[dict[str, Any]]:
    """Markers of the raised alerts among the alerts column's rows (ts, (key, kind, level, text,
    acked)); one per key, the first raised."""
    out, seen = [], set()
    for ts, (key, kind, _level, text, acked) in rows:
        if acked or key in seen:
            continue
        seen.add(key)
        out.append({"ts": ts, "kind": "alert", "label": str(text)[:120], "alert": kind})
    return out


def report_markers(report: dict[str, Any], extra: Iterable[dict[str, Any]], iso: Iso) -> list[dict[str, Any]]:
    """The markers of a laid-out report, in time order."""
    out: list[tuple[int, dict[str, Any]]] = []

    def add(at: Any, kind: str, label: str, until: Any = None, alert: Any = None) -> None:
        if at is None:
            return
        ms = to_ms(at, f"{kind} marker")
        marker = {"at": iso(ms), "kind": kind, "label": label,
                  "until": iso(to_ms(until, f"{kind} marker until")) if until is not None else None}
        if alert is not None:
            marker["alert"] = str(alert)
        out.append((ms, marker))

    for n, seg in enumerate(report.get("segments") or (), start=1):
        add(seg["start"], "segment", f"{n}. {seg.get('title') or seg.get('id')}")
    for sale in report.get("flash_sales") or ():
        name = sale.get("name") or sale.get("sku")
        add(sale.get("started_at"), "flash_sale", f"秒殺開始 {name}")
        add(sale.get("sold_out_at"), "sold_out", f"售罄 {name}")
        if sale.get("ends_at") and not sale.get("sold_out_at"):
            add(sale.get("ends_at"), "flash_sale_end", f"秒殺結束 {name}")
    for lottery in report.get("lotteries") or ():
        add(lottery.get("drawn_at"), "lottery", f"抽獎開獎「{lottery.get('keyword')}」")
    for e in report.get("explains") or ():
        add(e["start"], "explain", f"講解 {e.get('name') or e['sku']}", e["end"])
    for m in extra:
        add(m.get("at", m.get("ts")), str(m.get("kind") or "note"), str(m.get("label") or ""), m.get("until"),
            m.get("alert"))
    out.sort(key=lambda pair: pair[0])
    return [m for _, m in out]
