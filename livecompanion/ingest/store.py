"""Writing batches of events, and the orders they move, in ONE transaction: PostgreSQL and SQLite.

`store.write(records)` inserts the events with `ON CONFLICT (stream_id, event_id) DO NOTHING`
and learns from `RETURNING` which ones were really new, so duplicates are counted by the database
itself (two instances racing on the same id cannot both win). The new `order` events are folded
per order and applied to `orders` (see `orders.py` for the rules): the rows are locked first
(`SELECT ... FOR UPDATE`, in order_id order so two writers cannot deadlock on them), new orders are
inserted with `ON CONFLICT DO NOTHING` (one that another writer inserted meanwhile is then locked
and merged), and only rows that changed are updated.

PostgreSQL goes through asyncpg directly, on connections of the store's own, and first tries the
cheap way: the batch is COPYed (binary) straight into `events`. Nearly always none of its ids is
stored yet and that is all; if one is, the unique index refuses the COPY, the transaction is
rolled back, and the batch is written again the checked way: COPY into a temporary table, then
one INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING. The checked way costs PostgreSQL
about twice as much a row (8.4 against 3.9 us, measured), so it is only taken when needed, and for
a while after a stream had a duplicate (senders that re-send tend to go on re-sending). SQLite
gets multi-row VALUES statements through SQLAlchemy's connection (aiosqlite); SQLite has one writer
at a time, so it is the single-process store.
"""

from __future__ import annotations

import time
import weakref
from abc import ABC, abstractmethod
from collections import defaultdict
from decimal import Decimal
from typing import Any, Protocol

from livecompanion.ingest.orders import FoldedOrder, OrderChange, OrderState, fold, merge
from livecompanion.ingest.rows import EVENT_COLUMNS, EventRecord, StreamCommit
from livecompanion.storage.db import Database
from livecompanion.storage.pgconn import OwnConnections


class EventStore(Protocol):
    async def write(self, records: list[EventRecord]) -> tuple[set[int], list[StreamCommit]]:
        """Insert `records` (no two with the same key) in one transaction.

        Returns the positions (in `records`) of the events that were new, and per stream what the
        write changed. Raises on failure, having changed nothing.
        """
        ...

    def is_retryable(self, exc: BaseException) -> bool: ...

    def refuses_data(self, exc: BaseException) -> bool:
        """Whether `exc` is about the records written (a value or constraint the database refuses),
        not about the database (gone, busy, full): then a part of them may still be stored."""
        ...

    async def close(self) -> None:
        """Let go of what the store holds (its own connections)."""
        ...


# Raised by our own code for a value it cannot handle (an order step meeting an odd record): about
# the data too. OSError (lost connections, timeouts) is not among them.
PYTHON_DATA_ERRORS = (ValueError, TypeError, ArithmeticError, LookupError)


class _OrderUpserts(ABC):
    """The order step, shared by both stores; the primitives are backend-specific."""

    @abstractmethod
    async def _lock_orders(self, conn: Any, stream_id: str, order_ids: list[str]) -> dict[str, OrderState]:
        """The stored state of those of `order_ids` that exist, their rows locked to the transaction."""

    @abstractmethod
    async def _insert_orders(self, conn: Any, stream_id: str, states: dict[str, OrderState]) -> set[str]:
        """Insert new orders unless they exist (DO NOTHING); the ids really inserted."""

    @abstractmethod
    async def _update_orders(self, conn: Any, stream_id: str, states: dict[str, OrderState]) -> None:
        """Write the merged state of existing (locked) orders."""

    async def upsert_orders(self, conn: Any, new_records: list[EventRecord]) -> dict[str, list[OrderChange]]:
        pairs = [(r.stream_id, r.event) for r in new_records if r.type == "order"]
        if not pairs:
            return {}
        by_stream: dict[str, dict[str, FoldedOrder]] = defaultdict(dict)
        for (stream_id, order_id), folded in fold(pairs).items():  # type: ignore[arg-type]
            by_stream[stream_id][order_id] = folded
        changes: dict[str, list[OrderChange]] = {}
        for stream_id in sorted(by_stream):
            group = by_stream[stream_id]
            ids = sorted(group)
            existing = await self._lock_orders(conn, stream_id, ids)
            missing = {oid: group[oid].state for oid in ids if oid not in existing}
            inserted: set[str] = set()
            if missing:
                inserted = await self._insert_orders(conn, stream_id, missing)
                raced = sorted(set(missing) - inserted)  # another writer inserted these meanwhile
                if raced:
                    existing.update(await self._lock_orders(conn, stream_id, raced))
            updates: dict[str, OrderState] = {}
            stream_changes = []
            for oid in ids:
                folded = group[oid]
                if oid in inserted:
                    stream_changes.append(OrderChange(oid, None, folded.state, folded.nickname))
                    continue
                before = existing[oid]
                after = merge(before, folded.state)
                if after != before:
                    updates[oid] = after
                stream_changes.append(OrderChange(oid, before, after, folded.nickname))
            if updates:
                await self._update_orders(conn, stream_id, updates)
            changes[stream_id] = stream_changes
        return changes


