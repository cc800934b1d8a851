"""Ingest's event store on PostgreSQL: asyncpg directly, on connections of the store's own.

It first tries the cheap way: the batch is COPYed (binary) straight into `events`. Nearly always
none of its ids is stored yet and that is all; if one is, the unique index refuses the COPY, the
transaction is rolled back, and the batch is written again the checked way: COPY into a temporary
table, then one INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING. The checked way costs
PostgreSQL about twice as much a row (8.4 against 3.9 us, measured), so it is only taken when
needed, and for a while after a stream had a duplicate (senders that re-send tend to go on
re-sending). The interface is store.py; the order step, store_base.py.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

from livecompanion.ingest.orders import OrderState
from livecompanion.ingest.rows import EVENT_COLUMNS, EventRecord, StreamCommit
from livecompanion.ingest.store import PYTHON_DATA_ERRORS
from livecompanion.ingest.store_base import OrderKey, OrderUpserts, commits_of, new_ones
from livecompanion.storage.db import Database
from livecompanion.storage.pgconn import OwnConnections

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
# Every stream of a flush at once; rows locked in (stream_id, order_id) order, as every writer does.
PG_LOCK_ORDERS = """
SELECT o.stream_id, o.order_id, o.user_id, o.sku, o.qty, o.amount, o.status, o.status_ts_ms, o.paid_ts_ms
FROM orders AS o JOIN unnest($1::varchar[], $2::varchar[]) AS k(stream_id, order_id)
    ON o.stream_id = k.stream_id AND o.order_id = k.order_id
ORDER BY o.stream_id, o.order_id FOR UPDATE OF o
"""
_ORDER_ARRAYS = """unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::integer[],
    $6::numeric[], $7::varchar[], $8::bigint[], $9::bigint[])
    AS u(stream_id, order_id, user_id, sku, qty, amount, status, status_ts_ms, paid_ts_ms)"""
PG_INSERT_ORDERS = f"""
INSERT INTO orders (stream_id, order_id, user_id, sku, qty, amount, status, status_ts_ms, paid_ts_ms)
SELECT u.* FROM {_ORDER_ARRAYS}
ON CONFLICT (stream_id, order_id) DO NOTHING RETURNING stream_id, order_id
"""
PG_UPDATE_ORDERS = f"""
UPDATE orders AS o SET user_id = u.user_id, sku = u.sku, qty = u.qty, amount = u.amount, status = u.status,
    status_ts_ms = u.status_ts_ms, paid_ts_ms = u.paid_ts_ms
FROM {_ORDER_ARRAYS}
WHERE o.stream_id = u.stream_id AND o.order_id = u.order_id
"""


def _order_columns(states: dict[OrderKey, OrderState]) -> list[list[Any]]:
    keys = list(states)
    rows = [states[k] for k in keys]
    return [
        [k[0] for k in keys],
        [k[1] for k in keys],
        [s.user_id for s in rows],
        [s.sku for s in rows],
        [s.qty for s in rows],
        [s.amount for s in rows],
        [s.status for s in rows],
        [s.status_ts_ms for s in rows],
        [s.paid_ts_ms for s in rows],
    ]


class PostgresStore(OrderUpserts):
    """PostgreSQL on connections of the store's own (`concurrent_writes` flushes at once)."""

    concurrent_writes = 2

    def __init__(self, db: Database) -> None:
        self._connections = OwnConnections(db.url, size=self.concurrent_writes)
        self._staged: weakref.WeakSet[Any] = weakref.WeakSet()  # connections that have ingest_stage
        self._duplicate_seen: dict[str, float] = {}  # stream -> when a COPY last met a stored id
        self.copies_refused = 0  # COPYs that met a stored id, rolled back and redone the checked way

    async def close(self) -> None:
        await self._connections.close()

    async def open(self) -> None:
        await self._connections.open(self._ready)

    async def _ready(self, conn: Any) -> None:
        """A write of nothing: the COPY's columns and the order statements' array types looked up."""
        async with conn.transaction():
            await conn.copy_records_to_table("events", columns=EVENT_COLUMNS, records=[])
            await self._lock_orders(conn, [])
            await self._insert_orders(conn, {})
            await self._update_orders(conn, {})

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
                    return every, commits_of(records, every, changes)
                except asyncpg.UniqueViolationError:
                    self.copies_refused += 1
                    now = time.monotonic()
                    for stream_id in {r.stream_id for r in records}:
                        self._duplicate_seen[stream_id] = now
            async with conn.transaction():
                new = await self._insert_checked(conn, records)
                changes = await self.upsert_orders(conn, new_ones(records, new))
            self._staged.add(conn)  # committed: its temporary table lives as long as the session
        return new, commits_of(records, new, changes)

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

    async def _lock_orders(self, conn: Any, keys: list[OrderKey]) -> dict[OrderKey, OrderState]:
        rows = await conn.fetch(PG_LOCK_ORDERS, [k[0] for k in keys], [k[1] for k in keys])
        return {(row[0], row[1]): OrderState(*row[2:]) for row in rows}

    async def _insert_orders(self, conn: Any, states: dict[OrderKey, OrderState]) -> set[OrderKey]:
        rows = await conn.fetch(PG_INSERT_ORDERS, *_order_columns(states))
        return {(row[0], row[1]) for row in rows}

    async def _update_orders(self, conn: Any, states: dict[OrderKey, OrderState]) -> None:
        await conn.execute(PG_UPDATE_ORDERS, *_order_columns(states))

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
