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
        """The stream's row; `lock`: FOR NO KEY UPDATE (PostgreSQL), and re-read even if the session has it.

        Not FOR UPDATE: that conflicts with the FOR KEY SHARE every order insert takes on the row for
        its foreign key, so an operator's action waited for the ingest of the room's orders (with ten
        rooms selling, 5-12 s; issue 20). The show never changes the row's key."""
        return await self.session.get(StreamRow, stream_id, populate_existing=lock,
                                      with_for_update={"key_share": True} if lock else None)

    async def exists(self, stream_id: str) -> bool:
        return await self.session.scalar(select(StreamRow.id).where(StreamRow.id == stream_id)) is not None

    async def ids(self, *, archived: bool = True) -> list[str]:
        """Every stream, oldest first (`archived=False`: without the archived ones)."""
        query = select(StreamRow.id).order_by(StreamRow.created_ms)
        if not archived:
            query = query.where(StreamRow.archived_ms.is_(None))
        return list(await self.session.scalars(query))

    async def lock_status(self, stream_id: str) -> str | None:
        """The stream's status, read by a write that locks its row until the transaction ends
        (PostgreSQL: the row lock; SQLite: the database's write lock), so that checks made after it
        (one running sale per sku) see every start committed before and none can slip in between.
        None: no such stream."""
        status = (await self.session.execute(
            update(StreamRow).where(StreamRow.id == stream_id).values(status=StreamRow.status)
            .returning(StreamRow.status)
        )).scalar()
        return None if status is None else str(status)

    async def cancel_running_countdowns(self, stream_id: str, now: int) -> list[str]:
        """Cancel the stream's countdowns still running (the show ended); their ids."""
        running = [c.id for c in await self.running_countdowns(stream_id, now)]
        if running:
            await self.session.execute(update(CountdownRow).where(CountdownRow.id.in_(running)).values(cancelled=True))
        return running

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

    def add_explain_event(self, stream_id: str, user_id: str, sku: str, action: str, now: int) -> None:
        """The `product_explain` event a 講解 click puts in the event log (the report reads it)."""
        body = {"type": "product_explain", "user_id": user_id, "sku": sku, "action": action, "ts": now}
        self.session.add(EventRow(stream_id=stream_id, event_id=None, type="product_explain", ts_ms=now,
                                  user_id=user_id, body=body, received_ms=now))

    def add_segment_event(self, stream_id: str, segment_id: str | None, now: int, ts: int | None = None,
                          event_id: str | None = None) -> None:
        """The `segment` event the operator's move puts in the event log (the report reads it), at
        `ts` (default now) with `event_id` (default none): a rehearsal logs the recorded ones."""
        ts = now if ts is None else ts
        body: dict[str, Any] = {"type": "segment", "segment": segment_id, "ts": ts}
        if event_id is not None:
            body["id"] = event_id
        self.session.add(EventRow(stream_id=stream_id, event_id=event_id, type="segment", ts_ms=ts, user_id=None,
                                  body=body, received_ms=now))

    async def has_event(self, stream_id: str, event_id: str) -> bool:
        return (await self.session.scalar(select(EventRow.seq).where(
            EventRow.stream_id == stream_id, EventRow.event_id == event_id).limit(1))) is not None

    async def comments(self, stream_id: str, *, after_seq: int, since_ms: int | None,
                       limit: int) -> list[tuple[int, int, str | None, dict[str, Any]]]:
        """(seq, ts_ms, user_id, body) of the stream's stored comments after `after_seq` (and sent at
        or after `since_ms`), newest first: the console's chat feed."""
        query = (select(EventRow.seq, EventRow.ts_ms, EventRow.user_id, EventRow.body)
                 .where(EventRow.stream_id == stream_id, EventRow.type == "comment", EventRow.seq > after_seq)
                 .order_by(EventRow.seq.desc()).limit(limit))
        if since_ms is not None:
            query = query.where(EventRow.ts_ms >= since_ms)
        rows = (await self.session.execute(query)).all()
        return [(row.seq, row.ts_ms, row.user_id, row.body) for row in rows]
