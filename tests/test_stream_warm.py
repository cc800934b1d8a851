"""An instance gets ready for a stream before the stream's traffic reaches it (livecompanion/warm.py,
issue 20): what a stream's first batch, claim and comment would read is read when its first screen
connects (or, for live streams, at start), and the connections of the hot write paths are open,
with their statements ready, before the first request."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from starlette.testclient import TestClient

from livecompanion.api.app import create_app
from livecompanion.clock import now_ms
from livecompanion.config import Settings
from livecompanion.errors import NotFound
from livecompanion.ingest.store_pg import PostgresStore
from livecompanion.realtime import make_hub
from livecompanion.sales.drain_write import PgWriter
from livecompanion.scripts.models import Script
from livecompanion.storage import streams
from livecompanion.storage.db import Database
from livecompanion.storage.migrate import upgrade, upgrade_async
from livecompanion.storage.pgconn import OwnConnections, asyncpg_dsn
from livecompanion.stream import service as stream_service
from livecompanion.stream.row_write import operator_connections
from livecompanion.warm import StreamWarmer
from livecompanion.wiring import Services, build_services, close, start

SCRIPT = Script.model_validate({"title": "t", "products": [{"sku": "MASK-01", "name": "面膜"}],
                                "segments": [{"kind": "opening", "target": "5m"}]})


# --- the warmer on its own -------------------------------------------------------------------------

async def test_a_stream_is_warmed_once_off_the_callers_path() -> None:
    calls: list[str] = []
    gate = asyncio.Event()

    async def step(stream_id: str) -> None:
        await gate.wait()
        calls.append(stream_id)

    async def not_ended(stream_id: str) -> bool:
        return True

    warmer = StreamWarmer(not_ended, [step])
    warmer.touch("s1")
    warmer.touch("s1")  # a second screen of the same stream
    await asyncio.sleep(0)
    assert calls == []  # touch returned before the step ran
    gate.set()
    await asyncio.sleep(0.01)
    warmer.touch("s1")
    await asyncio.sleep(0.01)
    assert calls == ["s1"]
    await warmer.close()


async def test_unknown_and_ended_streams_are_not_warmed_and_a_failing_step_stops_no_other() -> None:
    ran: list[tuple[str, str]] = []

    async def not_ended(stream_id: str) -> bool:
        if stream_id == "missing":
            raise NotFound("no stream")
        return stream_id != "over"

    async def broken(stream_id: str) -> None:
        ran.append(("broken", stream_id))
        raise OSError("the record is away")

    async def fine(stream_id: str) -> None:
        ran.append(("fine", stream_id))

    warmer = StreamWarmer(not_ended, [broken, fine])
    for sid in ("missing", "over", "live"):
        warmer.touch(sid)
    await asyncio.sleep(0.05)
    assert ran == [("broken", "live"), ("fine", "live")]
    assert not warmer.warmed("missing")  # asked again once it exists
    await warmer.close()
    warmer.touch("later")  # closed: nothing more starts
    await asyncio.sleep(0.01)
    assert not warmer.warmed("later")


# --- the services' warm steps, on both records ------------------------------------------------------

@pytest.fixture
async def pair(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Services, Services]]:
    """Two instances on one record: the first makes the stream, the second is the one warmed."""
    await upgrade_async(database_url)
    settings = Settings(database_url=database_url, data_dir=tmp_path).with_generated_tokens()
    made = (build_services(settings), build_services(settings))
    for services in made:
        await start(services)
    yield made
    for services in made:
        await close(services)


async def _live_stream_with_a_sale(services: Services) -> tuple[str, str]:
    sid = await streams.create_stream(services.db, SCRIPT, "title: t\n")
    await stream_service.next_segment(services, sid)
    sale = await services.sales.create_sale(sid, sku="MASK-01", price=Decimal("79"), stock=10,
                                            duration_seconds=600)
    return sid, sale["id"]


async def test_warming_reads_what_the_first_batch_claim_and_comment_would(
        pair: tuple[Services, Services]) -> None:
    sid, sale_id = await _live_stream_with_a_sale(pair[0])
    services = pair[1]
    assert sid not in services.ingest._segments and sid not in services.ingest.live._seeded
    assert sale_id not in services.sales._infos and sid not in services.lottery.entries._open
    await services.warmer.warm(sid)
    assert sid in services.ingest._segments
    assert sid in services.ingest.live._seeded
    assert sid in services.lottery.entries._open
    assert sale_id in services.sales._infos
    result = await services.ingest.ingest_events(sid, [{"type": "comment", "id": "c1", "user_id": "u1",
                                                        "text": "多少錢", "ts": now_ms()}])
    assert result.accepted == 1  # a warmed stream takes events as any other


async def test_an_ended_stream_is_not_warmed(pair: tuple[Services, Services]) -> None:
    sid, _ = await _live_stream_with_a_sale(pair[0])
    await stream_service.end_stream(pair[0], sid)
    services = pair[1]
    await services.warmer.warm(sid)
    assert sid not in services.ingest.live._seeded and sid not in services.lottery.entries._open


def test_a_screen_connecting_warms_its_stream(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, operator_token="op", ingest_token="in", viewer_token="vw")
    upgrade(settings.resolved_database_url())
    with TestClient(create_app(settings)) as client:
        auth = {"Authorization": "Bearer op"}
        sid = client.post("/api/streams", content=b"title: t\nsegments:\n  - kind: opening\n    target: 5m\n",
                          headers={**auth, "Content-Type": "application/yaml"}).json()["id"]
        services: Services = client.app.state.services  # type: ignore[attr-defined]
        assert not services.warmer.warmed(sid)
        with client.websocket_connect(f"/ws/streams/{sid}?token=vw") as ws:
            assert ws.receive_json()["type"] == "snapshot"
            assert services.warmer.warmed(sid)
        deadline = time.monotonic() + 10
        while sid not in services.ingest.live._seeded and time.monotonic() < deadline:
            time.sleep(0.02)  # the warm task runs on the app's loop, in the client's portal thread
        assert sid in services.ingest.live._seeded


# --- connections open before the first request (PostgreSQL) ----------------------------------------

async def test_own_connections_open_all_and_make_each_ready(postgres_url: str) -> None:
    seen: list[int] = []

    async def ready(conn: asyncpg.Connection) -> None:
        seen.append(conn.get_server_pid())
        await conn.execute("SELECT 1")

    connections = OwnConnections(postgres_url, size=3)
    await connections.open(ready)
    assert len(set(seen)) == 3 and len(connections._idle) == 3
    async with connections.acquire() as conn:
        assert conn.get_server_pid() in seen  # an opened one, not a new one
    await connections.close()


async def test_the_write_paths_are_ready_and_wrote_nothing(postgres_url: str, redis_url: str,
                                                           redis_prefix: str) -> None:
    await upgrade_async(postgres_url)
    db = Database(postgres_url)
    store, writer = PostgresStore(db), PgWriter(postgres_url)
    await store.open()
    await writer.open()
    for own in (store._connections, writer._connections):
        assert own._idle and all(len(c._stmt_cache) >= 1 for c in own._idle)  # statements prepared
    conn = await asyncpg.connect(asyncpg_dsn(postgres_url))
    try:
        for table in ("events", "orders", "claims", "flash_sales"):
            assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0
    finally:
        await conn.close()
    await store.close()
    await writer.close()
    await db.dispose()


async def test_an_instance_starts_with_its_write_connections_open(postgres_url: str, redis_url: str,
                                                                  redis_prefix: str, tmp_path: Path) -> None:
    await upgrade_async(postgres_url)
    settings = Settings(database_url=postgres_url, redis_url=redis_url, redis_prefix=redis_prefix,
                        data_dir=tmp_path).with_generated_tokens()
    made = build_services(settings, hub=make_hub(redis_url, prefix=redis_prefix))
    await start(made)
    try:
        store = made.ingest.writer.store
        assert isinstance(store, PostgresStore) and len(store._connections._idle) == store.concurrent_writes
        assert made.sales.drainer is not None
        writer = made.sales.drainer.writer
        assert isinstance(writer, PgWriter) and len(writer._connections._idle) == 1
        assert made.db.engine.pool.checkedin() >= 4  # type: ignore[attr-defined]
        operator = operator_connections(made.db)
        assert operator is not None and len(operator._idle) == operator.size  # every room may pin at once
    finally:
        await close(made)
