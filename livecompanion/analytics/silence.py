"""Per source (the events' `platform`), the minutes of the stream in which it sent nothing.

A bridge that dies quietly leaves a hole in the numbers that looks like a quiet room. The report's
`source_silence` says, for each platform that sent events, which minutes from the stream's start
(minute 0 starts at its first event, as `minutes` does) had none of its events while the stream
ran, as ranges:

    "source_silence": {"douyin": {"events": 18234, "silent_minutes": 3, "silent": [[41, 43]]}}

A platform's first minute with events and its last one bound nothing: a source that joined late or
left early shows those minutes as silent too, which is what the host needs to know. Events without
a `platform` are not a source and are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def source_silence(
    events: Iterable[Any], start_ms: int | None = None, end_ms: int | None = None
) -> dict[str, Any]:
    """`events`: the stream's raw event dicts (a list: without `start_ms`/`end_ms` it is read twice
    to find the stream's first and last `ts`)."""
    if start_ms is None or end_ms is None:
        times = [e["ts"] for e in events if type(e) is dict and type(e.get("ts")) is int]
        if not times:
            return {}
        start_ms, end_ms = min(times), max(times)
    if end_ms < start_ms:
        return {}
    minutes = (end_ms - start_ms) // 60_000 + 1
    if minutes > 7 * 24 * 60:  # a week of minutes: a wrong ts, not a stream (the report warns)
        return {}
    active: dict[str, set[int]] = {}
    counts: dict[str, int] = {}
    for raw in events:
        if type(raw) is not dict:
            continue
        platform, ts = raw.get("platform"), raw.get("ts")
        if type(platform) is not str or not platform or type(ts) is not int or not start_ms <= ts <= end_ms:
            continue
        active.setdefault(platform, set()).add((ts - start_ms) // 60_000)
        counts[platform] = counts.get(platform, 0) + 1
    out: dict[str, Any] = {}
    for platform in sorted(active):
        seen = active[platform]
        ranges: list[list[int]] = []
        for minute in range(minutes):
            if minute in seen:
                continue
            if ranges and ranges[-1][1] == minute - 1:
                ranges[-1][1] = minute
            else:
                ranges.append([minute, minute])
        out[platform] = {
            "events": counts[platform],
            "silent_minutes": sum(b - a + 1 for a, b in ranges),
            "silent": ranges,
        }
    return out
