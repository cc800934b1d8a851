"""A few asyncpg connections of a component's own, outside SQLAlchemy's pool.

    connections = OwnConnections(database_url, size=2)
    async with connections.acquire() as conn:   # an asyncpg Connection, opened on first use
        ...
    await connections.close()

For the hot write paths (ingest's group commit, the flash-sale drainer): no pool checkout, ping or
reset round trip per use, so a write costs only its own statements. A connection that broke (or
whose use was interrupted half-way) is dropped and a new one is opened on the next use.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.engine import make_url


def asyncpg_dsn(url: str) -> str:
    """`postgresql+asyncpg://...` (SQLAlchemy's form) as asyncpg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class OwnConnections:
    def __init__(self, url: str, size: int = 1, *, connect_timeout: float = 5.0) -> None:
        self.dsn = asyncpg_dsn(url)
        self.connect_timeout = connect_timeout
        self.size = size
        self._idle: list[Any] = []  # open connections not in use
        self._slots = asyncio.Semaphore(size)

    async def open(self, ready: Callable[[Any], Awaitable[object]] | None = None) -> None:
        """Open every connection now and run `ready(conn)` on each: the component's statements
        run once with nothing to do, so asyncpg has prepared them and looked their types up. A
        first use otherwise pays for it in the show's first second: the ingest store's order
        statements took 19 ms the first time on a connection, 0.9 ms after (types of the arrays
        looked up); a first flush 53-86 ms against 4-13 ms for later ones (ten rooms)."""
        async def one() -> None:
            async with self.acquire() as conn:
                if ready is not None:
                    await ready(conn)

        await asyncio.gather(*(one() for _ in range(self.size)))

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Any]:
        import asyncpg

        async with self._slots:
            conn = self._idle.pop() if self._idle else None
            if conn is None or conn.is_closed():
                conn = await asyncpg.connect(self.dsn, timeout=self.connect_timeout)
            healthy = False
            try:
                yield conn
                healthy = True
            except asyncpg.PostgresError:
                healthy = True  # the server refused a statement; the connection itself is fine
                raise
            finally:
                if healthy and not conn.is_closed() and not conn.is_in_transaction():
                    self._idle.append(conn)
                else:
                    conn.terminate()  # broken, or left half-way (cancelled): never reuse it

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            try:
                await conn.close(timeout=2)
            except Exception:  # noqa: BLE001 - going away anyway
                conn.terminate()
