"""Ingest on PostgreSQL + Redis with two service instances (real processes): duplicates across
instances counted once, shared live numbers, coalescing across instances, and kill -9 after an ack."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import connect

from tests.conftest import ServerProcess, start_server
from tests.ingest.ingest_client import create_stream, order, post_events, stored_events, stored_orders
from tests.realtime.screen import Screen


def comment(eid: str, text: str, user: str) -> dict[str, Any]:
    return {"type": "comment", "id": eid, "user_id": user, "text": text}


async def test_two_instances_share_the_record_and_the_live_numbers(
    server_factory: Any, postgres_url: str, redis_url: str
) -> None:
    a: ServerProcess = server_factory(database_url=postgres_url, redis_url=redis_url)
    tokens = a.tokens
    b: ServerProcess = server_factory(database_url=postgres_url, redis_url=redis_url, tokens=tokens)
    sid = create_stream(a)
    screen = await Screen.open(a.ws_url, sid, tokens["viewer"])
    now = int(time.time() * 1000)

    async def send(server: ServerProcess, n: int) -> list[dict[str, Any]]:
        answers = []
        async with httpx.AsyncClient(
            base_url=server.base_url, headers=server.headers("ingest"), timeout=30
        ) as c:
            for k in range(6):
                # Orders first: the room sells, so 想要 counts as buying intent (issue 18).
                batch = [order(f"O{n}-{k}", "paid", now + k, amount="20", nickname="王小明")]
                # The same order event is sent to BOTH instances: only one of them may count it.
                batch.append(order(f"S-{k}", "paid", now + k, eid=f"shared-{k}", amount="5"))
                batch += [
                    comment(f"c{n}-{k}-{i}", "想要" if i % 2 else "發什麼快遞？", f"u{n}-{i}")
                    for i in range(30)
                ]
                batch.append(
                    {
                        "type": "viewer_count",
                        "count": 500 + 10 * k + n,
                        "ts": now + 10 * k + n,
                        "id": f"vc-{n}-{k}",
                    }
                )
                r = await c.post(f"/api/streams/{sid}/events", json=batch)
                assert r.status_code == 200, r.text
                answers.append(r.json())
                await asyncio.sleep(0.1)
        return answers

    reader = asyncio.create_task(_drain(screen))
    started = time.monotonic()
    results = await asyncio.gather(send(a, 0), send(b, 1))
    await asyncio.sleep(1.0)
    reader.cancel()
    elapsed = time.monotonic() - started
    answers = [x for r in results for x in r]
    shared_accepted = 6 * 2 * 33 - sum(x["duplicates"] for x in answers)
    assert sum(x["accepted"] for x in answers) == shared_accepted == 6 * 2 * 32 + 6
    assert await stored_events(postgres_url, sid) == 6 * 2 * 32 + 6

    metrics = screen.state["metrics"]
    assert metrics["orders"] == 12 + 6  # each instance's own orders, and each shared order once
    assert metrics["gmv"] == 12 * 20 + 6 * 5
    assert metrics["comments_per_min"] == 2 * 6 * 30
    assert metrics["intent"]["想要"] == 2 * 6 * 15
    assert metrics["viewers"] == 500 + 50 + 1
    # 15 distinct askers per instance, each asking 6 times: counted once each, lists merged.
    assert screen.state["questions"][0]["count"] == 2 * 15
    # Both instances publish, but the stream gets at most ~4 patches a second between them.
    assert screen.rev is not None and screen.gaps == 0
    assert screen.patches <= elapsed * 5 + 2, (screen.patches, elapsed)
    await screen.close()

    # A screen on the OTHER instance sees the same numbers.
    other = await Screen.open(b.ws_url, sid, tokens["viewer"])
    assert other.state["metrics"]["orders"] == 18 and other.state["metrics"]["gmv"] == 270
    await other.close()
    orders = await stored_orders(postgres_url, sid)
    assert len(orders) == 18 and all(status == "paid" for status, _ in orders.values())


async def _drain(screen: Screen) -> None:
    screen.patches = 0  # type: ignore[attr-defined]
    while True:
        try:
            message = await screen.receive(timeout=30)
        except TimeoutError:
            return
        if message["type"] == "patch":
            screen.patches += 1  # type: ignore[attr-defined]


async def test_kill_9_after_ack_on_postgres(tmp_path: Any, postgres_url: str) -> None:
    server = start_server(tmp_path, database_url=postgres_url)
    try:
        sid = create_stream(server)
        url = f"{server.ws_url}/ws/streams/{sid}/ingest?token={server.tokens['ingest']}"
        async with connect(url) as ws:
            for k in range(4):
                await ws.send(orjson.dumps([comment(f"k{k}-{i}", "hi", "u") for i in range(250)]).decode())
            acks = [orjson.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(4)]
            server.process.kill()
        server.process.wait(10)
    finally:
        server.stop()
    assert sum(a["accepted"] for a in acks) == 1000
    assert await stored_events(postgres_url, sid) == 1000
    assert post_events  # the HTTP path is covered on SQLite; here the point is durability on PostgreSQL
