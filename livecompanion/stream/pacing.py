"""Pacing of a segment: time used against its target (pure; `web/static/live.js` mirrors it).

    ok     before the amber mark
    amber  near the target: from 80% of the upper bound (or the lower bound of a range, if later)
    red    past the upper bound

No ticking server loop: pages compute it from `segment.started_ms`, the targets and the corrected
clock, so every screen turns amber in the same second.
"""

from __future__ import annotations

from typing import Literal

Pace = Literal["ok", "amber", "red"]
AMBER_FRACTION = 0.8


def amber_at(min_seconds: int | None, max_seconds: int | None) -> float | None:
    if max_seconds is None:
        return None
    mark = max_seconds * AMBER_FRACTION
    if min_seconds is not None and min_seconds < max_seconds:
        mark = max(mark, min_seconds)
    return mark


def pace(elapsed_seconds: float, min_seconds: int | None, max_seconds: int | None) -> Pace:
    if max_seconds is None:
        return "ok"
    if elapsed_seconds > max_seconds:
        return "red"
    mark = amber_at(min_seconds, max_seconds)
    if mark is not None and elapsed_seconds >= mark:
        return "amber"
    return "ok"
