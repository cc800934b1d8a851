"""The group-commit writer and its stores, on SQLite and PostgreSQL: batching, duplicates, orders,
backpressure, and a failing request that must not fail the others."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from livecompanion.events import parse_event
from livecompanion.ingest.rows import EventRecord, StreamCommit, record_of
from livecompanion.ingest.store import make_store
from livecompanion.ingest.store_pg import PostgresStore
from livecompanion.ingest.writer import GroupCommitWriter, Overloaded
from livecompanion.scripts.models import Script
from livecompanion.storage import streams
from livecompanion.storage.db import Database
from livecompanion.storage.migrate import upgrade_async
from livecompanion.storage.tables import EventRow, OrderRow

SCRIPT = Script.model_validate({"title": "t", "segments": [{"kind": "opening", "target": "5m"}]})


@pytest.fixture
async def db(database_url: str):  # type: ignore[no-untyped-def]
    await upgrade_async(database_url)
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def stream_id(db: Database) -> str:
    return await streams.create_stream(db, SCRIPT, "title: t\n")


def rec(stream_id: str, received: int = 1, **fields: object) -> EventRecord:
    raw = {"type": "comment", "user_id": "u1", "text": "hi", "ts": 1000, **fields}
    return record_of(stream_id, parse_event(raw, received), received)


def order(
    stream_id: str, oid: str, status: str, ts: int, eid: str | None = None, **more: object
) -> EventRecord:
    fields = {
        "type": "order",
        "order_id": oid,
        "sku": "MASK-01",
        "qty": 1,
        "amount": "99.00",
        "status": status,
        "ts": ts,
        "user_id": "buyer",
        **more,
    }
    if eid:
        fields["id"] = eid
    return rec(stream_id, **fields)


async def count_events(db: Database, stream_id: str) -> int:
    async with db.session() as s:
        return await s.scalar(
            select(func.count()).select_from(EventRow).where(EventRow.stream_id == stream_id)
        )


async def orders_of(db: Database, stream_id: str) -> dict[str, OrderRow]:
    async with db.session() as s:
        return {
            r.order_id: r for r in await s.scalars(select(OrderRow).where(OrderRow.stream_id == stream_id))
        }


async def test_concurrent_requests_share_transactions_and_duplicates_count_once(
    db: Database, stream_id: str
) -> None:
    commits: list[StreamCommit] = []

    async def after(batch: list[StreamCommit]) -> None:
        commits.extend(batch)

    writer = GroupCommitWriter(make_store(db), after_commit=after)
    await writer.start()
    # 40 requests of 50 events at once; every id is sent twice (by two different requests) and
    # some events have no id (never duplicates).
    requests = []
    for r in range(40):
        ids = range((r % 20) * 50, (r % 20) * 50 + 50)
        requests.append([rec(stream_id, id=f"e{i}", text=f"c{i}", ts=1000 + i) for i in ids])
    requests.append([rec(stream_id, text="no id") for _ in range(5)])
    results = await asyncio.gather(*(writer.submit(r) for r in requests))
    await writer.close()

    assert sum(r.accepted for r in results) == 1000 + 5
    assert sum(r.duplicates for r in results) == 1000
    assert results[-1].accepted == 5 and results[-1].duplicates == 0
    assert await count_events(db, stream_id) == 1005
    # Group commit: far fewer transactions than requests.
    assert writer.stats.flushes < len(requests) / 2
    assert writer.stats.most_requests_in_a_flush > 1
    # The after-commit step saw each new event exactly once, in arrival order within a request.
    seen = [r.event_id for c in commits for r in c.events if r.event_id]
    assert sorted(seen) == sorted({f"e{i}" for i in range(1000)})
    assert len(seen) == len(set(seen))

    # A re-send after the fact: everything is a duplicate, nothing changes.
    writer = GroupCommitWriter(make_store(db))
    await writer.start()
    again = await writer.submit(requests[0])
    await writer.close()
    assert (again.accepted, again.duplicates) == (0, 50)
    assert await count_events(db, stream_id) == 1005


async def test_the_stored_body_is_the_validated_event(db: Database, stream_id: str) -> None:
    writer = GroupCommitWriter(make_store(db))
    await writer.start()
    await writer.submit([order(stream_id, "o1", "paid", 5000, "x1", nickname="小林")])
    await writer.close()
    async with db.session() as s:
        row = await s.scalar(select(EventRow).where(EventRow.stream_id == stream_id))
    assert (row.event_id, row.type, row.ts_ms, row.user_id, row.received_ms) == (
        "x1",
        "order",
        5000,
        "buyer",
        1,
    )
    assert row.body == {
        "type": "order",
        "id": "x1",
        "order_id": "o1",
        "sku": "MASK-01",
        "qty": 1,
        "amount": "99.00",
        "status": "paid",
        "ts": 5000,
        "user_id": "buyer",
        "nickname": "小林",
    }


async def test_orders_move_by_latest_ts_and_keep_the_first_paid(db: Database, stream_id: str) -> None:
    commits: list[StreamCommit] = []

    async def after(batch: list[StreamCommit]) -> None:
        commits.extend(batch)

    writer = GroupCommitWriter(make_store(db), after_commit=after)
    await writer.start()
    # o1: created, then paid (two flushes); then a late, older "created" must not move it back.
    await writer.submit([order(stream_id, "o1", "created", 1000, "a1")])
    await writer.submit([order(stream_id, "o1", "paid", 2000, "a2", amount="88.50", nickname="小林")])
    await writer.submit([order(stream_id, "o1", "created", 1500, "a3")])
    # o2: paid and refunded in ONE request, out of order; o3: cancelled only.
    await writer.submit(
        [
            order(stream_id, "o2", "refunded", 9000, "b2"),
            order(stream_id, "o2", "paid", 8000, "b1"),
            order(stream_id, "o3", "cancelled", 100, "c1"),
        ]
    )
    # o1 paid again later (a platform resend with a new id): paid_ts stays the first one.
    await writer.submit([order(stream_id, "o1", "paid", 3000, "a4", amount="1.00")])
    # exact duplicate of a1: changes nothing, and is not reported to the after-commit step.
    dup = await writer.submit([order(stream_id, "o1", "created", 1000, "a1")])
    await writer.close()

    assert (dup.accepted, dup.duplicates) == (0, 1)
    rows = await orders_of(db, stream_id)
    o1, o2, o3 = rows["o1"], rows["o2"], rows["o3"]
    assert (o1.status, o1.status_ts_ms, o1.paid_ts_ms, o1.amount) == ("paid", 3000, 2000, Decimal("88.50"))
    assert (o2.status, o2.status_ts_ms, o2.paid_ts_ms) == ("refunded", 9000, 8000)
    assert (o3.status, o3.paid_ts_ms) == ("cancelled", None)
    became_paid = [c.order_id for commit in commits for c in commit.order_changes if c.became_paid]
    assert sorted(became_paid) == ["o1", "o2"]  # exactly once each
    first_paid = next(
        c for commit in commits for c in commit.order_changes if c.order_id == "o1" and c.became_paid
    )
    assert (
        first_paid.nickname == "小林"
        and first_paid.before is not None
        and first_paid.before.status == "created"
    )


async def test_backpressure_waits_then_overloads(db: Database, stream_id: str) -> None:
    release = asyncio.Event()

    async def slow_after(_: list[StreamCommit]) -> None:
        await release.wait()

    writer = GroupCommitWriter(
        make_store(db), after_commit=slow_after, max_pending_events=100, admit_timeout=0.3, pipeline_depth=1
    )
    await writer.start()
    first = asyncio.create_task(writer.submit([rec(stream_id, id=f"a{i}") for i in range(80)]))
    await asyncio.sleep(0.2)
    assert writer.pending_events == 80
    # 30 more do not fit: the caller waits, then is told to come back.
    with pytest.raises(Overloaded) as info:
        await writer.submit([rec(stream_id, id=f"b{i}") for i in range(30)])
    assert info.value.retry_after > 0
    assert writer.pending_events == 80 and writer.stats.overloaded == 1
    # A caller that fits is admitted; one that waits gets in once room is freed.
    waiting = asyncio.create_task(writer.submit([rec(stream_id, id=f"c{i}") for i in range(30)]))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    release.set()
    assert (await first).accepted == 80
    assert (await waiting).accepted == 30
    await writer.close()
    assert writer.pending_events == 0
    assert await count_events(db, stream_id) == 110


async def test_one_bad_request_does_not_fail_the_others(db: Database, stream_id: str) -> None:
    writer = GroupCommitWriter(make_store(db))
    await writer.start()
    good = [[rec(stream_id, id=f"g{r}-{i}") for i in range(20)] for r in range(5)]
    bad = [rec(stream_id, id=f"x{i}") for i in range(3)]
    for i, record in enumerate(bad):
        record.index = i
    bad[1].type = None  # type: ignore[assignment]  # violates NOT NULL: the database refuses it
    outcomes = await asyncio.gather(*(writer.submit(r) for r in [*good[:2], bad, *good[2:]]))
    await writer.close()
    assert [o.accepted for o in outcomes] == [20, 20, 2, 20, 20, 20]
    # The refused event is rejected alone, with the database's reason; its neighbours are stored.
    assert [index for index, _ in outcomes[2].refused] == [1]
    assert outcomes[2].refused[0][1].startswith("the database refused this event")
    assert outcomes[2].duplicates == 0 and writer.stats.refused_events == 1
    assert await count_events(db, stream_id) == 102


async def test_a_store_failure_is_not_taken_for_refused_events(sqlite_url: str) -> None:
    """An error about the database, not the data (here: its table is gone), fails the request as
    before (the sender sends again); it is never answered as events refused one by one."""
    await upgrade_async(sqlite_url)
    database = Database(sqlite_url)
    sid = await streams.create_stream(database, SCRIPT, "title: t\n")
    async with database.engine.begin() as conn:
        await conn.exec_driver_sql("ALTER TABLE events RENAME TO events_elsewhere")
    writer = GroupCommitWriter(make_store(database))
    await writer.start()
    try:
        with pytest.raises(Exception, match="no such table"):
            await writer.submit([rec(sid, id=f"e{i}") for i in range(4)])
        assert writer.stats.refused_events == 0 and writer.stats.split_requests == 0
    finally:
        await writer.close()
        await database.dispose()


async def test_close_drains_what_was_admitted(db: Database, stream_id: str) -> None:
    writer = GroupCommitWriter(make_store(db))
    await writer.start()
    tasks = [
        asyncio.create_task(writer.submit([rec(stream_id, id=f"d{r}-{i}") for i in range(10)]))
        for r in range(10)
    ]
    await asyncio.sleep(0)
    await writer.close()
    assert sum(r.accepted for r in await asyncio.gather(*tasks)) == 100
    assert await count_events(db, stream_id) == 100


POSTGRES_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@POSTGRES_ONLY
async def test_postgres_copies_straight_in_and_goes_the_checked_way_only_after_a_duplicate(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg = db
    from livecompanion.ingest import store_pg as store_module

    sid = await streams.create_stream(pg, SCRIPT, "title: t\n")
    store = make_store(pg)
    checked = 0
    plain_checked = store._insert_checked

    async def counting(conn, records):  # type: ignore[no-untyped-def]
        nonlocal checked
        checked += 1
        return await plain_checked(conn, records)

    monkeypatch.setattr(store, "_insert_checked", counting)
    writer = GroupCommitWriter(store)
    await writer.start()
    first = await writer.submit([rec(sid, id=f"e{i}", ts=1000 + i) for i in range(10)])
    assert (first.accepted, first.duplicates, checked, store.copies_refused) == (10, 0, 0, 0)
    # Five of these are stored already: the COPY is refused, rolled back, and the batch redone.
    second = await writer.submit([rec(sid, id=f"e{i}", ts=1000 + i) for i in range(5, 15)])
    assert (second.accepted, second.duplicates, checked, store.copies_refused) == (5, 5, 1, 1)
    # For a while the stream goes the checked way at once (a sender that re-sends goes on re-sending).
    third = await writer.submit([rec(sid, id=f"f{i}") for i in range(3)])
    assert (third.accepted, checked, store.copies_refused) == (3, 2, 1)
    monkeypatch.setattr(store_module, "CHECKED_AFTER_DUPLICATE_S", 0.0)
    fourth = await writer.submit([rec(sid, id=f"g{i}") for i in range(3)] + [rec(sid) for _ in range(2)])
    assert (fourth.accepted, checked, store.copies_refused) == (5, 2, 1)
    await writer.close()
    assert await count_events(pg, sid) == 10 + 5 + 3 + 5
    async with pg.session() as s:  # arrival order kept in `seq`, whichever way a batch went
        ids = list(await s.scalars(select(EventRow.event_id).where(EventRow.stream_id == sid)
                                   .order_by(EventRow.seq)))
    assert ids == [f"e{i}" for i in range(15)] + ["f0", "f1", "f2", "g0", "g1", "g2", None, None]


@POSTGRES_ONLY
async def test_two_instances_racing_with_the_same_ids_store_each_once(db: Database) -> None:
    pg = db
    sid = await streams.create_stream(pg, SCRIPT, "title: t\n")
    other = Database(db.url)
    writers = [GroupCommitWriter(make_store(pg)), GroupCommitWriter(make_store(other))]
    for w in writers:
        await w.start()
    # Each instance gets every batch (a bridge re-delivering to both), in its own order.
    batches = [[rec(sid, id=f"e{b}-{i}", ts=1000 + i) for i in range(200)] for b in range(12)]
    sends = [w.submit(batch) for w in writers for batch in (batches if w is writers[0] else batches[::-1])]
    results = await asyncio.gather(*sends)
    for w in writers:
        await w.close()
    await other.dispose()
    assert sum(r.accepted for r in results) == 12 * 200
    assert sum(r.duplicates for r in results) == 12 * 200
    assert await count_events(pg, sid) == 12 * 200
    assert sum(w.store.copies_refused for w in writers) >= 1  # somebody's COPY met the other's ids


@POSTGRES_ONLY
async def test_a_write_after_the_database_dropped_its_connections_goes_through(db: Database) -> None:
    import asyncpg

    from livecompanion.storage.pgconn import asyncpg_dsn

    sid = await streams.create_stream(db, SCRIPT, "title: t\n")
    store = make_store(db)
    writer = GroupCommitWriter(store)
    await writer.start()
    assert (await writer.submit([rec(sid, id=f"a{i}") for i in range(5)])).accepted == 5
    pids = [conn.get_server_pid() for conn in store._connections._idle]
    admin = await asyncpg.connect(asyncpg_dsn(db.url))
    for pid in pids:  # as after a PostgreSQL restart: the idle connections are dead
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    await admin.close()
    await asyncio.sleep(0.1)
    again = await writer.submit([rec(sid, id=f"b{i}") for i in range(5)] + [rec(sid)])
    await writer.close()
    assert (again.accepted, again.duplicates) == (6, 0)  # new connections, whether noticed or retried
    assert await count_events(db, sid) == 11


@POSTGRES_ONLY
async def test_the_checked_way_survives_a_refused_batch_on_the_same_connection(db: Database) -> None:
    import time

    sid = await streams.create_stream(db, SCRIPT, "title: t\n")
    store = make_store(db)
    store._duplicate_seen[sid] = time.monotonic()  # the stream just had a duplicate: checked way
    bad = [rec(sid, id="c")]
    bad[0].type = None  # type: ignore[assignment]
    # The first checked write on this connection creates its temporary table, then meets the NULL
    # type: the transaction is rolled back, and the table with it.
    with pytest.raises(Exception):  # noqa: B017 - the database refuses it (NOT NULL)
        await store.write(bad)
    new, _ = await store.write([rec(sid, id="d")])  # the checked way again, on the same connection
    await store.close()
    assert new == {0}
    assert await count_events(db, sid) == 1


async def test_a_flush_of_several_rooms_orders_and_two_writers_crossing_them(db: Database) -> None:
    """A flush holds orders of several rooms: each room's orders end as they would alone (the order
    step takes all rooms at once); two stores writing the same orders of three rooms at the same
    time in opposite orders neither deadlock nor lose a payment (rows are locked in one order)."""
    rooms = [await streams.create_stream(db, SCRIPT, "title: t\n") for _ in range(3)]
    store = make_store(db)
    try:
        created = [order(s, f"o{i}", "created", 1000 + i, eid=f"{s}-c{i}") for s in rooms for i in range(5)]
        new, commits = await store.write(created)
        assert len(new) == 15 and {c.stream_id for c in commits} == set(rooms)
        # One flush: room 0 pays o0-o2, room 1 cancels o1, room 2 creates o9 and pays o4.
        mixed = [order(rooms[0], f"o{i}", "paid", 2000 + i, eid=f"p{i}") for i in range(3)]
        mixed += [order(rooms[1], "o1", "cancelled", 2100, eid="x1"), order(rooms[2], "o9", "created", 2200, eid="c9"),
                  order(rooms[2], "o4", "paid", 2300, eid="p4")]
        new, commits = await store.write(mixed)
        assert len(new) == 6
        by_room = {c.stream_id: c for c in commits}
        assert set(by_room) == set(rooms)
        rows = [await orders_of(db, s) for s in rooms]
        assert {oid for oid, r in rows[0].items() if r.status == "paid"} == {"o0", "o1", "o2"}
        assert rows[1]["o1"].status == "cancelled" and rows[1]["o0"].status == "created"
        assert rows[2]["o9"].status == "created" and rows[2]["o4"].status == "paid" and len(rows[2]) == 6
    finally:
        await store.close()

    first, second = make_store(db), make_store(db)
    try:
        paid = [order(s, f"n{i}", "paid", 5000 + i, eid=f"{s}-np{i}") for s in rooms for i in range(20)]
        made = [order(s, f"n{i}", "created", 4000 + i, eid=f"{s}-nc{i}") for s in rooms for i in range(20)]
        for _ in range(3):
            await asyncio.gather(first.write(list(made)), second.write(list(reversed(paid))))
        for s in rooms:
            rows_of = await orders_of(db, s)
            news = {oid: r for oid, r in rows_of.items() if oid.startswith("n")}
            assert len(news) == 20 and all(r.status == "paid" for r in news.values()), s
    finally:
        await first.close()
        await second.close()


class WatchedStore(PostgresStore):
    """The real PostgreSQL store, watched: how many writes are in flight at once and what each
    wrote; the first write waits for `release` before it starts (a slow flush)."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.in_flight = self.most_in_flight = 0
        self.sizes: list[int] = []
        self.release = asyncio.Event()

    async def write(self, records: list[EventRecord]) -> tuple[set[int], list[StreamCommit]]:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if not self.sizes:
                self.sizes.append(0)
                await self.release.wait()
                self.sizes.pop()
            self.sizes.append(len(records))
            return await super().write(records)
        finally:
            self.in_flight -= 1


