"""Where ingest writes a batch of events, and the orders they move, in ONE transaction.

`store.write(records)` inserts the events with `ON CONFLICT (stream_id, event_id) DO NOTHING`
and learns from `RETURNING` which ones were really new, so duplicates are counted by the database
itself (two instances racing on the same id cannot both win). The new `order` events are folded
per order and applied to `orders` in the same transaction (store_base.py, rules in orders.py).

Two backends, chosen by the database of the deployment (`make_store`, called by wiring.py):
`store_pg.py` (asyncpg on connections of its own, COPY first) and `store_sqlite.py` (the
single-process store: SQLite has one writer at a time).
"""

from __future__ import annotations

from typing import Protocol

from livecompanion.ingest.rows import EventRecord, StreamCommit
from livecompanion.storage.db import Database


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

    async def open(self) -> None:
        """Open what the store writes through and get its statements ready, before the first write
        (a store that writes through the application's engine has nothing to do)."""
        ...

    async def close(self) -> None:
        """Let go of what the store holds (its own connections)."""
        ...


# Raised by our own code for a value it cannot handle (an order step meeting an odd record): about
# the data too. OSError (lost connections, timeouts) is not among them.
PYTHON_DATA_ERRORS = (ValueError, TypeError, ArithmeticError, LookupError)


def make_store(db: Database) -> EventStore:
    """The event store of `db`'s backend."""
    if db.dialect_name == "postgresql":
        from livecompanion.ingest.store_pg import PostgresStore

        return PostgresStore(db)
    if db.dialect_name == "sqlite":
        from livecompanion.ingest.store_sqlite import SqliteStore

        return SqliteStore(db)
    raise ValueError(f"ingest supports PostgreSQL and SQLite, not {db.dialect_name}")
