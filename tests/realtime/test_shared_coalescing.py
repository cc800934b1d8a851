"""Coalesced pushes shared by instances through Redis (push_gate.py): the pushes of a key do not grow
with the number of instances, every change still reaches the screens, and urgent pushes go at once.

Two coalescers on one Redis prefix stand for two instances (each its own Redis connection and lease
holder); the value they push is one shared number, as a sale's stock is shared in Redis."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis import asyncio as aioredis

from livecompanion.realtime.coalesce import Coalescer
from livecompanion.realtime.push_gate import push_gate_of
from livecompanion.storage.redis_link import RespLink

INTERVAL = 0.2
KEY = ("stream1", "sale1")


@pytest.fixture
async def clients(redis_url: str, redis_prefix: str) -> AsyncIterator[list[aioredis.Redis]]:
    made = [aioredis.from_url(redis_url) for _ in range(2)]
    yield made
    keys = [key async for key in made[0].scan_iter(match=redis_prefix + "*")]
    if keys:
        await made[0].delete(*keys)
    for client in made:
        await client.aclose()


class Instances:
    """Two coalescers of one key; `value` is the shared number both read."""

    def __init__(self, clients: list[aioredis.Redis] | None, prefix: str) -> None:
        self.value = 0
        self.pushed: list[tuple[int, int, float]] = []  # (instance, value, when)
        # The second instance runs the lease script on the hub's lean connection, the first through
        # redis-py: both ways must share one limit.
        self.links = [None, None if clients is None else RespLink.of(clients[1])]
        self.boards = [
            Coalescer(self._read, self._pusher(i), interval=INTERVAL, name=f"screens-{i}",
                      gate=None if clients is None else push_gate_of(clients[i], prefix, "flash_sales",
                                                                     self.links[i]))
            for i in range(2)
        ]

    async def _read(self, key: Any) -> tuple[str, int]:
        return key[0], self.value

    def _pusher(self, i: int) -> Any:
        async def push(stream_id: str, key: Any, value: int) -> None:
            self.pushed.append((i, value, asyncio.get_running_loop().time()))
        return push

    async def sell(self, seconds: float, every: float = 0.01) -> None:
        """Both instances take claims (each touches the key), as a crowd split over two does."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        n = 0
        while loop.time() < end:
            self.value += 1
            self.boards[n % 2].touch(KEY)
            n += 1
            await asyncio.sleep(every)

    async def close(self) -> None:
        for board in self.boards:
            await board.close()
        for link in self.links:
            if link is not None:
                await link.close()


async def test_two_instances_push_a_key_as_often_as_one(clients: list[aioredis.Redis], redis_prefix: str) -> None:
    alone, shared = Instances(None, redis_prefix), Instances(clients, redis_prefix)
    try:
        await asyncio.gather(alone.sell(2.0), shared.sell(2.0))
        await asyncio.sleep(3 * INTERVAL)  # the last changes and the re-checks
    finally:
        await alone.close()
        await shared.close()
    # Each instance on its own: about one push per interval EACH (2 s / 0.2 s = 10 each).
    assert len(alone.pushed) >= 16, alone.pushed
    # Shared: one push per interval between them (and one last re-check), not twice as many.
    assert len(shared.pushed) <= 2.0 / INTERVAL + 3, shared.pushed
    assert len(shared.pushed) <= 0.7 * len(alone.pushed), (len(shared.pushed), len(alone.pushed))
    assert {i for i, _, _ in shared.pushed} == {0, 1}  # both instances took their turn
    # Never two pushes of the key closer than the interval (with a little timer slack) ...
    times = sorted(t for _, _, t in shared.pushed)
    assert min(b - a for a, b in itertools.pairwise(times)) >= INTERVAL * 0.8
    # ... and the screens end on the latest value.
    assert max(shared.pushed, key=lambda p: p[2])[1] == shared.value


