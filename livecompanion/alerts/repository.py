"""Alerts in the record: `alert` events in the stream's event log (livecompanion/events `Alert`).

An alert is one row of `events` with `event_id` `alert:<key>` (its acknowledgement `alert:<key>/ack`),
so the unique (stream, event_id) of the log is what makes an alert raised once across instances,
on SQLite and PostgreSQL alike, and the export and the report see alerts where they happened.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from livecompanion.storage.db import Database
from livecompanion.storage.tables import EventRow


def event_id(key: str, acked: bool = False) -> str:
    return f"alert:{key}/ack" if acked else f"alert:{key}"


async def record_alert(db: Database, stream_id: str, body: dict[str, Any], now: int) -> bool:
    """Write one `alert` event; False if that event (raised or acked) is in the log already."""
    async with db.session() as session:
        session.add(EventRow(
            stream_id=stream_id, event_id=event_id(body["key"], body.get("acked", False)), type="alert",
            ts_ms=body["ts"], user_id=None, body=body, received_ms=now,
        ))
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            return False
    return True


async def alert_events(db: Database, stream_id: str) -> list[dict[str, Any]]:
    """The stream's alert events (raised and acked), in ts order."""
    async with db.session() as session:
        rows: Any = await session.scalars(
            select(EventRow.body).where(EventRow.stream_id == stream_id, EventRow.type == "alert")
            .order_by(EventRow.ts_ms, EventRow.received_ms)
        )
        return [dict(body) for body in rows]