def _new_ones(records: list[EventRecord], new: set[int]) -> list[EventRecord]:
    return records if len(new) == len(records) else [records[i] for i in sorted(new)]


def _commits(
    records: list[EventRecord], new: set[int], order_changes: dict[str, list[OrderChange]]
) -> list[StreamCommit]:
    commits: dict[str, StreamCommit] = {}
    streams = {r.stream_id for r in records}
    if len(new) == len(records) and len(streams) == 1:  # the usual case: all new, one stream
        commits[records[0].stream_id] = StreamCommit(records[0].stream_id, list(records))
    else:
        for i in sorted(new):
            record = records[i]
            commit = commits.get(record.stream_id)
            if commit is None:
                commit = commits[record.stream_id] = StreamCommit(record.stream_id)
            commit.events.append(record)
    for stream_id, changes in order_changes.items():
        commits[stream_id].order_changes = changes
    return list(commits.values())


# --- PostgreSQL ---------------------------------------------------------------------------------

# The checked way: the batch is COPYed into a per-connection temporary table, then moved into
# `events` by one INSERT ... SELECT that skips ids already stored. (COPY costs the client far less
# than array parameters: 0.9 vs 2.9 us of CPU per row.)
PG_STAGE_COLUMNS = ("ord", *EVENT_COLUMNS)
PG_CREATE_STAGE = """
CREATE TEMPORARY TABLE IF NOT EXISTS ingest_stage (ord integer, stream_id varchar(32), event_id varchar(200),
    type varchar(32), ts_ms bigint, user_id varchar(200), body text, received_ms bigint) ON COMMIT DELETE ROWS
"""
# ORDER BY ord: `seq` keeps the arrival order (the report breaks ts ties by input order).
PG_MOVE_STAGE = """
INSERT INTO events (stream_id, event_id, type, ts_ms, user_id, body, received_ms)
SELECT stream_id, event_id, type, ts_ms, user_id, body::json, received_ms FROM ingest_stage ORDER BY ord
ON CONFLICT (stream_id, event_id) DO NOTHING RETURNING stream_id, event_id
"""
CHECKED_AFTER_DUPLICATE_S = 30.0  # a stream that just had a duplicate goes the checked way this long
PG_LOCK_ORDERS = """
SELECT order_id, user_id, sku, qty, amount, status, status_ts_ms, paid_ts_ms FROM orders
WHERE stream_id = $1 AND order_id = ANY($2::varchar[]) ORDER BY order_id FOR UPDATE
"""
_ORDER_ARRAYS = """unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::integer[], $5::numeric[],
    $6::varchar[], $7::bigint[], $8::bigint[])
    AS u(order_id, user_id, sku, qty, amount, status, status_ts_ms, paid_ts_ms)"""
PG_INSERT_ORDERS = f"""
INSERT INTO orders (stream_id, order_id, user_id, sku, qty, amount, status, status_ts_ms, paid_ts_ms)
SELECT $9, u.* FROM {_ORDER_ARRAYS}
ON CONFLICT (stream_id, order_id) DO NOTHING RETURNING order_id
"""
PG_UPDATE_ORDERS = f"""
UPDATE orders AS o SET user_id = u.user_id, sku = u.sku, qty = u.qty, amount = u.amount, status = u.status,
    status_ts_ms = u.status_ts_ms, paid_ts_ms = u.paid_ts_ms
FROM {_ORDER_ARRAYS}
WHERE o.stream_id = $9 AND o.order_id = u.order_id
"""


