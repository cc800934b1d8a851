"""Where a log's events came from, per platform, for the report's `data_quality` (contract section 4).

A log mixes sources: a platform bridge (douyin, tiktok, ...), a shop's webhook, the service's own
`segment` events (no platform). The report says per platform which event types it sent, whether
it sent any `leave`, the minutes it was silent, the share of its events without `id`, and its
duplicates and rejects.

The collector's loop is the report's hottest code (about 0.8 microseconds an event), so it does not
tally every event by platform. Almost all events of a log carry one platform (the "main" one, read
off the first batch); the loop only compares each event's platform with it and records the events
of the other platforms one by one (`other`). The main platform's figures are then the table's
totals minus the others'. A log of two equally busy platforms costs a record for half its events;
the figures are exact either way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

_UNSET: Any = object()
_GUESS_FROM = 512  # items of the first batch looked at to guess the main platform


@dataclass(slots=True)
class OtherEvent:
    seq: int  # input position
    type: str
    ts: int
    no_id: bool
    platform: str | None


@dataclass(slots=True)
class SourceTally:
    """Filled by `collect.Collector` while collecting; `settle` when the table is final."""

    main: Any = _UNSET  # the platform most events carry (None: no platform field)
    others: list[OtherEvent] = field(default_factory=list)
    rejected: Counter = field(default_factory=Counter)  # platform -> events rejected
    duplicates: Counter = field(default_factory=Counter)  # platform -> repeated events left out
    no_event: int = 0  # input positions without an accepted event (rejects, blanks, repeats)
    without_id: int = 0  # kept events without an id (set by `settle`)
    marks_without_id: int = 0  # the service's alerts among the kept events without an id: not a source's

    def main_of(self, batch: Sequence[Any]) -> Any:
        """The main platform, guessed from the first batch the first time."""
        if self.main is _UNSET:
            seen = Counter(p if type(p := raw.get("platform")) is str else None
                           for raw in islice(batch, _GUESS_FROM) if type(raw) is dict)
            self.main = seen.most_common(1)[0][0] if seen else None
        return self.main

    def other(self, seq: int, kind: str, ts: int, no_id: bool, platform: str | None) -> None:
        self.others.append(OtherEvent(seq, kind, ts, no_id, platform))

    def reject(self, platform: str | None) -> None:
        self.rejected[platform] += 1

    def resent(self, platform: str | None) -> None:
        self.duplicates[platform] += 1

    def settle(self, table: Any, ids: list[str | None], dropped: Mapping[str, set[int]]) -> None:
        """The events left out as repeats at the end are taken off the platforms they came from."""
        if self.main is _UNSET:
            self.main = None
        # A repeat has an id: none are left out here. Alerts are marks, not a source's events.
        self.without_id = ids.count(None) - self.no_event - self.marks_without_id
        gone = {table.columns[name].seq[row] for name, rows in dropped.items() for row in rows}
        if gone:
            kept = []
            for rec in self.others:
                if rec.seq in gone:
                    self.duplicates[rec.platform] += 1
                    gone.discard(rec.seq)
                else:
                    kept.append(rec)
            self.others = kept
            self.duplicates[self.main] += len(gone)