async def test_a_change_another_instance_held_back_still_arrives(
        clients: list[aioredis.Redis], redis_prefix: str) -> None:
    shared = Instances(clients, redis_prefix)
    try:
        shared.value = 1
        shared.boards[0].touch(KEY)
        await asyncio.sleep(0.05)  # instance 0 has pushed and holds the lease for INTERVAL
        assert [v for _, v, _ in shared.pushed] == [1]
        shared.value = 2
        shared.boards[1].touch(KEY)  # refused now: must go when the lease ends, not be lost
        await asyncio.sleep(INTERVAL * 2.5)
        # The screens have the new value within about one interval: instance 0's re-check after its
        # push may be the one that carries it (it then holds the lease once more) ...
        assert shared.pushed[-1][1] == 2
        assert shared.boards[1].refused >= 1
        # ... and instance 1 still makes its own push once the leases stop coming: its change was
        # kept, not dropped (instance 0 re-checks once without a change, then lets the lease go).
        loop = asyncio.get_running_loop()
        deadline = loop.time() + INTERVAL * 10
        while shared.boards[1].pushes == 0 and loop.time() < deadline:
            await asyncio.sleep(INTERVAL / 4)
        assert shared.boards[1].pushes >= 1, (shared.boards[1].refused, shared.pushed)
        assert shared.pushed[-1][1] == 2
    finally:
        await shared.close()


async def test_an_urgent_push_takes_the_lease_at_once(clients: list[aioredis.Redis], redis_prefix: str) -> None:
    shared = Instances(clients, redis_prefix)
    try:
        shared.value = 1
        shared.boards[0].touch(KEY)
        await asyncio.sleep(0.05)
        loop = asyncio.get_running_loop()
        shared.value = 0  # sold out
        touched = loop.time()
        shared.boards[1].touch(KEY, urgent=True)
        await asyncio.sleep(0.1)
        late = [t - touched for i, v, t in shared.pushed if i == 1 and v == 0]
        assert late and late[0] < INTERVAL / 2, shared.pushed
    finally:
        await shared.close()


async def test_push_now_is_on_the_screens_when_it_returns(clients: list[aioredis.Redis], redis_prefix: str) -> None:
    shared = Instances(clients, redis_prefix)
    try:
        shared.value = 5
        shared.boards[1].touch(KEY)
        await asyncio.sleep(0.05)  # instance 1 holds the lease
        shared.value = 0  # stopped
        await shared.boards[0].push_now(KEY)
        assert shared.pushed[-1][:2] == (0, 0)  # no waiting out the other's lease
    finally:
        await shared.close()


async def test_a_flush_that_read_before_a_stop_does_not_overtake_push_now() -> None:
    """The coalescer read the stock while the sale was live; the stop's push_now comes while that
    read is still out. The screens must end on the stopped value, not on the older read."""
    value = {"now": "live"}
    pushed: list[str] = []
    reading, answer, two_pushed = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def read(key: Any) -> tuple[str, str]:
        seen = value["now"]
        if not reading.is_set():
            reading.set()
            await answer.wait()  # the first read is slow (a busy Redis): it answers when let
        return "stream1", seen

    async def push(stream_id: str, key: Any, seen: str) -> None:
        pushed.append(seen)
        if len(pushed) == 2:
            two_pushed.set()

    board = Coalescer(read, push, interval=INTERVAL)
    try:
        board.touch(KEY)
        await reading.wait()  # the flush has read "live" and not pushed it yet
        value["now"] = "stopped"
        stop = asyncio.create_task(board.push_now(KEY))
        for _ in range(10):
            await asyncio.sleep(0)  # push_now goes as far as it can while that read is out
        answer.set()
        await stop
        assert pushed[-1] == "stopped", pushed
        await two_pushed.wait()  # the flush's push too, wherever it went
        assert pushed[:2] == ["live", "stopped"], pushed
    finally:
        await board.close()
