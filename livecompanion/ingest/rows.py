"""Validated events as rows of the event log, and the outcome of writing a batch of them.

A request's decoded values become `EventRecord`s (`records_of_values`): the columns of `EventRow`
plus the event as a JSON-ready dict. The common high-volume shapes are checked without pydantic
(`livecompanion.events.plain`); everything else goes through `parse_event`, which also words the
reason for a rejection. The steps after the commit read the typed event (`record.event`), which
is built on first use: only orders and comments need it, and most events are neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from livecompanion.events import Event, EventError, parse_event
from livecompanion.events.plain import PLAIN_TYPES, plain_event, plain_model
from livecompanion.ingest.reserved import ALERT_ID_PREFIX, ALERT_TYPE_REASON, reserved_id_reason

if TYPE_CHECKING:
    from livecompanion.ingest.orders import OrderChange


# The columns of `events` a record fills, in the order of `EventRecord.row`.
EVENT_COLUMNS = ("stream_id", "event_id", "type", "ts_ms", "user_id", "body", "received_ms")


@dataclass(slots=True)
class EventRecord:
    stream_id: str
    event_id: str | None  # the sender's `id`; None: never a duplicate
    type: str
    ts_ms: int
    user_id: str | None
    body: str  # `data` as JSON text: what is stored
    received_ms: int
    data: dict[str, Any]  # the validated event (what `event_to_dict` gives, without unset fields)
    # What makes two events the same one: (stream, id); None when the sender gave no id.
    key: tuple[str, str] | None
    typed: Event | None = None  # `event`, once built
    index: int = 0  # its position in the request or message it came in (for a rejection's `index`)

    @property
    def row(self) -> tuple[Any, ...]:
        """The record as a row of `events` (`EVENT_COLUMNS`)."""
        return (
            self.stream_id, self.event_id, self.type, self.ts_ms, self.user_id, self.body, self.received_ms
        )

    @property
    def event(self) -> Event:
        """The typed event of `livecompanion.events`, built from `data` on first use: for the plain
        types without validating again (their `data` holds only strings and integers, already in the
        model's form, whichever path checked it), the others through `parse_event`."""
        if self.typed is None:
            plain = self.type in PLAIN_TYPES
            self.typed = plain_model(self.data) if plain else parse_event(self.data, self.received_ms)
        return self.typed


def record_of(stream_id: str, event: Event, received_ms: int, index: int = 0) -> EventRecord:
    """The record of an event already validated by `parse_event` (`index`: its place in its batch)."""
    body = event.__pydantic_serializer__.to_json(event, exclude_none=True)
    eid = event.id
    return EventRecord(
        stream_id,
        eid,
        event.type,
        event.ts,
        event.user_id,
        body.decode(),
        received_ms,
        orjson.loads(body),
        None if eid is None else (stream_id, eid),
        event,
        index,
    )


def records_of_values(
    stream_id: str,
    values: list[tuple[int, Any]],
    received_ms: int,
    errors: list[EventError],
    max_skew_ms: int | None = None,
) -> list[EventRecord]:
    """Records of the valid values ((batch index, decoded JSON) pairs); each invalid one is added to
    `errors` with its index and reason, and so is each event only the service may write
    (`reserved.py`: alerts). With `max_skew_ms` (the service passes its setting, by default
    events.limits.MAX_TS_SKEW_MS), a `ts` further than that from `received_ms` (the server's clock)
    is refused; None accepts any time."""
    records: list[EventRecord] = []
    append = records.append
    dumps = orjson.dumps
    for index, raw in values:
        data = plain_event(raw, received_ms, max_skew_ms)
        if data is None:  # the slow path: an uncommon type, or something to explain
            if type(raw) is dict and raw.get("type") == "alert":  # only the service raises alerts
                errors.append(EventError(index, ALERT_TYPE_REASON))
                continue
            try:
                event = parse_event(raw, received_ms, max_skew_ms=max_skew_ms)
            except ValueError as exc:
                errors.append(EventError(index, str(exc)))
                continue
            if event.id is not None and event.id.startswith(ALERT_ID_PREFIX):
                errors.append(EventError(index, reserved_id_reason(event.id)))
                continue
            append(record_of(stream_id, event, received_ms, index))
            continue
        eid = data.get("id")
        if eid is not None and eid.startswith(ALERT_ID_PREFIX):  # the alerts' ids: see reserved.py
            errors.append(EventError(index, reserved_id_reason(eid)))
            continue
        append(EventRecord(
            stream_id,
            eid,
            data["type"],
            data["ts"],
            data.get("user_id"),
            dumps(data).decode(),
            received_ms,
            data,
            None if eid is None else (stream_id, eid),
            None,
            index,
        ))
    return records


@dataclass(slots=True)
class StreamCommit:
    """What one committed write changed in one stream: the new events (arrival order), and the
    orders they moved. Duplicates are not in it: they changed nothing."""

    stream_id: str
    events: list[EventRecord] = field(default_factory=list)
    order_changes: list[OrderChange] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class WriteResult:
    """One caller's share of a committed write."""

    accepted: int  # events stored now
    duplicates: int  # events whose id was already stored (or repeated within the same batch)
    # Events the database refused one by one (index in the caller's batch, reason): they can never
    # be stored as they are, so they are rejected like invalid ones instead of failing the batch.
    refused: tuple[tuple[int, str], ...] = ()
