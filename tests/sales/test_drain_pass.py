"""A drain pass takes every due sale at once (drain_pass.py): one read of all their logs, one write of
all their batches, each batch still guarded by its own sale's position; on both records the drainer
writes to (PostgreSQL, and SQLite with Redis)."""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any

import pytest

from livecompanion.sales.drain import Drainer
from livecompanion.sales.rules import GRANTED
from tests.sales.conftest import close_store, new_sale, new_stream, open_store, recorded_claims, recorded_sale


@pytest.fixture(params=["postgresql", "sqlite"])
def kind(request: pytest.FixtureRequest, redis_url: str, redis_prefix: str) -> dict[str, Any]:
    url = request.getfixturevalue("postgres_url" if request.param == "postgresql" else "sqlite_url")
    return {"store": "redis", "url": url, "redis_url": redis_url, "prefix": redis_prefix}


def counting(drainer: Drainer) -> dict[str, list[Any]]:
    """Record each read of logs (the sales read) and each write (the sales written) of a drainer."""
    seen: dict[str, list[Any]] = {"reads": [], "writes": []}
    read_logs, write_many = drainer.read_logs, drainer.writer.write_many

    async def read(reads: list[Any]) -> Any:
        seen["reads"].append(sorted(r.sale_id for r in reads))
        return await read_logs(reads)

    async def write(batches: list[Any]) -> set[str]:
        written = await write_many(batches)
        seen["writes"].append((sorted(b[0] for b in batches), written))
        return written

    drainer.read_logs = read  # type: ignore[method-assign]
    drainer.writer.write_many = write  # type: ignore[method-assign]
    return seen


async def record_matches_redis(db: Any, store: Any, stream_id: str, sale_id: str) -> list[tuple[Any, ...]]:
    """The record's claims of the sale, after checking its numbers and position against Redis."""
    live = await store.live(stream_id, sale_id)
    row = await recorded_sale(db, sale_id)
    claims = await recorded_claims(db, sale_id)
    keys = store.keys(stream_id, sale_id)
    epoch = (await store.redis.hget(keys.meta, "epoch")).decode()
    last = (await store.redis.xrevrange(keys.log, count=1))[0][0].decode()
    assert (row.sold, row.next_rank, row.drained) == (live.sold, live.next_rank, f"{epoch}/{last}")
    assert row.sold == sum(c[1] for c in claims if c[5] in ("claimed", "paid"))
    return claims


def test_one_pass_reads_and_writes_every_due_sale_at_once(kind: dict[str, Any]) -> None:
    async def main() -> None:
        db, store, drainer = await open_store(kind)
        try:
            streams = [await new_stream(db) for _ in range(4)]  # (one sale of a sku at a time in a stream)
            sales = [await new_sale(db, stream_id, stock=10, per_user_limit=3) for stream_id in streams]
            every = {sale.id: stream_id for sale, stream_id in zip(sales, streams, strict=True)}
            for sale in sales:
                await store.prepare(sale)
            seen = counting(drainer)
            for n, sale in enumerate(sales):
                for i in range(n + 1):
                    reply = await store.claim(every[sale.id], sale.id, f"u{i}", 1, f"{sale.id}/o{i}")
                    assert reply.code == GRANTED
            await store.order_event(streams[1], f"{sales[1].id}/o0", "cancelled")
            await store.order_event(streams[3], f"{sales[3].id}/o2", "paid")
            assert await drainer.drain(every) == 4 + 1 + 3 + 3 + 5  # (the 4 loads, the claims, 2 order moves)
            ids = sorted(every)
            assert seen["reads"] == [ids]  # one round trip for the four logs
            assert seen["writes"] == [(ids, set(ids))]  # one write for the four batches
            for n, sale in enumerate(sales):
                claims = await record_matches_redis(db, store, every[sale.id], sale.id)
                assert [(c[0], c[3]) for c in claims] == [(i + 1, f"u{i}") for i in range(n + 1)]
            assert (await recorded_claims(db, sales[1].id))[0][5] == "released"
            assert (await recorded_claims(db, sales[3].id))[2][5] == "paid"
            assert await drainer.drain(every) == 0  # nothing new
            assert seen["writes"] == [(ids, set(ids))]
        finally:
            await drainer.writer.close()
            await close_store(kind, db, store)

    asyncio.run(main())


