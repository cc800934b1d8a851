"""Helpers for the flash-sale tests: a stream in a fresh record, sales, the stores, the record's claims."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from livecompanion.sales.service import record_sale
from livecompanion.scripts.models import Script
from livecompanion.storage import streams
from livecompanion.storage.db import Database
from livecompanion.storage.tables import ClaimRow, FlashSaleRow
from tests.conftest import ServerProcess, free_port

SCRIPT = Script.model_validate(
    {
        "title": "秋冬補水專場",
        "host": "小林",
        "products": [
            {
                "sku": "MASK-01",
                "name": "玻尿酸補水面膜 10片",
                "list_price": 199,
                "live_price": 99,
                "benefits": ["買二送一"],
            }
        ],
        "segments": [{"kind": "closing", "target": "10m", "product": "MASK-01"}],
    }
)
SCRIPT_YAML = """title: 秋冬補水專場
host: 小林
products:
  - sku: MASK-01
    name: 玻尿酸補水面膜 10片
    list_price: 199
    live_price: 99
    benefits: [買二送一]
segments:
  - kind: closing
    target: 10m
    product: MASK-01
"""


async def new_stream(db: Database) -> str:
    return await streams.create_stream(db, SCRIPT, SCRIPT_YAML)


async def new_sale(
    db: Database,
    stream_id: str,
    *,
    stock: int,
    per_user_limit: int = 1,
    first_n: int | None = None,
    duration_seconds: int = 600,
) -> FlashSaleRow:
    return await record_sale(
        db,
        stream_id,
        sku="MASK-01",
        price=Decimal("79.00"),
        stock=stock,
        duration_seconds=duration_seconds,
        first_n=first_n,
        first_n_bonus="立減50元" if first_n else None,
        per_user_limit=per_user_limit,
    )


async def recorded_claims(db: Database, sale_id: str) -> list[tuple[Any, ...]]:
    """(rank, qty, bonus, user_id, order_id, status) of every claim in the record, by rank."""
    c = ClaimRow
    async with db.session() as session:
        rows = await session.execute(
            select(c.rank, c.qty, c.bonus, c.user_id, c.order_id, c.status)
            .where(c.sale_id == sale_id)
            .order_by(c.rank)
        )
        return [tuple(r) for r in rows]


async def recorded_sale(db: Database, sale_id: str) -> FlashSaleRow:
    async with db.session() as session:
        row = await session.get(FlashSaleRow, sale_id)
        assert row is not None
        return row


async def delete_keys(client: Any, prefix: str) -> None:
    keys = [key async for key in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)


# --- the stores under test -----------------------------------------------------------------------


@pytest.fixture(params=["sql-sqlite", "sql-postgresql", "redis-postgresql", "redis-sqlite"])
def store_kind(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Which claim store on which record (sync: the database fixtures run their own event loop)."""
    store, backend = request.param.split("-")
    out = {
        "store": store,
        "url": request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url"),
    }
    if store == "redis":
        out["redis_url"] = request.getfixturevalue("redis_url")
        out["prefix"] = request.getfixturevalue("redis_prefix")
    return out


async def open_store(kind: dict[str, Any]) -> tuple[Database, Any, Any]:
    """(record, store, drainer or None) for a store_kind."""
    from livecompanion.storage.migrate import upgrade_async

    await upgrade_async(kind["url"])
    db = Database(kind["url"])
    if kind["store"] == "sql":
        from livecompanion.sales.store_sql import SqlClaimStore

        return db, SqlClaimStore(db), None
    from livecompanion.sales.drain import Drainer
    from livecompanion.sales.store_redis import RedisClaimStore, connect

    store = RedisClaimStore(db, connect(kind["redis_url"]), prefix=kind["prefix"])
    return db, store, Drainer(store)


async def close_store(kind: dict[str, Any], db: Database, store: Any) -> None:
    if kind["store"] == "redis":
        await delete_keys(store.redis, kind["prefix"])
    await store.close()
    await db.dispose()


# --- HTTP helpers against real servers ----------------------------------------------------------


def create_stream_http(server: ServerProcess) -> str:
    r = httpx.post(
        f"{server.base_url}/api/streams",
        content=SCRIPT_YAML.encode(),
        headers={**server.headers("operator"), "Content-Type": "application/yaml"},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def start_sale_http(server: ServerProcess, stream_id: str, **terms: Any) -> dict[str, Any]:
    body = {"sku": "MASK-01", "price": 79, "duration_seconds": 600, **terms}
    r = httpx.post(
        f"{server.base_url}/api/streams/{stream_id}/flash-sales",
        json=body,
        headers=server.headers("operator"),
        timeout=10,
    )
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def deployment_redis(redis_url: str, redis_prefix: str) -> Iterator[dict[str, Any]]:
    """server_factory arguments for instances sharing the machine's Redis under a key prefix of the
    test's own (LIVECOMPANION_REDIS_PREFIX); the keys are deleted afterwards."""
    yield {"redis_url": redis_url, "extra_env": {"LIVECOMPANION_REDIS_PREFIX": redis_prefix}}
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=redis_prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


class ThrowawayRedis:
    """A redis-server of the test's own (never the machine's shared one), so it can be killed."""

    def __init__(self, tmp_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = tmp_path / f"redis-{self.port}.log"
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp_path),
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"redis-server did not start:\n{self.log.read_text()}")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


@pytest.fixture
def throwaway_redis(tmp_path: Path) -> Iterator[ThrowawayRedis]:
    try:
        made = ThrowawayRedis(tmp_path)
    except FileNotFoundError:
        from tests.conftest import unavailable

        unavailable("redis-server", "not installed")
        raise
    yield made
    made.kill()
