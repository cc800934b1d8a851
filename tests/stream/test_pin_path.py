"""A pin's own path on PostgreSQL + Redis (issue 20): few round trips, no wait for the pool, and the
record and every instance's screens still agree.

The pin through `locked_stream` made seven PostgreSQL round trips (the pool's pre-ping is three on
asyncpg) and waited for a pooled connection; it is now BEGIN with one UPDATE, then COMMIT, on the
show's own connections (`stream/row_write.py`), with the hub changed while the row is locked.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest
from sqlalchemy import text

from livecompanion import wiring
from livecompanion.config import Settings
from livecompanion.core import Core
from livecompanion.errors import Conflict, NotFound
from livecompanion.realtime import make_hub
from livecompanion.realtime.redis_hub import RedisHub
from livecompanion.scripts import check_file
from livecompanion.storage.db import Database
from livecompanion.storage.pgconn import asyncpg_dsn
from livecompanion.storage.streams import create_stream
from livecompanion.storage.tables import Base
from livecompanion.stream import row_write, service
from livecompanion.stream.idempotency import Answer, Idempotency
from livecompanion.stream.idempotency_repository import IdempotencyRepository
from livecompanion.wiring import build_core

from .conftest import EXAMPLE, TOKENS, make_services

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


class CountingProxy:
    """A TCP relay in front of PostgreSQL that counts the client's sends: asyncpg waits for each
    answer before it sends again, so each send is one round trip."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.sends = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(*self.target)

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: bool) -> None:
            try:
                while data := await reader.read(65536):
                    if count:
                        self.sends += 1
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                writer.close()

        await asyncio.gather(pipe(client_r, server_w, True), pipe(server_r, client_w, False))

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()


async def _stream(core: Core) -> str:
    script = check_file(EXAMPLE).script
    assert script is not None
    stream_id = await create_stream(core.db, script, EXAMPLE.read_text())
    await service.next_segment(core, stream_id)
    await service.load_state(core, stream_id)
    return stream_id


@pytest.fixture
async def pg_redis(postgres_url: str, redis_url: str, redis_prefix: str) -> AsyncIterator[Core]:
    core = await make_services(postgres_url, make_hub(redis_url, prefix=redis_prefix))
    yield core
    await core.hub.close()
    await core.db.dispose()


async def _proxied(postgres_url: str) -> tuple[CountingProxy, str]:
    host_port = postgres_url.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    proxy = CountingProxy(host, int(port))
    return proxy, postgres_url.replace(host_port, f"127.0.0.1:{await proxy.start()}")


async def test_a_pin_is_two_round_trips_to_postgresql(postgres_url: str, redis_url: str, redis_prefix: str) -> None:
    proxy, proxied = await _proxied(postgres_url)
    core = await make_services(proxied, make_hub(redis_url, prefix=redis_prefix))
    try:
        stream_id = await _stream(core)
        await service.pin(core, stream_id, "warm up")  # connections opened, statements prepared
        sends: list[int] = []
        for k in range(5):
            before = proxy.sends
            await service.pin(core, stream_id, f"第 {k} 條")
            sends.append(proxy.sends - before)
        before = proxy.sends
        await service.unpin(core, stream_id)
        sends.append(proxy.sends - before)
        assert max(sends) <= 2, sends  # BEGIN with the UPDATE, then COMMIT (it was 7)
        _, doc = await service.load_state(core, stream_id)
        assert doc["pinned"] is None
    finally:
        await core.hub.close()
        await core.db.dispose()
        await proxy.close()