def _order_columns(states: dict[str, OrderState]) -> list[list[Any]]:
    ids = list(states)
    rows = [states[i] for i in ids]
    return [
        ids,
        [s.user_id for s in rows],
        [s.sku for s in rows],
        [s.qty for s in rows],
        [s.amount for s in rows],
        [s.status for s in rows],
        [s.status_ts_ms for s in rows],
        [s.paid_ts_ms for s in rows],
    ]


class PostgresStore(_OrderUpserts):
    """PostgreSQL on connections of the store's own (`concurrent_writes` flushes at once)."""

    concurrent_writes = 2

    def __init__(self, db: Database) -> None:
        self._connections = OwnConnections(db.url, size=self.concurrent_writes)
        self._staged: weakref.WeakSet[Any] = weakref.WeakSet()  # connections that have ingest_stage
        self._duplicate_seen: dict[str, float] = {}  # stream -> when a COPY last met a stored id
        self.copies_refused = 0  # COPYs that met a stored id, rolled back and redone the checked way

    async def close(self) -> None:
        await self._connections.close()

    async def write(self, records: list[EventRecord]) -> tuple[set[int], list[StreamCommit]]:
        import asyncpg

        async with self._connections.acquire() as conn:
            if self._copy_first(records):
                try:
                    async with conn.transaction():
                        await conn.copy_records_to_table(
                            "events", columns=EVENT_COLUMNS, records=[r.row for r in records]
                        )
                        changes = await self.upsert_orders(conn, records)
                    every = set(range(len(records)))
                    return every, _commits(records, every, changes)
                except asyncpg.UniqueViolationError:
                    self.copies_refused += 1
                    now = time.monotonic()
                    for stream_id in {r.stream_id for r in records}:
                        self._duplicate_seen[stream_id] = now
            async with conn.transaction():
                new = await self._insert_checked(conn, records)
                changes = await self.upsert_orders(conn, _new_ones(records, new))
            self._staged.add(conn)  # committed: its temporary table lives as long as the session
        return new, _commits(records, new, changes)

    def _copy_first(self, records: list[EventRecord]) -> bool:
        """Whether no stream of `records` had a duplicate lately (then COPY is worth trying)."""
        if not self._duplicate_seen:
            return True
        now = time.monotonic()
        seen = self._duplicate_seen
        streams = {r.stream_id for r in records}
        return not any(now - seen.get(s, -1e9) < CHECKED_AFTER_DUPLICATE_S for s in streams)

    async def _insert_checked(self, conn: Any, records: list[EventRecord]) -> set[int]:
        if conn not in self._staged:
            await conn.execute(PG_CREATE_STAGE)  # once per connection (temporary tables are per session)
        await conn.copy_records_to_table(
            "ingest_stage",
            columns=PG_STAGE_COLUMNS,
            records=[(i, *r.row) for i, r in enumerate(records)],
        )
        rows = await conn.fetch(PG_MOVE_STAGE)
        if len(rows) == len(records):  # no duplicates after all
            return set(range(len(records)))
        # Rows without an id come back with a NULL id: they are always new.
        new = {i for i, r in enumerate(records) if r.event_id is None}
        if len(rows) > len(new):
            position = {r.key: i for i, r in enumerate(records) if r.event_id is not None}
            new.update(position[(row[0], row[1])] for row in rows if row[1] is not None)
        return new

    async def _lock_orders(self, conn: Any, stream_id: str, order_ids: list[str]) -> dict[str, OrderState]:
        rows = await conn.fetch(PG_LOCK_ORDERS, stream_id, order_ids)
        return {row[0]: OrderState(*row[1:]) for row in rows}

    async def _insert_orders(self, conn: Any, stream_id: str, states: dict[str, OrderState]) -> set[str]:
        rows = await conn.fetch(PG_INSERT_ORDERS, *_order_columns(states), stream_id)
        return {row[0] for row in rows}

    async def _update_orders(self, conn: Any, stream_id: str, states: dict[str, OrderState]) -> None:
        await conn.execute(PG_UPDATE_ORDERS, *_order_columns(states), stream_id)

    def refuses_data(self, exc: BaseException) -> bool:
        import asyncpg
        from asyncpg.exceptions import _base

        # Class 22 (data exception: a value too long, out of range, not valid for its type) and
        # class 23 (integrity: a NOT NULL or CHECK) from the server; a value the client-side codec
        # cannot encode (asyncpg's own DataError).
        data = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError, _base.DataError)
        if isinstance(exc, data):
            return True
        return isinstance(exc, PYTHON_DATA_ERRORS) and not isinstance(exc, _base.InterfaceError)

    def is_retryable(self, exc: BaseException) -> bool:
        import asyncpg
        from asyncpg.exceptions import InternalClientError

        # Deadlocks and lost connections (the server restarted, or ended this backend: asyncpg
        # words that several ways). The retry opens a new connection (`OwnConnections`).
        return isinstance(
            exc,
            (
                asyncpg.DeadlockDetectedError,
                asyncpg.SerializationError,
                asyncpg.PostgresConnectionError,
                asyncpg.AdminShutdownError,
                asyncpg.InterfaceError,
                InternalClientError,
                OSError,
            ),
        )


