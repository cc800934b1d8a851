"""The report of a stored stream: events from the record, the script, sales and lottery records.

The one place where the analytics touch the database (through `repository.py` and the stream's
repository, on a session opened here); the maths stays in `report`.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING, Any

from livecompanion.analytics.pseudonym import default_pseudonymizer
from livecompanion.analytics.report import compute_report
from livecompanion.analytics.repository import ReportRepository
from livecompanion.errors import NotFound
from livecompanion.scripts.models import Script
from livecompanion.stream.repository import StreamRepository

if TYPE_CHECKING:
    from livecompanion.core import Core


async def stored_events(services: Core, stream_id: str) -> list[dict[str, Any]]:
    """Every event of the stream in arrival order (the report's "input order" for ties)."""
    async with services.db.session() as session:
        return await ReportRepository(session).event_bodies(stream_id)


async def stream_report(services: Core, stream_id: str) -> dict[str, Any]:
    from livecompanion.sales.service import report_records

    async with services.db.session() as session:
        row = await StreamRepository(session).get(stream_id)
    if row is None:
        raise NotFound(f"no stream '{stream_id}'")
    script = Script.model_validate(row.script)
    events = await stored_events(services, stream_id)
    records = await report_records(services.db, stream_id)
    pseudonymizer = default_pseudonymizer(services.settings.pseudonym_key, services.settings.data_dir)
    # The computation is CPU-bound and can take seconds on a big stream: keep the event loop free.
    report = await asyncio.to_thread(
        partial(compute_report, events, script, pseudonymizer=pseudonymizer,
                flash_sales=records["flash_sales"], lotteries=records["lotteries"]),
    )
    report["stream_id"] = stream_id
    report.setdefault("title", row.title)
    return report


async def all_reports(services: Core) -> list[dict[str, Any]]:
    async with services.db.session() as session:
        ids = await StreamRepository(session).ids()
    return [await stream_report(services, stream_id) for stream_id in ids]