def test_a_second_drainer_first_on_one_sale_does_not_stop_the_others(kind: dict[str, Any]) -> None:
    """Drainer one reads three sales' logs; before it writes, its lease on B lapses and drainer two
    writes B further (a claim more). One's batch for B must not be written (its guard fails: the
    record would go back to an older position and count), and A's and C's must be, in that write."""
    async def main() -> None:
        db, store, one = await open_store(kind)
        two = Drainer(store, "two")
        try:
            a, b, c = [await new_sale(db, await new_stream(db), stock=20, per_user_limit=5) for _ in range(3)]
            for sale in (a, b, c):
                await store.prepare(sale)
            every = {sale.id: sale.stream_id for sale in (a, b, c)}
            n = 0

            async def claims(sale_id: str, count: int) -> None:
                nonlocal n
                for _ in range(count):
                    n += 1
                    assert (await store.claim(every[sale_id], sale_id, f"u{n % 4}", 1, f"o{n}")).code == GRANTED

            for sale in (a, b, c):
                await claims(sale.id, 2)
            await one.drain(every)  # one knows the three positions, and holds the leases
            for sale in (a, b, c):
                await claims(sale.id, 3)
            await store.order_event(b.stream_id, "o3", "cancelled")  # b's first claim
            seen = counting(one)
            read_logs = one.read_logs

            async def lease_lapses_on_b_after_the_read(reads: list[Any]) -> Any:
                replies = await read_logs(reads)
                if len(seen["reads"]) == 1:
                    await store.redis.delete(store.keys(b.stream_id, b.id).lease)
                    await claims(b.id, 1)
                    assert await two.drain({b.id: b.stream_id}) == 3 + 1 + 1  # b's claims, the cancel, one more
                return replies

            one.read_logs = lease_lapses_on_b_after_the_read  # type: ignore[method-assign]
            await one.drain(every)
            first = seen["writes"][0]
            assert first == (sorted(every), {a.id, c.id})  # b refused alone, a and c written
            assert all(b.id not in written for _, written in seen["writes"])
            for sale in (a, b, c):
                claims_of = await record_matches_redis(db, store, sale.stream_id, sale.id)
                assert len(claims_of) == (6 if sale is b else 5)
                assert sorted(cl[0] for cl in claims_of) == list(range(1, len(claims_of) + 1))
            assert (await recorded_claims(db, b.id))[0][5] == "released"  # o3, b's first claim
        finally:
            await two.writer.close()
            await one.writer.close()
            await close_store(kind, db, store)

    asyncio.run(main())


