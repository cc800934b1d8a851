"""The after-commit steps of one flush: the streams side by side, each stream's commits in order.

A flush of a busy evening holds a commit of each of ten rooms; their order and comment steps did one
room after the other, so every caller of the flush waited for all ten rooms' lookups (issue 20).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from livecompanion.events import parse_event
from livecompanion.ingest.rows import StreamCommit, record_of
from livecompanion.ingest.service import IngestService
from livecompanion.ingest.store import make_store
from livecompanion.scripts.models import Script
from livecompanion.storage import streams
from tests.ingest.conftest import core_on

SCRIPT = Script.model_validate({"title": "t", "segments": [{"kind": "opening", "target": "5m"}]})


@pytest.fixture
async def services(sqlite_url: str) -> AsyncIterator[Any]:
    async with core_on(sqlite_url) as core:
        yield core


def _commit(stream_id: str, order_ids: list[str]) -> StreamCommit:
    now = int(time.time() * 1000)
    records = [
        record_of(stream_id, parse_event({"type": "order", "id": f"e-{o}", "order_id": o, "sku": "A", "qty": 1,
                                          "amount": 1, "status": "paid", "user_id": "b", "ts": now}, now), now)
        for o in order_ids
    ]
    return StreamCommit(stream_id, records)


async def test_the_streams_of_a_flush_do_not_wait_for_each_other(services: Any) -> None:
    a = await streams.create_stream(services.db, SCRIPT, "title: t\n")
    b = await streams.create_stream(services.db, SCRIPT, "title: t\n")
    running: set[str] = set()
    together: list[set[str]] = []
    told: list[tuple[str, list[str]]] = []

    async def on_orders(stream_id: str, orders: list[Any]) -> None:
        running.add(stream_id)
        together.append(set(running))
        for _ in range(3):  # a lookup's round trips: the other stream's step may run meanwhile
            await asyncio.sleep(0)
            together.append(set(running))
        told.append((stream_id, [o.order_id for o in orders]))
        running.discard(stream_id)

    ingest = IngestService(services, store=make_store(services.db), order_listeners=[on_orders])
    # One flush: two commits of stream a (written apart, e.g. a split flush) and one of stream b.
    await ingest._after_commit([_commit(a, ["a1"]), _commit(b, ["b1"]), _commit(a, ["a2", "a3"])])
    assert {a, b} in together  # before: a's steps, then b's; never both at once
    # a's orders in commit order (one call: a stream's orders of a flush go to the listener together)
    assert [orders for sid, orders in told if sid == a] == [["a1", "a2", "a3"]]
    assert [orders for sid, orders in told if sid == b] == [["b1"]]
    await ingest.live.close()


async def test_the_answer_does_not_wait_for_the_order_step(services: Any) -> None:
    """An acknowledgement means stored (issue 20): the order listeners (a cancel releasing a claimed
    unit) run after it, in commit order, and a close waits for them."""
    a = await streams.create_stream(services.db, SCRIPT, "title: t\n")
    release = asyncio.Event()
    told: list[list[str]] = []

    async def on_orders(stream_id: str, orders: list[Any]) -> None:
        await release.wait()  # a slow lookup
        told.append([o.order_id for o in orders])

    ingest = IngestService(services, store=make_store(services.db), order_listeners=[on_orders])
    await ingest.start()
    now = int(time.time() * 1000)
    batch = [{"type": "order", "id": f"e{i}", "order_id": f"o{i}", "sku": "A", "qty": 1, "amount": 1,
              "status": "cancelled", "user_id": "b", "ts": now} for i in range(2)]
    try:
        first = await asyncio.wait_for(ingest.ingest_events(a, batch[:1]), 10)  # before: waited for the step
        second = await asyncio.wait_for(ingest.ingest_events(a, batch[1:]), 10)
        assert (first.accepted, second.accepted) == (1, 1)
        assert told == [] and ingest.orders_pending() >= 1
    finally:
        release.set()
        await ingest.close()
    assert [o for orders in told for o in orders] == ["o0", "o1"]  # in commit order, none lost
    assert ingest.orders_pending() == 0


async def test_commits_queued_for_live_numbers_are_recorded_together(services: Any) -> None:
    """The live-numbers recorder takes what queued while it worked, one record a stream (issue 20:
    one at a time, its queue filled to 1,000 with ten rooms and the writer waited)."""
    a = await streams.create_stream(services.db, SCRIPT, "title: t\n")
    b = await streams.create_stream(services.db, SCRIPT, "title: t\n")
    ingest = IngestService(services, store=make_store(services.db))
    first_in, release = asyncio.Event(), asyncio.Event()
    recorded: list[tuple[str, list[str]]] = []

    async def record(commit: StreamCommit) -> None:
        recorded.append((commit.stream_id, [r.event_id or "" for r in commit.events]))
        first_in.set()
        await release.wait()  # slow tallies

    ingest.live.record = record  # type: ignore[method-assign]
    await ingest.start()
    try:
        await ingest._after_commit([_commit(a, ["a1"])])
        await first_in.wait()
        for commit in ([_commit(a, ["a2"])], [_commit(b, ["b1"])], [_commit(a, ["a3", "a4"])]):
            await ingest._after_commit(commit)
        release.set()
        while ingest.live_pending():
            await asyncio.sleep(0.01)
    finally:
        release.set()
        await ingest.close()
    assert recorded == [(a, ["e-a1"]), (a, ["e-a2", "e-a3", "e-a4"]), (b, ["e-b1"])]
