"""The report of a stored stream: events from the record, the script, sales and lottery records.

The one place where the analytics touch the database; the maths stays in `report`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from livecompanion.analytics.pseudonym import default_pseudonymizer
from livecompanion.analytics.report import compute_report
from livecompanion.errors import NotFound
from livecompanion.scripts.models import Script
from livecompanion.storage.tables import EventRow, StreamRow

if TYPE_CHECKING:
    from livecompanion.core import Core

BATCH = 5_000


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


async def stream_report(services: Core, stream_id: str) -> dict[str, Any]:
    from livecompanion.sales.service import report_records

    async with services.db.session() as session:
        row = await session.get(StreamRow, stream_id)
    if row is None:
        raise NotFound(f"no stream '{stream_id}'")
    script = Script.model_validate(row.script)
    events = await stored_events(services, stream_id)
    records = await report_records(services.db, stream_id)
    pseudonymizer = default_pseudonymizer(services.settings.pseudonym_key, services.settings.data_dir)
    # The computation is CPU-bound and can take seconds on a big stream: keep the event loop free.
    report = await asyncio.to_thread(
        compute_report, events, script, pseudonymizer=pseudonymizer, **records,
    )
    report["stream_id"] = stream_id
    report.setdefault("title", row.title)
    return report


async def all_reports(services: Core) -> list[dict[str, Any]]:
    async with services.db.session() as session:
        ids = list(await session.scalars(select(StreamRow.id).order_by(StreamRow.created_ms)))
    return [await stream_report(services, stream_id) for stream_id in ids]
