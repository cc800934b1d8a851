"""The async engine and sessions, for SQLite (aiosqlite) and PostgreSQL (asyncpg) alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from livecompanion.storage.pgconn import OwnConnections


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # WAL lets the dashboard read while ingest writes; foreign keys are off by default in SQLite;
    # busy_timeout makes concurrent writers wait instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str, **kwargs: object) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


class Database:
    def __init__(self, url: str, **engine_kwargs: object) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._own: dict[str, OwnConnections] = {}

    @property
    def dialect_name(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session

    def own_connections(self, name: str, size: int) -> OwnConnections | None:
        """`name`'s own asyncpg connections beside the pool (PostgreSQL; None on SQLite), made on
        first use and closed with the engine: for a path that pays for the pool's checkout, pre-ping
        (three round trips on asyncpg) and the ORM on every use (the show's pin, `stream/row_write.py`)."""
        if self.dialect_name != "postgresql":
            return None
        own = self._own.get(name)
        if own is None:
            own = self._own[name] = OwnConnections(self.url, size=size)
        return own

    async def open_connections(self, count: int) -> None:
        """Open `count` of the pool's connections side by side and keep them in the pool, so the
        first requests after a start do not each wait for a connection to be made (PostgreSQL; on
        SQLite there is nothing to open ahead)."""
        if self.dialect_name != "postgresql":
            return
        count = min(count, self.engine.pool.size())  # type: ignore[attr-defined]
        connections = await asyncio.gather(*(self.engine.connect() for _ in range(count)))
        for connection in connections:
            await connection.close()  # back to the pool, open

    async def dispose(self) -> None:
        own, self._own = list(self._own.values()), {}
        for connections in own:
            await connections.close()
        await self.engine.dispose()
