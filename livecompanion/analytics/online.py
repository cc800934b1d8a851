"""The platform's online count (`viewer_count` events) as a step function: `pcu`, `viewer_seconds`
and `acu` of contract section 4, and the count at each minute's start.

The holding rule: each `viewer_count` holds from its `ts` until the next one (a later one at the
same `ts` replaces it, so it never holds at any instant), the last one until the stream's end.
Nothing holds before the first. Windows are half-open, [start, next start), except the last, which
also holds the stream's end instant: so a count sent at exactly the stream's end holds at one
instant of the last window (it is its `pcu` if the largest) for zero seconds.

Counts are integers and times integer ms, so the integral is exact: `area_ms` is count x ms.
A log has a count every few seconds at most (the benchmark: 500 in a 3-hour million-event log),
so this walks the counts once per window and costs nothing next to the rest of the report.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(slots=True)
class Held:
    """The platform count on one window."""

    peak: int | None = None  # the largest count holding at some instant; None: none holds
    area_ms: int = 0  # integral of the count over the window, count x ms
    held_ms: int = 0  # ms of the window during which a count holds

    def add(self, other: Held) -> None:
        """Merge a window that shares no instant with this one."""
        if other.peak is not None and (self.peak is None or other.peak > self.peak):
            self.peak = other.peak
        self.area_ms += other.area_ms
        self.held_ms += other.held_ms


class Steps:
    """The counts as steps: `ts[i]` distinct and increasing, `count[i]` holding on [ts[i], ts[i+1]),
    the last on [ts[-1], end]."""

    __slots__ = ("count", "end", "ts")

    def __init__(self, ts: Sequence[int], counts: Sequence[int], end: int) -> None:
        # Sorted by ts, ties in input order: the last of each ts is the one that holds.
        keep_ts: list[int] = []
        keep_n: list[int] = []
        for t, n in zip(ts, counts):
            if keep_ts and keep_ts[-1] == t:
                keep_n[-1] = n
            else:
                keep_ts.append(t)
                keep_n.append(n)
        self.ts, self.count, self.end = keep_ts, keep_n, end

    def at(self, instant: int) -> int | None:
        """The count holding at `instant` (None before the first)."""
        i = bisect_right(self.ts, instant) - 1
        return self.count[i] if i >= 0 and instant <= self.end else None

    def on(self, start: int, end: int, closed: bool) -> Held:
        """The count on the window [start, end), or [start, end] when `closed` (the last window)."""
        held = Held()
        ts, count, stream_end = self.ts, self.count, self.end
        if not ts or end < start or (end == start and not closed):
            return held
        i = max(bisect_right(ts, start) - 1, 0)
        n = len(ts)
        while i < n:
            lo = max(ts[i], start)
            hi = min(ts[i + 1] if i + 1 < n else stream_end, end)
            if lo > end or (lo == end and not closed):
                break
            # Piece i holds on [ts[i], next) (the last: to the stream's end, inclusive): it meets the
            # window when lo < hi, or at the single instant lo == hi == end of the last piece.
            if lo < hi or (lo == hi and closed and i + 1 == n):
                if held.peak is None or count[i] > held.peak:
                    held.peak = count[i]
                held.area_ms += count[i] * (hi - lo)
                held.held_ms += hi - lo
            i += 1
        return held