async def test_a_keyed_pin_is_four_round_trips_and_a_repeat_two(postgres_url: str, redis_url: str,
                                                                 redis_prefix: str) -> None:
    """The console sends an Idempotency-Key with every action: the key's claim and answer were six
    round trips each through the pool."""
    proxy, proxied = await _proxied(postgres_url)
    core = await make_services(proxied, make_hub(redis_url, prefix=redis_prefix))
    try:
        stream_id = await _stream(core)
        keys = Idempotency(IdempotencyRepository(core.db))

        def pin_as_the_route_does(text: str) -> Callable[[], Awaitable[Answer]]:
            async def action() -> Answer:
                pinned = await service.pin(core, stream_id, text)
                return Answer(200, "application/json", orjson.dumps(pinned).decode())
            return action

        for _ in range(2):  # connections opened, statements prepared
            await keys.run(stream_id, "warm-up", "POST", "/pins", pin_as_the_route_does("warm up"))
        sends, repeats = [], []
        for k in range(5):
            before = proxy.sends
            first = await keys.run(stream_id, f"key-{k}", "POST", "/pins", pin_as_the_route_does(f"第 {k} 條"))
            sends.append(proxy.sends - before)
            before = proxy.sends
            again = await keys.run(stream_id, f"key-{k}", "POST", "/pins", pin_as_the_route_does("not again"))
            repeats.append(proxy.sends - before)
            assert again.replayed and again.body == first.body
        assert max(sends) <= 4, sends  # claim; BEGIN with the UPDATE; COMMIT; answer (it was 19)
        assert max(repeats) <= 2, repeats  # claim refused; the stored answer read (it was 12)
        _, doc = await service.load_state(core, stream_id)
        assert doc["pinned"]["text"] == "第 4 條"
    finally:
        await core.hub.close()
        await core.db.dispose()
        await proxy.close()


async def test_a_pin_does_not_wait_for_a_pooled_connection(postgres_url: str, redis_url: str,
                                                            redis_prefix: str) -> None:
    """With every pooled connection busy (claims, reports, lotteries...), a pin, keyed or not, still
    goes through."""
    schema = Database(postgres_url)
    async with schema.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await schema.dispose()
    db = Database(postgres_url, pool_size=1, max_overflow=0, pool_timeout=20)
    core = build_core(Settings(database_url=postgres_url), db, make_hub(redis_url, prefix=redis_prefix), TOKENS)
    try:
        stream_id = await _stream(core)
        async with db.engine.connect() as busy:  # the pool's only connection, held
            await busy.execute(text("SELECT 1"))
            pinned = await asyncio.wait_for(service.pin(core, stream_id, "有貨嗎", "小美"), 5)

            async def keyed() -> Answer:
                return Answer(200, "application/json", orjson.dumps(await service.pin(core, stream_id, "k")).decode())

            assert (await asyncio.wait_for(Idempotency(IdempotencyRepository(db)).run(
                stream_id, "key", "POST", "/pins", keyed), 5)).status == 200
            pinned = await service.pin(core, stream_id, "有貨嗎", "小美")
        assert pinned["nickname"] == "小美"
        _, doc = await service.load_state(core, stream_id)
        assert doc["pinned"] == pinned
    finally:
        await core.hub.close()
        await db.dispose()


async def test_the_record_and_both_instances_agree(pg_redis: Core, postgres_url: str, redis_url: str,
                                                   redis_prefix: str) -> None:
    a = pg_redis
    b = await make_services(postgres_url, make_hub(redis_url, prefix=redis_prefix))
    try:
        stream_id = await _stream(a)
        async with b.hub.subscribe(stream_id) as feed:
            pins = await asyncio.gather(*[service.pin(core, stream_id, f"pin {k}") for k, core in
                                          enumerate((a, b, a, b, a, b))])
            revs = []
            while len(revs) < 6:
                message = await asyncio.wait_for(feed.get(), 5)
                if message["type"] == "patch":
                    revs.append(message["rev"])
        assert revs == sorted(revs)
        last = message["ops"][0]["value"]
        assert last in pins
        async with a.db.session() as session:
            stored = (await session.execute(text("SELECT pinned FROM streams WHERE id = :s"),
                                            {"s": stream_id})).scalar()
        for core in (a, b):
            _, doc = await service.load_state(core, stream_id)
            assert doc["pinned"] == last == stored  # the screens show what the record says
    finally:
        await b.hub.close()
        await b.db.dispose()


