"""The report of a stored stream: events from the record, the script, sales and lottery records.

The one place where the analytics touch the database; the maths stays in `report`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson

from sqlalchemy import select

from livecompanion.analytics.pseudonym import default_pseudonymizer
from livecompanion.analytics.markers import cue_markers
from livecompanion.analytics.report import compute_report
from livecompanion.errors import NotFound
from livecompanion.scripts.models import Script
from livecompanion.storage.tables import EventRow, StreamRow

if TYPE_CHECKING:
    from livecompanion.core import Core

BATCH = 5_000
CHUNK_BYTES = 64 << 10  # NDJSON sent in pieces of about this size


async def event_log(services: Core, stream_id: str) -> AsyncIterator[bytes]:
    """The stream's stored event log as NDJSON (contract section 2), in the order stored, in pieces:
    rows are read `BATCH` at a time from a server-side cursor, so memory holds one batch, never the
    log. NotFound (before the first piece) when there is no such stream."""
    async with services.db.session() as session:
        if await session.get(StreamRow, stream_id) is None:
            raise NotFound(f"no stream '{stream_id}'")
    return _event_lines(services, stream_id)


async def _event_lines(services: Core, stream_id: str) -> AsyncIterator[bytes]:
    dumps = orjson.dumps
    async with services.db.session() as session:
        result = await session.stream_scalars(
            select(EventRow.body).where(EventRow.stream_id == stream_id).order_by(EventRow.seq)
            .execution_options(yield_per=BATCH)
        )
        piece: list[bytes] = []
        size = 0
        async for body in result:
            line = dumps(body)
            piece.append(line)
            size += len(line) + 1
            if size >= CHUNK_BYTES:
                yield b"\n".join(piece) + b"\n"
                piece, size = [], 0
        if piece:
            yield b"\n".join(piece) + b"\n"


async def stored_events(services: Core, stream_id: str) -> list[dict[str, Any]]:
    """Every event of the stream in arrival order (the report's "input order" for ties)."""
    bodies: list[dict[str, Any]] = []
    async with services.db.session() as session:
        result = await session.stream_scalars(
            select(EventRow.body).where(EventRow.stream_id == stream_id).order_by(EventRow.seq)
            .execution_options(yield_per=BATCH)
        )
        async for body in result:
            bodies.append(body)
    return bodies


async def stream_report(services: Core, stream_id: str, *, with_history: bool = True) -> dict[str, Any]:
    """The report of a stored stream; with `with_history`, against the streams created before it."""
    from livecompanion.sales.service import report_records

    async with services.db.session() as session:
        row = await session.get(StreamRow, stream_id)
    if row is None:
        raise NotFound(f"no stream '{stream_id}'")
    script = Script.model_validate(row.script)
    earlier = await _earlier_reports(services, row.created_ms, stream_id) if with_history else []
    events = await stored_events(services, stream_id)
    records = await report_records(services.db, stream_id)
    pseudonymizer = default_pseudonymizer(services.settings.pseudonym_key, services.settings.data_dir)
    # The computation is CPU-bound and can take seconds on a big stream: keep the event loop free.
    report = await asyncio.to_thread(
        compute_report, events, script, pseudonymizer=pseudonymizer,
        markers=cue_markers(row.fired_cues or {}, script), history=earlier, **records,
    )
    report["stream_id"] = stream_id
    report.setdefault("title", row.title)
    return report


async def all_reports(services: Core) -> list[dict[str, Any]]:
    async with services.db.session() as session:
        ids = list(await session.scalars(select(StreamRow.id).order_by(StreamRow.created_ms)))
    return [await stream_report(services, stream_id, with_history=False) for stream_id in ids]


async def _earlier_reports(services: Core, created_ms: int, stream_id: str) -> list[dict[str, Any]]:
    """The reports of the streams created before this one (each computed afresh from its events: a
    team's history is tens of streams, and a report of a big one takes seconds)."""
    async with services.db.session() as session:
        ids = list(await session.scalars(
            select(StreamRow.id).where(StreamRow.created_ms <= created_ms, StreamRow.id != stream_id)
            .order_by(StreamRow.created_ms)))
    return [await stream_report(services, other, with_history=False) for other in ids]
