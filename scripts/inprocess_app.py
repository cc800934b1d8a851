"""The in-process benchmarks' app: the real service on a throwaway database and Redis prefix.

`bench_claim_http.py` and `bench_ingest_http.py` time one request at a time through the app's ASGI
stack (no socket, no uvicorn) against the service call behind it. Both need the same scaffolding: a
fresh PostgreSQL database migrated as `serve` does, a Redis key prefix of their own, the app's
lifespan entered, and everything removed afterwards; and a POST handed to the app as uvicorn would
hand it over. The importing script puts the tree to measure (its own or `--tree`) first on sys.path.
"""

from __future__ import annotations

import argparse
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import redis.asyncio as aioredis

TOKENS = {"operator_token": "op-token", "ingest_token": "ingest-token", "viewer_token": "viewer-token"}


@asynccontextmanager
async def scratch_app(args: argparse.Namespace, label: str) -> AsyncIterator[Any]:
    """The app (`create_app`) with its services started, on database `lc_<label>_<hex>` and Redis
    prefix `lcbench:<label>:<hex>:`; both dropped on the way out. `args` has pg_host, pg_user, redis."""
    from livecompanion.api.app import create_app
    from livecompanion.config import Settings
    from livecompanion.storage.migrate import upgrade_async

    name = f"lc_{label}_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(host=args.pg_host, user=args.pg_user, database="postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    prefix = f"lcbench:{label}:{secrets.token_hex(3)}:"
    settings = Settings(database_url=f"postgresql+asyncpg://{args.pg_user}@{args.pg_host}:5432/{name}",
                        redis_url=args.redis, redis_prefix=prefix, **TOKENS)
    try:
        await upgrade_async(settings.database_url)  # (the `serve` command migrates; the app does not)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            yield app
    finally:
        client = aioredis.Redis.from_url(args.redis)
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def asgi_post(app: Any, path: str, token: str, body: bytes, root_path: str = "") -> int:
    """POST `body` (JSON) to `path` through the app's ASGI stack as uvicorn would; the answer's status."""
    headers = [(b"authorization", f"Bearer {token}".encode()), (b"content-type", b"application/json"),
               (b"host", b"bench"), (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": root_path, "headers": headers,
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000), "state": {}}
    status = 0

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, object]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])  # type: ignore[call-overload]

    await app(scope, receive, send)
    return status
