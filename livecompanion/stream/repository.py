"""Streams and their countdowns in the record, read and written on a session the caller owns.

    async with db.session() as session:
        streams = StreamRepository(session)
        row = await streams.get(stream_id, lock=True)   # None: no such stream
        ...
        await session.commit()                           # the caller decides what is one transaction

Nothing here commits or opens a session, so a service can make several writes (the stream's row,
a countdown, a `segment` event) one transaction. Other domains use it to look a stream up (sales
and lotteries before they create one, ingest before it accepts events, the report).
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from livecompanion.storage.tables import CountdownRow, EventRow, StreamRow


class StreamRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, stream_id: str, *, lock: bool = False) -> StreamRow | None:
        """The stream's row; `lock`: FOR UPDATE (PostgreSQL), and re-read even if the session has it."""
        return await self.session.get(StreamRow, stream_id, with_for_update=lock, populate_existing=lock)

    async def exists(self, stream_id: str) -> bool:
        return await self.session.scalar(select(StreamRow.id).where(StreamRow.id == stream_id)) is not None

    async def ids(self) -> list[str]:
        """Every stream, oldest first."""
        return list(await self.session.scalars(select(StreamRow.id).order_by(StreamRow.created_ms)))

    async def ids_not_ended(self, ended_since: int) -> list[str]:
        """Streams that are ready or live, or ended at `ended_since` (epoch ms) or later."""
        return list(await self.session.scalars(select(StreamRow.id).where(
            or_(StreamRow.status != "ended", StreamRow.ended_ms >= ended_since))))

    async def running_countdowns(self, stream_id: str, now: int) -> list[CountdownRow]:
        return list(await self.session.scalars(select(CountdownRow).where(
            CountdownRow.stream_id == stream_id, CountdownRow.cancelled.is_(False), CountdownRow.ends_ms > now,
        )))

    async def countdowns_ended_since(self, stream_id: str, since: int, now: int) -> list[str]:
        """Ids of the stream's countdowns that ended in (since, now]."""
        return list(await self.session.scalars(select(CountdownRow.id).where(
            CountdownRow.stream_id == stream_id, CountdownRow.ends_ms <= now, CountdownRow.ends_ms > since,
        )))

    def add_countdown(self, countdown: CountdownRow) -> None:
        self.session.add(countdown)

    async def cancel_countdown(self, stream_id: str, countdown_id: str) -> bool:
        """Mark the countdown cancelled; False if the stream has no such countdown."""
        result = await self.session.execute(
            update(CountdownRow)
            .where(CountdownRow.id == countdown_id, CountdownRow.stream_id == stream_id)
            .values(cancelled=True)
        )
        return bool(cast(CursorResult[Any], result).rowcount)

    def add_segment_event(self, stream_id: str, segment_id: str | None, now: int) -> None:
        """The `segment` event the operator's move puts in the event log (the report reads it)."""
        self.session.add(EventRow(
            stream_id=stream_id, event_id=None, type="segment", ts_ms=now, user_id=None,
            body={"type": "segment", "segment": segment_id, "ts": now}, received_ms=now,
        ))
