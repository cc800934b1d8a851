"""Does a rehearsal's report equal the offline report of its log? Pure, no I/O.

    differences = compare_reports(offline, rehearsal, shift_ms, ingest_duplicates=0)
    # [] when equal; else ["segments[2].gmv: 1234.5 (log) != 1200 (rehearsal)", ...]

Every figure is compared exactly (same events, same arithmetic: floats come out bit for bit),
and every time (ISO 8601 strings, and integers under keys ending `_ms`) after taking the
rehearsal's shift off it (pacing.py: the events' times are moved by one amount, never
compressed). Left out, because they are not the log's figures:

- `stream_id`, `history` (the streams served before the rehearsal; the offline report has none
  unless given `--history`) and, when either side has history, `summary` (its funnel sentence reads
  the history);
- markers the service adds by itself (`alert`, `cue`, `pin`): the rehearsal's alerts are its own,
  computed live; the recorded ones are not sent (ingest refuses alert events);
- `duplicates`, and `data_quality`'s `duplicates` and `rejected`: what was wrong in the log file
  never gets into a stored log (ingest keeps one event of each `id` and refuses bad events at the
  door), so the rehearsal's are zero; the offline totals must equal what ingest answered plus what
  the rehearsal could not send (`ingest_duplicates`, `refused`: lines that are not events or have
  no time, events ingest rejected). Per platform they are left out (ingest's answer does not say
  which platform a duplicate came from), and so is a platform that sent nothing but rejects.

Compared, and so listed when they differ: the flash sales and lotteries (the service's records of
what the operator ran during the rehearsal; the log's offline report has none).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = ["SERVICE_MARKERS", "compare_reports"]

SERVICE_MARKERS = frozenset({"alert", "cue", "pin"})
_SKIP = frozenset({"stream_id", "history"})
MAX_LISTED = 20


def _time_ms(value: str) -> int | None:
    """Epoch ms of an ISO 8601 time with an offset (as the report writes them), else None."""
    if len(value) < 19 or value[4] != "-" or value[10] != "T":
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return round(parsed.timestamp() * 1000)


def _walk(a: Any, b: Any, shift_ms: int, path: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                side = "log" if key in a else "rehearsal"
                out.append(f"{path}{'.' if path else ''}{key}: only in the {side}'s report")
                continue
            _walk(a[key], b[key], shift_ms, f"{path}{'.' if path else ''}{key}", out)
        return
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} entries (log) != {len(b)} (rehearsal)")
        for i, (x, y) in enumerate(zip(a, b)):
            _walk(x, y, shift_ms, f"{path}[{i}]", out)
        return
    if isinstance(a, str) and isinstance(b, str) and a != b:
        ta, tb = _time_ms(a), _time_ms(b)
        if ta is not None and tb is not None and tb - shift_ms == ta:
            return  # the same time, moved by the rehearsal's shift
    if path.endswith("_ms") and type(a) is int and type(b) is int and b - shift_ms == a:
        return  # an epoch-ms time (e.g. shop_orders.live_window), moved by the shift
    numbers = isinstance(a, (int, float)) and isinstance(b, (int, float))
    if a != b or (type(a) is not type(b) and not numbers):
        out.append(f"{path}: {a!r} (log) != {b!r} (rehearsal)")


def _without_service_markers(report: dict[str, Any]) -> list[Any]:
    return [m for m in report.get("markers") or () if m.get("kind") not in SERVICE_MARKERS]


def _stored_quality(quality: Any) -> Any:
    """data_quality without what only a log file can hold (see the module's docstring)."""
    if not isinstance(quality, dict):
        return quality
    out = {k: v for k, v in quality.items() if k not in ("duplicates", "rejected")}
    out["platforms"] = [{k: v for k, v in p.items() if k not in ("duplicates", "rejected")}
                        for p in quality.get("platforms") or () if p.get("events")]
    return out


def compare_reports(offline: dict[str, Any], rehearsal: dict[str, Any], shift_ms: int,
                    ingest_duplicates: int = 0, refused: int = 0) -> list[str]:
    """What differs between the report of the log (`offline`) and the rehearsal's, one line each
    (at most MAX_LISTED, then a count of the rest); [] when they are equal figure for figure.
    `ingest_duplicates`, `refused`: the events of the log ingest answered as duplicates, and the
    ones the rehearsal could not send or ingest rejected."""
    skip = set(_SKIP) | {"markers", "duplicates", "data_quality"}
    if offline.get("history") or rehearsal.get("history"):
        skip.add("summary")
    a = {k: v for k, v in offline.items() if k not in skip}
    b = {k: v for k, v in rehearsal.items() if k not in skip}
    a["markers"], b["markers"] = _without_service_markers(offline), _without_service_markers(rehearsal)
    a["data_quality"] = _stored_quality(offline.get("data_quality"))
    b["data_quality"] = _stored_quality(rehearsal.get("data_quality"))
    out: list[str] = []
    _walk(a, b, shift_ms, "", out)
    quality_a, quality_b = offline.get("data_quality") or {}, rehearsal.get("data_quality") or {}
    for name, log_count, stored, at_ingest in (
        ("duplicates", offline.get("duplicates", 0), rehearsal.get("duplicates", 0), ingest_duplicates),
        ("data_quality.duplicates", quality_a.get("duplicates", 0), quality_b.get("duplicates", 0), ingest_duplicates),
        ("data_quality.rejected", quality_a.get("rejected", 0), quality_b.get("rejected", 0), refused),
    ):
        if log_count != stored + at_ingest:
            out.append(f"{name}: {log_count} (log) != {stored + at_ingest} (rehearsal: {at_ingest} at ingest "
                       f"or not sent, {stored} in its log)")
    if len(out) > MAX_LISTED:
        out = [*out[:MAX_LISTED], f"... and {len(out) - MAX_LISTED} more"]
    return out
