"""A `segment` event names a segment of the stream's script, or it is refused with a reason.

Issue 13 item 1: the ingest role could add segment events at will, each one a segment of the report
and a shape and an annotation of the dashboard's figures (30 of them froze /healthz for 8.2 s).
Bounded by its script, a stream has at most as many segments as the script has ids (contract
section 2: `segment` is "an id of the script").
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from livecompanion.events import EventError

__all__ = ["unknown_segments"]


def unknown_segments(values: list[tuple[int, Any]], known: Collection[str],
                     errors: list[EventError]) -> list[tuple[int, Any]]:
    """`values` without the `segment` events naming an id outside `known`; each of those is added to
    `errors` with its index and reason. Anything else is left for the event rules to judge."""
    if not any(type(raw) is dict and raw.get("type") == "segment" for _, raw in values):
        return values  # the usual case: one pass, nothing copied
    kept = []
    for index, raw in values:
        if type(raw) is dict and raw.get("type") == "segment":
            name = raw.get("segment")
            if isinstance(name, str) and name.strip() and name.strip() not in known:
                shown = ", ".join(sorted(known)[:20])
                errors.append(EventError(index, f"segment: '{name.strip()[:100]}' is not a segment of the "
                                                f"stream's script (its segments: {shown})"))
                continue
        kept.append((index, raw))
    return kept