async def test_refusals_write_nothing(pg_redis: Core) -> None:
    core = pg_redis
    stream_id = await _stream(core)
    pinned = await service.pin(core, stream_id, "before the end")
    with pytest.raises(NotFound):
        await service.pin(core, "nosuchstream", "x")
    with pytest.raises(NotFound):
        await service.unpin(core, "nosuchstream")
    for odd in ("x'; DROP TABLE streams; --", "a b", "ü" * 3, "x" * 65):  # the parameterized way
        with pytest.raises(NotFound):
            await service.pin(core, odd, "x")
        with pytest.raises(NotFound):
            await service.unpin(core, odd)
    await service.end_stream(core, stream_id)  # the end takes the pin down
    rev, doc = await service.load_state(core, stream_id)
    assert doc["pinned"] is None
    with pytest.raises(Conflict) as refused:
        await service.pin(core, stream_id, "after the end")
    assert refused.value.code == "ended"
    assert await service.load_state(core, stream_id) == (rev, doc)  # no change, no rev
    await service.unpin(core, stream_id)  # allowed on an ended show, as before
    await service.reload_state(core, stream_id)
    assert (await service.load_state(core, stream_id))[1]["pinned"] is None
    assert pinned["text"] == "before the end"


async def test_unpin_stores_json_null_as_the_orm_did(pg_redis: Core, postgres_url: str) -> None:
    core = pg_redis
    stream_id = await _stream(core)
    typed = "😀 有貨嗎 <b> it's \\' \\x00 $1 ');"
    await service.pin(core, stream_id, typed, "阿明")
    conn = await asyncpg.connect(asyncpg_dsn(postgres_url))
    try:
        row = await conn.fetchrow("SELECT pinned->>'text' AS text, pinned->>'nickname' AS nick FROM streams "
                                  "WHERE id = $1", stream_id)
        assert (row["text"], row["nick"]) == (typed, "阿明")
        await service.unpin(core, stream_id)
        stored = await conn.fetchval("SELECT pinned::text FROM streams WHERE id = $1", stream_id)
        assert stored == "null"
    finally:
        await conn.close()


async def test_a_hub_without_the_document_is_rebuilt_with_the_pin(pg_redis: Core) -> None:
    core = pg_redis
    stream_id = await _stream(core)
    await core.hub.drop(stream_id)  # Redis lost it (a restart, the idle expiry)
    pinned = await service.pin(core, stream_id, "rebuilt")
    _, doc = await service.load_state(core, stream_id)
    assert doc["pinned"] == pinned


class RecordDiesAfterTheHub(RedisHub):
    """The real hub; right after a change, PostgreSQL drops the connection that holds the row lock
    (as in a database restart at that moment), so the COMMIT fails after the screens changed."""

    victim_dsn = ""

    async def apply(self, stream_id: str, ops: list[dict[str, Any]]) -> int:
        rev = await super().apply(stream_id, ops)
        if any(op["path"] == ["pinned"] for op in ops) and self.victim_dsn:
            admin = await asyncpg.connect(self.victim_dsn)
            try:
                await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                                    "state = 'idle in transaction' AND datname = current_database()")
            finally:
                await admin.close()
        return rev


async def test_a_failed_commit_after_the_hub_changed_rebuilds_the_screens(postgres_url: str, redis_url: str,
                                                                           redis_prefix: str) -> None:
    hub = RecordDiesAfterTheHub.from_url(redis_url, prefix=redis_prefix)
    core = await make_services(postgres_url, hub)
    try:
        stream_id = await _stream(core)
        kept = await service.pin(core, stream_id, "kept")
        assert isinstance(hub, RecordDiesAfterTheHub)
        hub.victim_dsn = asyncpg_dsn(postgres_url)
        with pytest.raises(Exception):  # noqa: B017 - asyncpg words a dropped connection several ways
            await service.pin(core, stream_id, "lost with the commit")
        hub.victim_dsn = ""
        _, doc = await service.load_state(core, stream_id)
        assert doc["pinned"] == kept  # rebuilt from the record, which never had the second pin
        assert (await service.pin(core, stream_id, "next"))["text"] == "next"  # a new connection
    finally:
        await core.hub.close()
        await core.db.dispose()


async def test_an_id_outside_the_plain_characters_goes_the_parameterized_way(pg_redis: Core,
                                                                              postgres_url: str) -> None:
    core = pg_redis
    made = await _stream(core)
    odd = "room 'ü'"  # no stream gets such an id (they are hex), but the path must still hold
    conn = await asyncpg.connect(asyncpg_dsn(postgres_url))
    try:
        await conn.execute("UPDATE streams SET id = $2 WHERE id = $1", made, odd)
    finally:
        await conn.close()
    pinned = await service.pin(core, odd, "還有嗎")
    assert (await service.load_state(core, odd))[1]["pinned"] == pinned
    await service.end_stream(core, odd)
    with pytest.raises(Conflict):
        await service.pin(core, odd, "after the end")
    await service.unpin(core, odd)


