"""What the after-stream report reads from the record, on a session the caller owns: a stream's
stored events in arrival order (fetched in batches, so a long stream is not one huge result).

The stream's row and the sales and lottery records come through their own domains' repositories
(`stream/repository.py`, `sales/service.report_records`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncScalarResult, AsyncSession

from livecompanion.storage.tables import EventRow

BATCH = 5_000


class ReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def event_bodies(self, stream_id: str) -> list[dict[str, Any]]:
        """Every event of the stream in arrival order (the report's "input order" for ties)."""
        return [body async for body in self.streamed_bodies(stream_id)]

    async def streamed_bodies(self, stream_id: str) -> AsyncIterator[dict[str, Any]]:
        """The same, one at a time from a server-side cursor: memory holds one batch, not the log."""
        result: AsyncScalarResult[dict[str, Any]] = await self.session.stream_scalars(
            select(EventRow.body).where(EventRow.stream_id == stream_id).order_by(EventRow.seq)
            .execution_options(yield_per=BATCH)
        )
        async for body in result:
            yield body
