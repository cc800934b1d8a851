"""Validated events as rows of the event log, and the outcome of writing a batch of them.

A request's body is validated into typed events (`livecompanion.events`); each becomes an
`EventRecord`: the columns of `EventRow` plus the typed event, which the steps after the commit
(flash sales, lotteries, live numbers) read without parsing the stored JSON again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from livecompanion.events import BatchItem, Event

if TYPE_CHECKING:
    from livecompanion.ingest.orders import OrderChange


@dataclass(slots=True)
class EventRecord:
    stream_id: str
    event_id: str | None  # the sender's `id`; None: never a duplicate
    type: str
    ts_ms: int
    user_id: str | None
    body: str  # the validated event as JSON text (what `event_to_dict` gives, without unset fields)
    received_ms: int
    event: Event
    # What makes two events the same one: (stream, id); None when the sender gave no id.
    key: tuple[str, str] | None


def record_of(stream_id: str, event: Event, received_ms: int) -> EventRecord:
    body = event.__pydantic_serializer__.to_json(event, exclude_none=True).decode()
    eid = event.id
    return EventRecord(
        stream_id,
        eid,
        event.type,
        event.ts,
        event.user_id,
        body,
        received_ms,
        event,
        None if eid is None else (stream_id, eid),
    )


def records_of(stream_id: str, items: list[BatchItem], received_ms: int) -> list[EventRecord]:
    return [record_of(stream_id, item.event, received_ms) for item in items]


@dataclass(slots=True)
class StreamCommit:
    """What one committed write changed in one stream: the new events (arrival order), and the
    orders they moved. Duplicates are not in it: they changed nothing."""

    stream_id: str
    events: list[EventRecord] = field(default_factory=list)
    order_changes: list["OrderChange"] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class WriteResult:
    """One caller's share of a committed write."""

    accepted: int  # events stored now
    duplicates: int  # events whose id was already stored (or repeated within the same batch)
