"""The report of a stored stream: events from the record, the script, sales and lottery records.

The one place where the analytics touch the database (through `repository.py` and the stream's
repository, on a session opened here); the maths stays in `report`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ReportInputs:
    """What a stream's report is computed from, read from the record (`report_inputs`)."""

    stream_id: str
    title: str
    script: Script
    events: list[dict[str, Any]]
    records: dict[str, list[dict[str, Any]]]
    pseudonymizer: Any

    def compute(self) -> dict[str, Any]:
        """The report (CPU-bound, seconds on a big stream: run it off the event loop)."""
        report = compute_report(self.events, self.script, pseudonymizer=self.pseudonymizer,
                                flash_sales=self.records["flash_sales"], lotteries=self.records["lotteries"])
        report["stream_id"] = self.stream_id
        report.setdefault("title", self.title)
        return report


async def report_inputs(services: Core, stream_id: str) -> ReportInputs:
    from livecompanion.sales.service import report_records

    async with services.db.session() as session:
        row = await StreamRepository(session).get(stream_id)
    if row is None:
        raise NotFound(f"no stream '{stream_id}'")
    script = Script.model_validate(row.script)
    events = await stored_events(services, stream_id)
    records = await report_records(services.db, stream_id)
    pseudonymizer = default_pseudonymizer(services.settings.pseudonym_key, services.settings.data_dir)
    return ReportInputs(stream_id, row.title, script, events, records, pseudonymizer)


async def stream_report(services: Core, stream_id: str) -> dict[str, Any]:
    # The computation is CPU-bound and can take seconds on a big stream: keep the event loop free.
    return await asyncio.to_thread((await report_inputs(services, stream_id)).compute)


async def all_reports(services: Core) -> list[dict[str, Any]]:
    async with services.db.session() as session:
        ids = await StreamRepository(session).ids()
    return [await stream_report(services, stream_id) for stream_id in ids]