async def test_requests_that_come_during_a_flush_go_together_in_the_next(postgres_url: str) -> None:
    """Ten rooms' batches spread over each tenth of a second found the first flush busy and each
    took the second connection: 3.5x the transactions (issue 20). One flush at a time unless a
    backlog waits: the batches that come while it runs are written together after it."""
    await upgrade_async(postgres_url)
    db = Database(postgres_url)
    sid = await streams.create_stream(db, SCRIPT, "title: t\n")
    store = WatchedStore(db)
    writer = GroupCommitWriter(store, second_flush_at=1_000)
    await writer.start()
    first = asyncio.create_task(writer.submit([rec(sid, id=f"a{i}") for i in range(50)]))
    await asyncio.sleep(0.05)  # the first flush has started and waits
    later = [asyncio.create_task(writer.submit([rec(sid, id=f"{r}{i}") for i in range(50)])) for r in "bcd"]
    await asyncio.sleep(0.05)
    store.release.set()
    results = await asyncio.gather(first, *later)
    assert [r.accepted for r in results] == [50, 50, 50, 50]
    assert store.most_in_flight == 1 and store.sizes == [50, 150]

    # A backlog (here 1,000 events or more queued) is shared between two flushes side by side.
    store.sizes, store.release = [], asyncio.Event()
    store.release.set()
    backlog = [writer.submit([rec(sid, id=f"x{r}-{i}") for i in range(100)]) for r in range(12)]
    assert sum(r.accepted for r in await asyncio.gather(*backlog)) == 1_200
    assert store.most_in_flight == 2, (store.sizes, writer.stats)
    await writer.close()
    await db.dispose()
