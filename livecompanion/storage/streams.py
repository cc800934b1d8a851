"""Streams in the record: create from a validated script, list, fetch."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from livecompanion.clock import now_ms
from livecompanion.errors import NotFound
from livecompanion.scripts.models import Script
from livecompanion.storage.db import Database
from livecompanion.storage.tables import StreamRow


@dataclass(frozen=True, slots=True)
class StreamSummary:
    id: str
    title: str
    host: str | None
    status: str
    created_ms: int
    started_ms: int | None
    ended_ms: int | None
    archived_ms: int | None = None


def _summary(row: StreamRow) -> StreamSummary:
    return StreamSummary(row.id, row.title, row.host, row.status, row.created_ms, row.started_ms, row.ended_ms,
                         row.archived_ms)


async def create_stream(db: Database, script: Script, source: str) -> str:
    stream_id = secrets.token_hex(6)
    async with db.session() as session:
        session.add(StreamRow(
            id=stream_id,
            title=script.title,
            host=script.host,
            script_source=source,
            script=script.model_dump(mode="json"),
            created_ms=now_ms(),
            status="ready",
            fired_cues={},
        ))
        await session.commit()
    return stream_id


async def find_reusable(db: Database, source: str) -> str | None:
    """A stream made from exactly this script that has not ended (so `serve --script` restarts resume it)."""
    async with db.session() as session:
        row = await session.scalar(
            select(StreamRow.id)
            .where(StreamRow.script_source == source, StreamRow.status != "ended")
            .order_by(StreamRow.created_ms.desc())
            .limit(1)
        )
    return row


async def list_streams(db: Database, archived: bool = False, status: str | None = None) -> list[StreamSummary]:
    """Newest first; archived streams (rehearsals, tests) only when asked for; `status` (ready, live,
    ended) only the streams in that state."""
    query = select(StreamRow).order_by(StreamRow.created_ms.desc())
    if not archived:
        query = query.where(StreamRow.archived_ms.is_(None))
    if status is not None:
        query = query.where(StreamRow.status == status)
    async with db.session() as session:
        rows = await session.scalars(query)
        return [_summary(row) for row in rows]


async def set_archived(db: Database, stream_id: str, archived: bool) -> StreamSummary:
    """Hide a stream from the lists and the cross-stream comparison (or show it again). Nothing is
    deleted: its pages, report and dashboard stay where they were."""
    async with db.session() as session:
        row = await session.get(StreamRow, stream_id)
        if row is None:
            raise NotFound(f"no stream '{stream_id}'")
        if archived and row.status == "live":
            from livecompanion.errors import Conflict

            raise Conflict("live", "直播中的場次不能封存，請先結束 / a live stream cannot be archived: end it first")
        row.archived_ms = (row.archived_ms or now_ms()) if archived else None
        await session.commit()
        return _summary(row)


async def get_stream(db: Database, stream_id: str) -> StreamRow:
    async with db.session() as session:
        row = await session.get(StreamRow, stream_id)
    if row is None:
        raise NotFound(f"no stream '{stream_id}'")
    return row


async def get_script(db: Database, stream_id: str) -> Script:
    row = await get_stream(db, stream_id)
    return Script.model_validate(row.script)


async def live_stream_ids(db: Database, limit: int) -> list[str]:
    """The live streams, the most recently started first (what an instance gets ready for at start)."""
    async with db.session() as session:
        rows = await session.scalars(select(StreamRow.id).where(StreamRow.status == "live")
                                     .order_by(StreamRow.started_ms.desc()).limit(limit))
        return list(rows)


async def stream_not_ended(db: Database, stream_id: str) -> bool:
    """Whether the stream is ready or live (NotFound when there is no such stream)."""
    return (await get_stream(db, stream_id)).status != "ended"
