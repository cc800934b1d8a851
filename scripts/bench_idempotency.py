"""What the Idempotency-Key rule costs (BENCHMARKS.md, "idempotency").

    .venv/bin/python scripts/bench_idempotency.py [--database-url URL]

1. The middleware on the hottest path, a flash-sale claim (which has keys of its own and passes
   straight through): microseconds per request through `IdempotencyMiddleware` vs the same app
   called directly, in the same run (medians of 9 rounds of 100,000 calls).
2. A keyed operator action: `Idempotency.run` (claim the key, act, store the answer) vs the bare
   action, and a repeat (read the stored answer), on SQLite in a temporary file or on the URL given
   (medians of 9 rounds of 200 actions; on PostgreSQL in a scratch database the bench makes and
   drops). The machine is shared: compare the ratios, not the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from livecompanion.api.idempotency import IdempotencyMiddleware
from livecompanion.storage.db import Database
from livecompanion.storage.tables import Base
from livecompanion.stream.idempotency import Answer, Idempotency
from livecompanion.stream.idempotency_repository import IdempotencyRepository

CLAIM = {"type": "http", "method": "POST", "path": "/api/streams/abc/flash-sales/def/claims",
         "headers": [(b"host", b"x"), (b"authorization", b"Bearer t"), (b"content-type", b"application/json"),
                     (b"content-length", b"40"), (b"user-agent", b"bench"), (b"accept", b"*/*")]}


async def passthrough() -> dict[str, float]:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        return None

    wrapped = IdempotencyMiddleware(app)
    runs: dict[str, list[float]] = {"direct": [], "middleware": []}
    for _ in range(9):
        for name, target in (("direct", app), ("middleware", wrapped)):
            start = time.perf_counter()
            for _ in range(100_000):
                await target(CLAIM, None, None)
            runs[name].append((time.perf_counter() - start) / 100_000 * 1e6)
    return {name: statistics.median(values) for name, values in runs.items()}


async def scratch_database(url: str, make: bool) -> str:
    """On PostgreSQL the bench works in a database of its own, made here and dropped after."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    admin_url, _, _ = url.rpartition("/")
    name = "livecompanion_bench_idempotency"
    admin = create_async_engine(f"{admin_url}/postgres", isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        if make:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return f"{admin_url}/{name}"


async def keyed(url: str) -> dict[str, float]:
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    store = Idempotency(IdempotencyRepository(db))

    async def action() -> Answer:
        async with db.engine.connect() as conn:  # a stand-in action: one round trip to the record
            await conn.exec_driver_sql("SELECT 1")
        return Answer(201, "application/json", '{"id": "x"}')

    runs: dict[str, list[float]] = {"bare action": [], "first, keyed": [], "repeat": []}
    for r in range(9):
        start = time.perf_counter()
        for _ in range(200):
            await action()
        runs["bare action"].append((time.perf_counter() - start) / 200 * 1e3)
        start = time.perf_counter()
        for i in range(200):
            await store.run("bench", f"{r}-{i}", "POST", "/x", action)
        runs["first, keyed"].append((time.perf_counter() - start) / 200 * 1e3)
        start = time.perf_counter()
        for i in range(200):
            await store.run("bench", f"{r}-{i}", "POST", "/x", action)
        runs["repeat"].append((time.perf_counter() - start) / 200 * 1e3)
    await db.dispose()
    return {name: statistics.median(values) for name, values in runs.items()}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    hot = await passthrough()
    print(f"claim through the middleware: {hot['middleware']:.2f} µs vs {hot['direct']:.2f} µs direct "
          f"(+{hot['middleware'] - hot['direct']:.2f} µs per claim)")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        postgres = url.startswith("postgresql")
        if postgres:
            url = await scratch_database(url, make=True)
        try:
            cost = await keyed(url)
        finally:
            if postgres:
                await scratch_database(url, make=False)
    base = cost["bare action"]
    print(f"keyed operator action ({url.split(':')[0]}): bare {base:.2f} ms, first with a key "
          f"{cost['first, keyed']:.2f} ms ({cost['first, keyed'] / base:.1f}x), repeat {cost['repeat']:.2f} ms "
          f"({cost['repeat'] / base:.1f}x)")


if __name__ == "__main__":
    asyncio.run(main())
