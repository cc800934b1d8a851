"""The Idempotency-Key store on the real record (SQLite and PostgreSQL): one action per key, even
for calls at the same moment through two separate engines (two instances); failures give it back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from livecompanion.errors import Conflict, Invalid
from livecompanion.storage.db import Database
from livecompanion.storage.tables import Base
from livecompanion.stream.idempotency import Answer, Idempotency
from livecompanion.stream.idempotency_repository import IdempotencyRepository


@pytest.fixture
async def dbs(database_url: str) -> AsyncIterator[tuple[Database, Database]]:
    a, b = Database(database_url), Database(database_url)
    async with a.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield a, b
    await a.dispose()
    await b.dispose()


async def test_one_action_per_key_across_two_engines(dbs: tuple[Database, Database]) -> None:
    stores = [Idempotency(IdempotencyRepository(db), poll_seconds=0.01) for db in dbs]
    runs: list[int] = []

    async def action() -> Answer:
        runs.append(1)
        await asyncio.sleep(0.2)  # the repeats arrive while the first is under way
        return Answer(201, "application/json", f'{{"n": {len(runs)}}}')

    answers = await asyncio.gather(*[stores[i % 2].run("s1", "k1", "POST", "/x", action) for i in range(8)])
    assert len(runs) == 1
    assert {(a.status, a.body) for a in answers} == {(201, '{"n": 1}')}
    assert sum(a.replayed for a in answers) == 7
    # Another scope, the same key: another action.
    other = await stores[0].run("s2", "k1", "POST", "/x", action)
    assert other.body == '{"n": 2}' and not other.replayed


async def test_refusals_are_answers_failures_give_the_key_back(dbs: tuple[Database, Database]) -> None:
    store = Idempotency(IdempotencyRepository(dbs[0]), poll_seconds=0.01)

    async def refused() -> Answer:
        return Answer(409, "application/json", '{"detail": "sale_running"}')

    async def boom() -> Answer:
        raise RuntimeError("lost the database")

    async def fine() -> Answer:
        return Answer(201, "application/json", "{}")

    await store.run("s", "a", "POST", "/x", refused)
    assert (await store.run("s", "a", "POST", "/x", fine)).status == 409  # the first answer stands
    with pytest.raises(RuntimeError):
        await store.run("s", "b", "POST", "/x", boom)
    assert (await store.run("s", "b", "POST", "/x", fine)).status == 201  # ran afresh


async def test_waits_then_gives_up_and_takes_over_a_dead_claim(dbs: tuple[Database, Database]) -> None:
    repo = IdempotencyRepository(dbs[0])
    assert await repo.claim("s", "dead", "POST", "/x", 1_000)  # an instance that died mid-action
    patient = Idempotency(repo, wait_seconds=0.1, poll_seconds=0.01, stale_after_ms=10**15)
    with pytest.raises(Conflict) as busy:
        await patient.run("s", "dead", "POST", "/x", lambda: asyncio.sleep(0))  # type: ignore[arg-type,return-value]
    assert busy.value.code == "idempotency_key_in_use"

    async def fine() -> Answer:
        return Answer(200, "application/json", "{}")

    taker = Idempotency(repo, stale_after_ms=60_000)
    assert (await taker.run("s", "dead", "POST", "/x", fine)).status == 200
    with pytest.raises(Invalid):
        await taker.run("s", "x" * 201, "POST", "/x", fine)


async def test_keys_older_than_a_week_are_pruned(dbs: tuple[Database, Database],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from livecompanion.stream import idempotency

    repo = IdempotencyRepository(dbs[0])
    now = idempotency._now_ms()
    week_ago = now - idempotency.KEEP_KEYS_MS
    assert await repo.claim("s1", "old-answered", "POST", "/x", week_ago - 1000)
    await repo.answer("s1", "old-answered", week_ago - 1000, 201, "application/json", "{}", week_ago)
    assert await repo.claim("s1", "old-abandoned", "POST", "/x", week_ago - 5)
    assert await repo.claim("s1", "recent", "POST", "/x", week_ago + 60_000)
    monkeypatch.setattr(idempotency, "_pruned_at", None)  # this process has not pruned yet

    async def action() -> Answer:
        return Answer(201, "application/json", "{}")

    await Idempotency(repo).run("s1", "new", "POST", "/x", action)  # a claim prunes, off its path
    await asyncio.gather(*idempotency._pruning)
    assert await repo.find("s1", "old-answered") is None and await repo.find("s1", "old-abandoned") is None
    assert await repo.find("s1", "recent") is not None and await repo.find("s1", "new") is not None
    # Not again within the hour: the next claim leaves the record alone.
    assert await repo.claim("s1", "old-again", "POST", "/x", week_ago - 1000)
    await Idempotency(repo).run("s1", "newer", "POST", "/x", action)
    assert not idempotency._pruning and await repo.find("s1", "old-again") is not None
