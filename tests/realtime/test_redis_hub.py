"""RedisHub between instances: shared state, ordered fan-out, no interleaving, reconnect -> resync."""

from __future__ import annotations

import asyncio

import pytest

from livecompanion.realtime import set_op
from livecompanion.realtime.redis_hub import mark_empty_lists, unmark_empty_lists

pytestmark = pytest.mark.redis


async def test_a_change_on_one_instance_reaches_subscribers_of_the_other(redis_pair) -> None:  # type: ignore[no-untyped-def]
    a, b = redis_pair
    await a.load("s1", {"pinned": None})
    async with b.subscribe("s1") as feed:
        rev = await a.apply("s1", [set_op(["pinned"], {"text": "這款適合油皮嗎?", "nickname": "小美"})])
        message = await asyncio.wait_for(feed.get(), 2)
    assert message["rev"] == rev == 2
    assert await b.snapshot("s1") == (2, {"pinned": {"text": "這款適合油皮嗎?", "nickname": "小美"}})
    # B found A's document: loading it again (not forced) keeps it.
    assert await b.load("s1", {"pinned": None}) == 2


async def test_concurrent_changes_from_two_instances_never_interleave(redis_pair) -> None:  # type: ignore[no-untyped-def]
    a, b = redis_pair
    await a.load("s1", {"counts": {"a": 0, "b": 0}})
    async with a.subscribe("s1") as feed:
        async def bump(hub, name: str, n: int) -> list[int]:  # type: ignore[no-untyped-def]
            return [await hub.apply("s1", [set_op(["counts", name], i + 1)]) for i in range(n)]

        revs_a, revs_b = await asyncio.gather(bump(a, "a", 100), bump(b, "b", 100))
        seen = [(await asyncio.wait_for(feed.get(), 2))["rev"] for _ in range(200)]
    assert sorted(revs_a + revs_b) == list(range(2, 202))
    assert seen == list(range(2, 202))  # every subscriber sees each rev once, in order
    assert await b.snapshot("s1") == (201, {"counts": {"a": 100, "b": 100}})


async def test_lost_pubsub_connection_resyncs_subscribers(redis_pair) -> None:  # type: ignore[no-untyped-def]
    a, b = redis_pair
    await a.load("s1", {"n": 0})
    async with b.subscribe("s1") as feed:
        name = f"livecompanion-hub:{b.prefix}"
        clients = await b.redis.client_list()
        pubsub_ids = [c["id"] for c in clients if c.get("name") == name and c.get("cmd") == "psubscribe"]
        assert pubsub_ids, "the hub's pub/sub connection should be named"
        for client_id in pubsub_ids:
            await b.redis.client_kill_filter(_id=client_id)
        message = await asyncio.wait_for(feed.get(), 5)
        assert message == {"type": "resync"}
        # and it is live again afterwards
        await a.apply("s1", [set_op(["n"], 1)])
        assert (await asyncio.wait_for(feed.get(), 5))["rev"] == 2


def test_empty_list_marking_round_trips() -> None:
    value = {"a": [], "b": [[], {"c": []}], "d": {}, "e": [1, 2]}
    marked = mark_empty_lists(value)
    assert marked["a"] == ["\x00[]"] and marked["d"] == {}
    assert unmark_empty_lists(marked) == value


async def test_more_concurrent_commands_than_connections_wait_instead_of_failing(
        redis_url: str, redis_prefix: str) -> None:
    """150 screens asking for their snapshot at once (the evening benchmark) once failed with
    redis-py's MaxConnectionsError; the hub's pool now makes a command wait for a connection."""
    import asyncio

    from livecompanion.realtime import make_hub
    from livecompanion.realtime.redis_hub import POOL_CONNECTIONS

    hub = make_hub(redis_url, prefix=redis_prefix)
    try:
        await hub.load("s1", {"metrics": {"orders": 1}})
        snaps = await asyncio.gather(*(hub.snapshot("s1") for _ in range(4 * POOL_CONNECTIONS)))
        assert all(s is not None and s[1] == {"metrics": {"orders": 1}} for s in snaps)
    finally:
        assert hub.redis is not None
        keys = [k async for k in hub.redis.scan_iter(match=redis_prefix + "*")]
        if keys:
            await hub.redis.delete(*keys)
        await hub.close()


async def test_screens_asking_together_share_one_read_that_starts_after_they_asked(redis_pair) -> None:  # type: ignore[no-untyped-def]
    """Many screens resyncing at once share one document read (issue 20: each held a pooled
    connection, the pool's 100 were busy, and an operator's pin waited seconds for one); a read
    already under way is not joined, since it may predate what a screen subscribed to."""
    a, b = redis_pair
    await a.load("s1", {"pinned": None})
    fetch = b._fetch_document
    started: list[int] = []
    release = asyncio.Event()

    async def slow_fetch(stream_id: str):  # type: ignore[no-untyped-def]
        started.append(len(started))
        if len(started) == 1:
            await release.wait()  # the first read is under way ...
        return await fetch(stream_id)

    b._fetch_document = slow_fetch
    first = asyncio.ensure_future(b.snapshot("s1"))
    await asyncio.sleep(0.05)
    await a.apply("s1", [set_op(["pinned"], {"text": "new"})])  # ... when the document changes
    later = [asyncio.ensure_future(b.snapshot("s1")) for _ in range(50)]  # 50 screens ask meanwhile
    await asyncio.sleep(0.05)
    release.set()
    got = await asyncio.gather(first, *later)
    assert len(started) == 2  # one read for the first caller, one shared by the 50 (before: 51)
    assert {rev for rev, _ in got[1:]} == {2} and all(doc["pinned"] == {"text": "new"} for _, doc in got[1:])
