"""The viewer feed protocol over a stand-in transport, on both hubs."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import pytest

from livecompanion.realtime import set_op
from livecompanion.realtime.feed import SlowClient, serve_feed
from livecompanion.realtime.hub import Message


class Client:
    """A socket seen from the server: what it was sent, and what it says."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[str | None] = asyncio.Queue()
        self.block = asyncio.Event()
        self.block.set()

    async def send(self, text: str) -> None:
        await self.block.wait()
        self.inbox.put_nowait(orjson.loads(text))

    async def receive(self) -> str:
        text = await self.outbox.get()
        if text is None:
            raise ConnectionError("client left")
        return text

    async def next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.inbox.get(), 3)


async def start(hub, client: Client, loads: list[int] | None = None, **kw) -> asyncio.Task[None]:  # type: ignore[no-untyped-def]
    async def load() -> tuple[int, dict[str, Any]]:
        if loads is not None:
            loads.append(1)
        await hub.load("s1", {"n": 0})
        return await hub.snapshot("s1")

    task = asyncio.create_task(serve_feed(hub, "s1", client.send, client.receive, load, **kw))
    return task


async def test_snapshot_first_then_each_rev_in_turn(hub) -> None:  # type: ignore[no-untyped-def]
    loads: list[int] = []
    client = Client()
    task = await start(hub, client, loads)
    first = await client.next()
    assert first["type"] == "snapshot" and first["rev"] == 1 and first["state"] == {"n": 0}
    assert loads == [1]  # the document was missing, so the feed had it rebuilt
    assert abs(first["server_time"] - time.time() * 1000) < 5000
    for i in range(3):
        await hub.apply("s1", [set_op(["n"], i + 1)])
    patches = [await client.next() for _ in range(3)]
    assert [p["rev"] for p in patches] == [2, 3, 4]
    assert patches[2] == {"type": "patch", "rev": 4, "server_time": patches[2]["server_time"],
                          "ops": [{"op": "set", "path": ["n"], "value": 3}]}
    client.outbox.put_nowait(None)
    await asyncio.wait_for(task, 3)
    assert hub.subscriber_count("s1") == 0


async def test_late_joiner_starts_from_the_current_state(hub) -> None:  # type: ignore[no-untyped-def]
    await hub.load("s1", {"n": 0})
    for i in range(5):
        await hub.apply("s1", [set_op(["n"], i)])
    client = Client()
    task = await start(hub, client)
    snap = await client.next()
    assert (snap["rev"], snap["state"]) == (6, {"n": 4})
    await hub.apply("s1", [set_op(["n"], 9)])
    assert (await client.next())["rev"] == 7
    task.cancel()


async def test_client_resync_request_gets_a_fresh_snapshot(hub) -> None:  # type: ignore[no-untyped-def]
    await hub.load("s1", {"n": 0})
    client = Client()
    task = await start(hub, client)
    await client.next()
    await hub.apply("s1", [set_op(["n"], 1)])
    await client.next()
    client.outbox.put_nowait("not json")  # ignored, the socket stays
    client.outbox.put_nowait('{"type": "resync"}')
    snap = await client.next()
    assert snap["type"] == "snapshot" and snap["rev"] == 2 and snap["state"] == {"n": 1}
    task.cancel()


async def test_a_hole_in_the_revs_turns_into_a_snapshot(hub) -> None:  # type: ignore[no-untyped-def]
    await hub.load("s1", {"n": 0})
    client = Client()
    task = await start(hub, client)
    await client.next()
    await hub.apply("s1", [set_op(["n"], 1)])
    assert (await client.next())["rev"] == 2
    # A patch that skips a rev (as when pub/sub lost one): the feed must not forward it as is.
    hub._fan_out("s1", Message(type="patch", rev=5, server_time=0, ops=[]))
    snap = await client.next()
    assert snap["type"] == "snapshot" and snap["rev"] == 2
    await hub.apply("s1", [set_op(["n"], 2)])
    assert (await client.next())["rev"] == 3
    task.cancel()


async def test_a_slow_socket_is_collapsed_to_one_snapshot_and_others_flow(hub) -> None:  # type: ignore[no-untyped-def]
    await hub.load("s1", {"n": 0})
    slow, fast = Client(), Client()
    tasks = [await start(hub, slow, queue=8), await start(hub, fast)]
    await slow.next()
    await fast.next()
    slow.block.clear()  # this screen stops reading
    for i in range(50):
        await hub.apply("s1", [set_op(["n"], i)])
        await asyncio.sleep(0)
    fast_revs = [(await fast.next())["rev"] for _ in range(50)]
    assert fast_revs == list(range(2, 52))
    slow.block.set()
    got = [await slow.next()]
    while got[-1]["rev"] < 51:
        got.append(await slow.next())
    assert any(m["type"] == "snapshot" for m in got)
    assert len(got) < 15  # not all 50 patches: the backlog was dropped for a snapshot
    revs = [m["rev"] for m in got]
    assert revs == sorted(revs)
    for task in tasks:
        task.cancel()


async def test_a_socket_that_never_reads_is_closed(hub, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("livecompanion.realtime.feed.SEND_TIMEOUT", 0.2)
    await hub.load("s1", {"n": 0})
    client = Client()
    client.block.clear()
    task = await start(hub, client)
    with pytest.raises(SlowClient):  # the server side gives up on this socket
        await asyncio.wait_for(task, 3)
    assert hub.subscriber_count("s1") == 0


async def test_a_patch_while_the_feed_fetches_a_snapshot_waits_for_it(hub) -> None:  # type: ignore[no-untyped-def]
    """A socket that can take a patch at once (send_now) is offered one only while its feed waits
    with nothing queued: a patch fanned out while the feed is getting a snapshot goes after it."""
    gate = asyncio.Event()
    direct: list[int] = []
    client = Client()

    def send_now(message: Message) -> bool:
        direct.append(message["rev"])
        client.inbox.put_nowait(orjson.loads(message.text()))
        return True

    async def load() -> tuple[int, dict[str, Any]]:
        await gate.wait()  # the document is being rebuilt from the record
        await hub.load("s1", {"n": 9})
        return await hub.snapshot("s1")

    await hub.load("s1", {"n": 0})
    task = asyncio.create_task(serve_feed(hub, "s1", client.send, client.receive, load, send_now=send_now))
    assert (await client.next())["type"] == "snapshot"
    await hub.apply("s1", [set_op(["n"], 1)])
    assert (await client.next())["rev"] == 2 and direct == [2]  # the next patch went at once
    await hub.drop("s1")
    client.outbox.put_nowait('{"type": "resync"}')
    await asyncio.sleep(0.05)  # the feed is in load(), waiting for the gate
    hub._fan_out("s1", Message(type="patch", rev=3, server_time=0, ops=[set_op(["n"], 2)]))
    await asyncio.sleep(0.05)
    gate.set()
    assert (await client.next())["type"] == "snapshot"  # not the patch: it waited for the snapshot
    assert direct == [2]
    task.cancel()