def test_a_bad_entry_in_one_sale_does_not_hold_up_the_others_of_its_pass(
    postgres_url: str, redis_url: str, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    kind = {"store": "redis", "url": postgres_url, "redis_url": redis_url, "prefix": redis_prefix}

    async def main() -> None:
        db, store, drainer = await open_store(kind)
        try:
            bad, good = [await new_sale(db, await new_stream(db), stock=3) for _ in range(2)]
            for sale in (bad, good):
                await store.prepare(sale)
            # Behind the API's back (which refuses it now): Redis grants what PostgreSQL cannot store.
            poisoned = await store.claim(bad.stream_id, bad.id, "bad\x00user", 1, "o-bad")
            await store.claim(bad.stream_id, bad.id, "a", 1, "o-a")
            await store.claim(good.stream_id, good.id, "b", 1, "o-b")
            with caplog.at_level(logging.ERROR, logger="livecompanion.sales.quarantine"):
                await drainer.drain({bad.id: bad.stream_id, good.id: good.stream_id})
            assert any("OPERATOR ALERT" in r.getMessage() for r in caplog.records)
            assert not await drainer.recorded(bad.stream_id, bad.id, poisoned.entry, 1.0)
            assert [c[3] for c in await recorded_claims(db, bad.id)] == ["a"]
            assert [c[3] for c in await recorded_claims(db, good.id)] == ["b"]
            assert (await recorded_sale(db, good.id)).sold == 1
        finally:
            await drainer.writer.close()
            await close_store(kind, db, store)

    asyncio.run(main())


def test_positions_are_published_for_the_sales_another_instance_waits_on(
        kind: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Holder A publishes the position it wrote only for a sale another instance's claim woke it for;
    B, told by its claim that A holds the lease, does not read the log itself."""
    monkeypatch.setattr("livecompanion.sales.drain.LEASE_MS", 5000)  # A keeps the lease all test long

    async def main() -> None:
        db, store_a, a = await open_store(kind)
        db_b, store_b, b = await open_store(kind)
        b = Drainer(store_b, "b")
        a = Drainer(store_a, "a")
        pubsub = store_a.redis.pubsub()
        await pubsub.subscribe(a.channel)
        try:
            stream_id = await new_stream(db)
            sale = await new_sale(db, stream_id, stock=10)
            await store_a.prepare(sale)
            a.start()
            b.start()
            b_reads = counting(b)["reads"]
            await asyncio.sleep(0.2)  # both listening
            first = await store_a.claim(stream_id, sale.id, "u1", 1, "o1")
            assert first.holder_lease_ms is None  # nobody held the lease
            assert await a.recorded(stream_id, sale.id, first.entry, 2.0)  # A drained it: A holds the lease
            second = await store_b.claim(stream_id, sale.id, "u2", 1, "o2")
            assert second.holder_lease_ms is not None and second.holder_lease_ms > 1000  # A's lease
            assert await b.recorded(stream_id, sale.id, second.entry, 2.0, second.holder_lease_ms)
            published = []
            for _ in range(5):  # (a subscription's confirmation reads as None too)
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
                if message is not None:
                    published.append(message["data"].decode())
            assert published == [f"{sale.id} {second.entry}"]  # not for the first: nobody else waited on it
            assert not any(sale.id in read for read in b_reads)  # B left the log to A
            assert [r[0] for r in await recorded_claims(db, sale.id)] == [1, 2]
        finally:
            await pubsub.aclose()
            for drainer in (a, b):
                await asyncio.wait_for(drainer.close(), 10)
            await close_store(kind, db_b, store_b)
            await close_store(kind, db, store_a)

    asyncio.run(main())


def test_a_crowds_claims_share_passes_and_a_lone_claim_is_drained_at_once(kind: dict[str, Any]) -> None:
    """The running drainer starts its passes at least PASS_EVERY_S apart: claims granted within those
    milliseconds are written by one pass (ten rooms' claims each had a pass of their own, nearly);
    a claim after a quiet moment does not wait for the interval."""
    from livecompanion.sales import drain

    async def main() -> None:
        db, store, drainer = await open_store(kind)
        loop = asyncio.get_running_loop()
        try:
            stream_id = await new_stream(db)
            sale = await new_sale(db, stream_id, stock=1000, per_user_limit=1000)
            await store.prepare(sale)
            passes: list[float] = []
            real_drain = drainer.drain

            async def timed(sales: dict[str, str]) -> int:
                if sales:
                    passes.append(loop.time())
                return await real_drain(sales)

            drainer.drain = timed  # type: ignore[method-assign]
            drainer.start()
            await asyncio.sleep(0.3)  # the start-up scan
            passes.clear()

            async def claim(i: int) -> float:
                started = loop.time()
                reply = await store.claim(stream_id, sale.id, f"u{i}", 1, f"o{i}")
                assert reply.code == GRANTED and reply.entry is not None
                assert await drainer.recorded(stream_id, sale.id, reply.entry, 3.0)
                return loop.time() - started

            lone = await claim(0)  # after a quiet moment: one pass, no pause before it (a loaded CI
            assert lone < 1.0 and len(passes) == 1  # machine can still be slow: the bound is loose)
            await asyncio.sleep(2 * drain.PASS_EVERY_S)
            passes.clear()
            crowd = []
            started = loop.time()
            for i in range(1, 61):  # a crowd: a claim every ~2 ms
                crowd.append(asyncio.create_task(claim(i)))
                await asyncio.sleep(0.002)
            await asyncio.gather(*crowd)
            took = loop.time() - started
            assert drain.PASS_EVERY_S >= 0.005  # (the figures in drain.py were measured at 10 ms)
            assert len(passes) <= took / drain.PASS_EVERY_S + 2, (took, passes)
            assert min(b - a for a, b in itertools.pairwise(passes)) >= drain.PASS_EVERY_S * 0.9
            claims = await record_matches_redis(db, store, stream_id, sale.id)
            assert len(claims) == 61
        finally:
            await drainer.close()
            await close_store(kind, db, store)

    asyncio.run(main())
