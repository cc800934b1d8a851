"""When each part of a recorded stream is sent in a rehearsal, and with which `ts`: pure, no I/O.

    log = read_log(lines, on_error)                   # events with a usable ts, in ts order
    shift = now - log.first_ts                         # the rehearsal happens now
    for step in plan(log, speed=20, shift_ms=shift):   # Step: due (ms after the start), events or a segment
        ...

Time compression. An event recorded at `ts` is due `(ts - first ts) / speed` ms after the
rehearsal starts; events due within `window_ms` of the first of a batch go in one batch (at most
`max_batch`). A recorded `segment` event is a step of its own (the runner moves the show there),
so the events before it are sent before it and the ones after it after it, as recorded.

The `ts` each event carries is its recorded one plus `shift_ms`, the same for every event: times
are moved, never compressed. The report reads nothing but the events' `ts` (contract section 4:
windows, stays, the platform count's integral, per-minute rows, opm), so a log whose times all
move by the same amount has the same figures: the rehearsal's report equals the recorded log's
figure for figure, at speed 1 and at speed 20, and its times (start, end, segments, minutes) are
the recorded ones plus the shift. Compressing the times by the speed (as scripts/replay.py
`--rebase` does) would shrink every duration: avg_watch_seconds, viewer_seconds, opm and the
per-minute table would change with the speed. Keeping the recorded times unshifted is not possible
for an older log: ingest refuses a `ts` more than a day from the server's clock
(LIVECOMPANION_MAX_TS_SKEW_HOURS), and the live screens and alerts would see a stream of last week.

What depends on arrival time instead of `ts`: nothing in the report; on the live side the
show's clock (segment elapsed time, overtime, a late cue, a silent source, GMV pace: wall-clock
alert rules), comments per minute on the console and the screens' arrival. At speed 1 the shifted
`ts` is the arrival time (to the send's latency), so these see the show as it was; at speed N they
see it N times faster, while the audience alert rules (online count falling, comments collapsing,
a question asked many times), which judge the events' own `ts`, fire as they would have.

Ties: events are sorted by `ts`, ties in file order (a stable sort), and sent in that order one
request at a time, so the service stores them in the order the offline report reads them (ties in
input order; the first of a duplicated `id` in that order is the one kept).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from livecompanion.events.models import ts_to_ms

__all__ = ["Log", "Step", "plan", "read_log"]

OnError = Callable[[int, str], None]  # (line or index, reason)


@dataclass
class Log:
    """A recorded stream, ready to play: events with their `ts` in epoch ms, in ts order."""

    events: list[tuple[int, dict[str, Any]]]  # (ts ms, event), ts order, ties in file order
    skipped_alerts: int = 0  # the recorded alerts: the service raises its own
    skipped_no_ts: int = 0
    skipped_bad: int = 0  # lines that are not JSON or not an event object
    segments: list[str] = field(default_factory=list)  # the recorded segment changes, in order

    @property
    def first_ts(self) -> int:
        return self.events[0][0] if self.events else 0

    @property
    def span_ms(self) -> int:
        return self.events[-1][0] - self.events[0][0] if self.events else 0


def _values(data: bytes, on_error: OnError) -> Iterator[tuple[int, Any]]:
    """(line number or array index + 1, decoded value) of an NDJSON file or a JSON array."""
    if data.lstrip()[:1] == b"[":
        try:
            values = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            on_error(1, f"not a JSON array: {exc}")
            return
        yield from enumerate(values, start=1)
        return
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            on_error(number, f"not JSON: {exc}")


def read_log(data: bytes, on_error: OnError) -> Log:
    """The events of a log (NDJSON or a JSON array: a `bridge ... --print` output, an export of
    `GET /api/streams/{id}/events`, a simulator log). Left out, each with a line to `on_error`:
    what is not an object, events without a readable `ts` (the offline report rejects them too: a
    log read after the fact has no receive time), and the recorded `alert` events (counted: the
    service computes the rehearsal's own alerts, and ingest refuses alerts). Anything else is
    sent as recorded; the service judges it as it judges any event."""
    out: list[tuple[int, dict[str, Any]]] = []
    log = Log(out)

    def bad(number: int, reason: str) -> None:
        log.skipped_bad += 1
        on_error(number, reason)

    for number, value in _values(data, bad):
        if not isinstance(value, dict):
            bad(number, "not an event object")
            continue
        if value.get("type") == "alert":
            log.skipped_alerts += 1
            continue
        raw = value.get("ts")
        try:
            ts = ts_to_ms(raw) if raw is not None and not isinstance(raw, bool) else None
        except (TypeError, ValueError):
            ts = None
        if ts is None:
            log.skipped_no_ts += 1
            on_error(number, "ts: missing or not a time (a recorded event needs its time)")
            continue
        out.append((ts, value))
    out.sort(key=lambda pair: pair[0])  # stable: ties keep the file's order
    log.segments = [e["segment"] for _, e in out if e.get("type") == "segment" and isinstance(e.get("segment"), str)]
    return log


@dataclass(frozen=True)
class Step:
    """Something to send `due_ms` after the rehearsal's start: a batch of events, or the show's move
    to `segment` (logged at `ts`)."""

    due_ms: float
    events: tuple[dict[str, Any], ...] = ()
    segment: str | None = None
    ts: int = 0
    event_id: str | None = None  # the recorded segment event's id, if it had one


def plan(log: Log | Iterable[tuple[int, dict[str, Any]]], speed: float, shift_ms: int, *,
         window_ms: float = 100.0, max_batch: int = 500, move_segments: bool = True) -> Iterator[Step]:
    """The steps of a rehearsal at `speed` (> 0) with every `ts` moved by `shift_ms`. With
    `move_segments`, each recorded `segment` event is a Step of its own (the show moves there);
    without, segment events are left out (the operator moves the show from the console)."""
    if not speed > 0:
        raise ValueError(f"speed must be above 0, got {speed}")
    events = log.events if isinstance(log, Log) else list(log)
    if not events:
        return
    first = events[0][0]
    batch: list[dict[str, Any]] = []
    batch_due = 0.0
    for ts, event in events:
        due = (ts - first) / speed
        is_segment = event.get("type") == "segment" and isinstance(event.get("segment"), str)
        if batch and (is_segment or len(batch) >= max_batch or due - batch_due > window_ms):
            yield Step(batch_due, tuple(batch))
            batch = []
        if is_segment:
            if move_segments:
                eid = event.get("id")
                yield Step(due, segment=event["segment"], ts=ts + shift_ms,
                           event_id=eid if isinstance(eid, str) and eid else None)
            continue
        if not batch:
            batch_due = due
        batch.append({**event, "ts": ts + shift_ms})
    if batch:
        yield Step(batch_due, tuple(batch))