async def test_the_operator_connection_is_open_before_the_first_pin(postgres_url: str, redis_url: str,
                                                                    redis_prefix: str, tmp_path: Path) -> None:
    """The first pin of an instance opened it (~4-5 ms more than a later pin); now `wiring.start`
    opens them all (a ten-room evening's rooms pin at once)."""
    schema = Database(postgres_url)
    async with schema.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await schema.dispose()
    services = wiring.build_services(Settings(database_url=postgres_url, redis_url=redis_url, redis_prefix=redis_prefix,
                                              data_dir=tmp_path, operator_token="o", ingest_token="i",
                                              viewer_token="v"))
    await wiring.start(services)
    try:
        connections = row_write.operator_connections(services.db)
        assert connections is not None and len(connections._idle) == connections.size
        stream_id = await _stream(services)
        backends = await _backends(postgres_url)
        await service.pin(services, stream_id, "first")
        assert await _backends(postgres_url) == backends  # no connection opened for it
        assert len(connections._idle) == connections.size
    finally:
        await wiring.close(services)


async def _backends(postgres_url: str) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(postgres_url))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                       "AND pid <> pg_backend_pid()"))
    finally:
        await conn.close()


async def _doc_reads(redis_url: str, prefix: str, act: Callable[[], Awaitable[None]]) -> list[str]:
    """The Redis commands on the stream documents of `prefix` while `act` runs, as MONITOR sees them."""
    from redis.asyncio import Redis

    watcher = Redis.from_url(redis_url)
    seen: list[str] = []
    sentinel = f"done:{prefix}"
    try:
        async with watcher.monitor() as monitor:
            async def collect() -> None:
                async for entry in monitor.listen():
                    command = str(entry.get("command", ""))
                    if sentinel in command:
                        return
                    if prefix in command:
                        seen.append(command.split(" ", 1)[0].upper())

            collecting = asyncio.create_task(collect())
            await act()
            await watcher.echo(sentinel)
            await asyncio.wait_for(collecting, 10)
    finally:
        await watcher.aclose()
    return seen


async def test_the_remote_and_the_explain_click_read_no_whole_document(sqlite_url: str, redis_url: str,
                                                                        redis_prefix: str) -> None:
    """A teleprompter command (the phone remote: play, pause, speed) and a 講解 click read the
    whole live document (HGETALL, every section decoded) to check the stream or one section."""
    core = await make_services(sqlite_url, make_hub(redis_url, prefix=redis_prefix))
    try:
        stream_id = await _stream(core)
        from livecompanion.stream import explain

        async def remote_and_explain() -> None:
            await service.prompter_command(core, stream_id, "play")
            await service.prompter_command(core, stream_id, "speed", 4)
            assert (await explain.explain(core, stream_id, "MASK-01", "start"))["explaining"]["sku"] == "MASK-01"
            assert (await explain.explain(core, stream_id, "MASK-01", "start"))["explaining"]["sku"] == "MASK-01"
            with pytest.raises(Conflict):
                await explain.explain(core, stream_id, "SERUM-02", "stop")
            assert (await explain.explain(core, stream_id, "MASK-01", "stop"))["explaining"] is None

        seen = await _doc_reads(redis_url, redis_prefix, remote_and_explain)
        assert "EVALSHA" in seen and "HGETALL" not in seen, seen
        _, doc = await service.load_state(core, stream_id)
        assert doc["prompter"]["action"] == "speed" and doc["explaining"] is None
        with pytest.raises(NotFound):
            await service.prompter_command(core, "nosuchstream", "pause")
        await core.hub.drop(stream_id)  # the hub lost the document: the remote still works
        await service.prompter_command(core, stream_id, "pause")
        await explain.explain(core, stream_id, "MASK-01", "start")
        _, doc = await service.load_state(core, stream_id)
        assert doc["prompter"]["action"] == "pause" and doc["explaining"]["sku"] == "MASK-01"
    finally:
        await core.hub.close()
        await core.db.dispose()