# --- SQLite -------------------------------------------------------------------------------------

SQLITE_MAX_VARIABLES = 32766  # SQLite >= 3.32
SQLITE_EVENTS_HEAD = (
    "INSERT INTO events (stream_id, event_id, type, ts_ms, user_id, body, received_ms) VALUES "
)
SQLITE_EVENTS_TAIL = " ON CONFLICT (stream_id, event_id) DO NOTHING RETURNING stream_id, event_id"
ORDER_COLUMNS = "order_id, user_id, sku, qty, amount, status, status_ts_ms, paid_ts_ms"


def _sqlite_amount(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


class SqliteStore(_OrderUpserts):
    """SQLite: one writer at a time (the database's own lock), so this is the single-process store."""

    concurrent_writes = 1

    def __init__(self, db: Database) -> None:
        self.db = db

    async def write(self, records: list[EventRecord]) -> tuple[set[int], list[StreamCommit]]:
        async with self.db.engine.begin() as conn:
            new = await self._insert_events(conn, records)
            changes = await self.upsert_orders(conn, _new_ones(records, new))
        return new, _commits(records, new, changes)

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

    async def _lock_orders(self, conn: Any, stream_id: str, order_ids: list[str]) -> dict[str, OrderState]:
        found: dict[str, OrderState] = {}
        for start in range(0, len(order_ids), 900):
            ids = order_ids[start : start + 900]
            marks = ",".join("?" * len(ids))
            result = await conn.exec_driver_sql(
                f"SELECT {ORDER_COLUMNS} FROM orders WHERE stream_id = ? AND order_id IN ({marks})",
                (stream_id, *ids),
            )
            for row in result.fetchall():
                found[row[0]] = OrderState(row[1], row[2], row[3], _sqlite_amount(row[4]), *row[5:])
        return found

    async def _insert_orders(self, conn: Any, stream_id: str, states: dict[str, OrderState]) -> set[str]:
        inserted: set[str] = set()
        for oid, s in states.items():
            result = await conn.exec_driver_sql(
                f"INSERT INTO orders (stream_id, {ORDER_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (stream_id, order_id) DO NOTHING RETURNING order_id",
                (
                    stream_id,
                    oid,
                    s.user_id,
                    s.sku,
                    s.qty,
                    str(s.amount),
                    s.status,
                    s.status_ts_ms,
                    s.paid_ts_ms,
                ),
            )
            inserted.update(row[0] for row in result.fetchall())
        return inserted

    async def _update_orders(self, conn: Any, stream_id: str, states: dict[str, OrderState]) -> None:
        await conn.exec_driver_sql(
            "UPDATE orders SET user_id = ?, sku = ?, qty = ?, amount = ?, status = ?, status_ts_ms = ?, "
            "paid_ts_ms = ? WHERE stream_id = ? AND order_id = ?",
            [
                (
                    s.user_id,
                    s.sku,
                    s.qty,
                    str(s.amount),
                    s.status,
                    s.status_ts_ms,
                    s.paid_ts_ms,
                    stream_id,
                    oid,
                )
                for oid, s in states.items()
            ],
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

    async def close(self) -> None:
        pass  # it writes through the application's engine


def make_store(db: Database) -> EventStore:
    if db.dialect_name == "postgresql":
        return PostgresStore(db)
    if db.dialect_name == "sqlite":
        return SqliteStore(db)
    raise ValueError(f"ingest supports PostgreSQL and SQLite, not {db.dialect_name}")
