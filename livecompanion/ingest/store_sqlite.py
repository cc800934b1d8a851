"""Ingest's event store on SQLite: multi-row VALUES statements through SQLAlchemy's connection
(aiosqlite). SQLite has one writer at a time, so this is the single-process store. The interface
is store.py; the order step, store_base.py.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from livecompanion.ingest.orders import OrderState
from livecompanion.ingest.rows import EventRecord, StreamCommit
from livecompanion.ingest.store import PYTHON_DATA_ERRORS
from livecompanion.ingest.store_base import OrderKey, OrderUpserts, commits_of, new_ones
from livecompanion.storage.db import Database

SQLITE_MAX_VARIABLES = 32766  # SQLite >= 3.32
SQLITE_EVENTS_HEAD = (
    "INSERT INTO events (stream_id, event_id, type, ts_ms, user_id, body, received_ms) VALUES "
)
SQLITE_EVENTS_TAIL = " ON CONFLICT (stream_id, event_id) DO NOTHING RETURNING stream_id, event_id"
ORDER_COLUMNS = "order_id, user_id, sku, qty, amount, status, status_ts_ms, paid_ts_ms"


def _sqlite_amount(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _order_values(s: OrderState) -> tuple[Any, ...]:
    """An order's values after its id, in the order of ORDER_COLUMNS (the amount as text: exact)."""
    return (s.user_id, s.sku, s.qty, str(s.amount), s.status, s.status_ts_ms, s.paid_ts_ms)


class SqliteStore(OrderUpserts):
    """SQLite: one writer at a time (the database's own lock), so this is the single-process store."""

    concurrent_writes = 1

    def __init__(self, db: Database) -> None:
        self.db = db

    async def write(self, records: list[EventRecord]) -> tuple[set[int], list[StreamCommit]]:
        async with self.db.engine.begin() as conn:
            new = await self._insert_events(conn, records)
            changes = await self.upsert_orders(conn, new_ones(records, new))
        return new, commits_of(records, new, changes)

    async def _insert_events(self, conn: Any, records: list[EventRecord]) -> set[int]:
        chunk = SQLITE_MAX_VARIABLES // 7
        new: set[int] = set()
        position = {r.key: i for i, r in enumerate(records) if r.event_id is not None}
        for start in range(0, len(records), chunk):
            rows = records[start : start + chunk]
            sql = SQLITE_EVENTS_HEAD + ",".join(["(?,?,?,?,?,?,?)"] * len(rows)) + SQLITE_EVENTS_TAIL
            params: list[Any] = []
            for r in rows:
                params += r.row
            result = await conn.exec_driver_sql(sql, tuple(params))
            for stream_id, event_id in result.fetchall():
                if event_id is not None:
                    new.add(position[(stream_id, event_id)])
            new.update(start + j for j, r in enumerate(rows) if r.event_id is None)
        return new

    async def _lock_orders(self, conn: Any, keys: list[OrderKey]) -> dict[OrderKey, OrderState]:
        # No row locks here: an instance on SQLite writes one flush at a time (concurrent_writes 1).
        by_stream: dict[str, list[str]] = {}
        for stream_id, order_id in keys:
            by_stream.setdefault(stream_id, []).append(order_id)
        found: dict[OrderKey, OrderState] = {}
        for stream_id, order_ids in by_stream.items():
            for start in range(0, len(order_ids), 900):
                ids = order_ids[start : start + 900]
                marks = ",".join("?" * len(ids))
                result = await conn.exec_driver_sql(
                    f"SELECT {ORDER_COLUMNS} FROM orders WHERE stream_id = ? AND order_id IN ({marks})",
                    (stream_id, *ids),
                )
                for row in result.fetchall():
                    found[(stream_id, row[0])] = OrderState(row[1], row[2], row[3], _sqlite_amount(row[4]), *row[5:])
        return found

    async def _insert_orders(self, conn: Any, states: dict[OrderKey, OrderState]) -> set[OrderKey]:
        inserted: set[OrderKey] = set()
        for (stream_id, oid), s in states.items():
            result = await conn.exec_driver_sql(
                f"INSERT INTO orders (stream_id, {ORDER_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (stream_id, order_id) DO NOTHING RETURNING order_id",
                (stream_id, oid, *_order_values(s)),
            )
            inserted.update((stream_id, row[0]) for row in result.fetchall())
        return inserted

    async def _update_orders(self, conn: Any, states: dict[OrderKey, OrderState]) -> None:
        await conn.exec_driver_sql(
            "UPDATE orders SET user_id = ?, sku = ?, qty = ?, amount = ?, status = ?, status_ts_ms = ?, "
            "paid_ts_ms = ? WHERE stream_id = ? AND order_id = ?",
            [(*_order_values(s), stream_id, oid) for (stream_id, oid), s in states.items()],
        )

    def is_retryable(self, exc: BaseException) -> bool:
        return "database is locked" in str(exc)

    def refuses_data(self, exc: BaseException) -> bool:
        import sqlite3

        from sqlalchemy.exc import DataError, IntegrityError, StatementError

        # A NOT NULL, CHECK or trigger (RAISE(ABORT)) refusal, or a value sqlite3 cannot bind (an
        # int over 64 bits: OverflowError, wrapped by SQLAlchemy); never "locked", "disk full", I/O.
        if isinstance(exc, (IntegrityError, DataError, sqlite3.IntegrityError, sqlite3.DataError)):
            return True
        if isinstance(exc, StatementError):
            exc = exc.orig if exc.orig is not None else exc
            if isinstance(exc, (sqlite3.IntegrityError, sqlite3.DataError)):
                return True
        return isinstance(exc, PYTHON_DATA_ERRORS)

    async def open(self) -> None:
        pass  # it writes through the application's engine

    async def close(self) -> None:
        pass
