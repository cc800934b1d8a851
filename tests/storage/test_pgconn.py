"""Connections of a component's own (ingest's writer, the flash-sale drainer): kept between uses,
kept after a statement the server refused, dropped when broken or left half-way."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import asyncpg
import pytest

from livecompanion.storage.pgconn import OwnConnections, asyncpg_dsn


async def test_a_connection_is_kept_between_uses_and_after_a_refused_statement(postgres_url: str) -> None:
    connections = OwnConnections(postgres_url, size=1)
    async with connections.acquire() as conn:
        first = await conn.fetchval("SELECT pg_backend_pid()")
    with pytest.raises(asyncpg.UndefinedTableError):
        async with connections.acquire() as conn:
            await conn.execute("SELECT * FROM no_such_table")
    async with connections.acquire() as conn:
        assert await conn.fetchval("SELECT pg_backend_pid()") == first
    await connections.close()


def terminate_while_this_loop_waits(dsn: str, pid: int) -> None:
    """End backend `pid` and wait until it has exited, from a thread of its own while this test's
    event loop is blocked: the idle connection cannot notice the close before its next use. (Awaited
    on this loop, the kill raced the loop reading the close: when the loop read it first, the pool
    replaced the connection unseen and the first use did not raise; seen on a loaded machine.)"""
    async def run() -> None:
        admin = await asyncpg.connect(dsn)
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1, 5000)", pid)  # waits for the exit
        finally:
            await admin.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


async def test_a_broken_or_interrupted_connection_is_replaced(postgres_url: str) -> None:
    connections = OwnConnections(postgres_url, size=1)
    admin = await asyncpg.connect(asyncpg_dsn(postgres_url))
    async with connections.acquire() as conn:
        first = await conn.fetchval("SELECT pg_backend_pid()")
    terminate_while_this_loop_waits(asyncpg_dsn(postgres_url), first)  # the server went away under it
    with pytest.raises(Exception):  # noqa: B017 - asyncpg words a dead connection several ways
        async with connections.acquire() as conn:
            await conn.fetchval("SELECT 1")
    async with connections.acquire() as conn:
        second = await conn.fetchval("SELECT pg_backend_pid()")
    assert second != first

    async def interrupted() -> None:
        async with connections.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_sleep(5)")

    task = asyncio.create_task(interrupted())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with connections.acquire() as conn:  # not the one left half-way
        assert await conn.fetchval("SELECT pg_backend_pid()") != second
        assert not conn.is_in_transaction()
    await connections.close()
    await admin.close()


async def test_at_most_size_connections_are_in_use_at_once(postgres_url: str) -> None:
    connections = OwnConnections(postgres_url, size=2)
    busy = peak = 0

    async def use() -> None:
        nonlocal busy, peak
        async with connections.acquire() as conn:
            busy += 1
            peak = max(peak, busy)
            await conn.execute("SELECT pg_sleep(0.05)")
            busy -= 1

    await asyncio.gather(*(use() for _ in range(6)))
    assert peak == 2
    await connections.close()
