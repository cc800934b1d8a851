"""POST /api/streams/{id}/events and WS /ws/streams/{id}/ingest against a real server process
(SQLite, one instance): validation, duplicates, NDJSON, limits, acks, orders, live numbers, kill -9."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.conftest import ServerProcess, start_server
from tests.ingest.ingest_client import (
    create_stream,
    order,
    post_events,
    sqlite_url_of,
    stored_events,
    stored_ids,
    stored_orders,
)
from tests.realtime.screen import Screen


def comment(eid: str | None, text: str = "好看", user: str = "u1", **more: object) -> dict[str, object]:
    event: dict[str, object] = {"type": "comment", "user_id": user, "text": text, **more}
    if eid is not None:
        event["id"] = eid
    return event


async def test_batches_bad_events_duplicates_ndjson_and_limits(server: ServerProcess, tmp_path: Path) -> None:
    sid = create_stream(server)
    batch = [
        comment("c1"),
        {"type": "comment", "user_id": "u2"},  # no text
        comment("c2", ts="2026-01-01T10:00:00"),  # ts without offset
        comment("c1", text="same id again"),  # duplicate within the batch
        "not an object",
        comment(None, text="no id: never a duplicate"),
        {"type": "viewer_count", "count": 120, "id": "v1"},
    ]
    r = post_events(server, sid, batch)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["accepted"], body["duplicates"]) == (3, 1)
    assert [x["index"] for x in body["rejected"]] == [1, 2, 4]
    assert "text" in body["rejected"][0]["reason"] and "offset" in body["rejected"][1]["reason"]
    assert "object" in body["rejected"][2]["reason"]

    # The same batch again: everything with an id is a duplicate; the id-less one is new again.
    again = post_events(server, sid, batch).json()
    assert (again["accepted"], again["duplicates"]) == (1, 3)

    # NDJSON, by content type and sniffed; a bad line is rejected with its line number.
    lines = (
        b"\n".join(orjson.dumps(comment(f"n{i}")) for i in range(3))
        + b"\n{broken\n"
        + orjson.dumps(comment("n3"))
    )
    r = post_events(server, sid, lines, content_type="application/x-ndjson")
    assert r.status_code == 200 and r.json()["accepted"] == 4
    assert r.json()["rejected"][0]["index"] == 3 and r.json()["rejected"][0]["line"] == 4
    plain = b"\n".join(orjson.dumps(comment(f"s{i}")) for i in range(4))
    sniffed = post_events(server, sid, plain, content_type="text/plain")
    assert sniffed.json()["accepted"] == 4 and sniffed.json()["rejected"] == []
    single = post_events(server, sid, comment("one"))
    assert single.json() == {"accepted": 1, "duplicates": 0, "rejected": []}

    # Limits: 10,000 events, 5 MB. Nothing of an oversized request is stored.
    too_many = post_events(server, sid, [comment(f"m{i}") for i in range(10_001)])
    assert too_many.status_code == 413 and "10,000" in too_many.json()["detail"]
    huge = post_events(server, sid, b"[" + b" " * (5 * 1024 * 1024) + b"]", content_type="application/json")
    assert huge.status_code == 413
    exactly = post_events(server, sid, [comment(f"ok{i}") for i in range(10_000)])
    assert exactly.status_code == 200 and exactly.json()["accepted"] == 10_000

    # Unknown stream, missing or wrong token.
    assert post_events(server, "nope", [comment("x")]).status_code == 404
    assert post_events(server, sid, [comment("x")], role="viewer").status_code == 403
    assert httpx.post(f"{server.base_url}/api/streams/{sid}/events", json=[]).status_code == 401

    stats = httpx.get(f"{server.base_url}/api/ingest/stats", headers=server.headers("operator")).json()
    assert stats["writer"]["events"] >= 10_000 + 13 and stats["pending_events"] == 0
    assert stats["answer_ms"]["count"] >= 5 and 0 <= stats["answer_ms"]["p50"] <= stats["answer_ms"]["p99"]
    assert (
        httpx.get(f"{server.base_url}/api/ingest/stats", headers=server.headers("ingest")).status_code == 403
    )

    ids = await stored_ids(sqlite_url_of(tmp_path), sid)
    assert {"c1", "v1", "n0", "n3", "s0", "one", "ok9999"} <= ids and "m0" not in ids and "c2" not in ids
    assert await stored_events(sqlite_url_of(tmp_path), sid) == 3 + 1 + 4 + 4 + 1 + 10_000


async def test_socket_acks_in_order_with_client_seq(server: ServerProcess, tmp_path: Path) -> None:
    sid = create_stream(server)
    url = f"{server.ws_url}/ws/streams/{sid}/ingest?token={server.tokens['ingest']}"
    async with connect(url, max_size=None) as ws:
        # Pipelined: five messages sent before reading any ack; acks come back in order.
        await ws.send(orjson.dumps(comment("w1")).decode())  # one event -> seq 1
        await ws.send(orjson.dumps([comment("w2"), comment("w1"), {"type": "nope"}]).decode())  # seq 2
        await ws.send(orjson.dumps({"seq": 900, "events": [comment("w3"), comment("w4")]}).decode())
        await ws.send(b"\n".join(orjson.dumps(comment(f"w{i}")) for i in (5, 6)))  # NDJSON, binary frame
        await ws.send("x" * (1024 * 1024 + 1))  # over 1 MB
        await ws.send(orjson.dumps({"seq": 901, "events": [comment("w7")]}).decode())
        acks = [orjson.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(6)]
    assert [a["seq"] for a in acks] == [1, 2, 900, 4, 5, 901]
    assert [a["type"] for a in acks] == ["ack", "ack", "ack", "ack", "error", "ack"]
    assert (acks[1]["accepted"], acks[1]["duplicates"], acks[1]["rejected"][0]["index"]) == (1, 1, 2)
    assert acks[2]["accepted"] == 2 and acks[3]["accepted"] == 2 and acks[5]["accepted"] == 1
    assert acks[4]["status"] == 413
    assert await stored_ids(sqlite_url_of(tmp_path), sid) == {f"w{i}" for i in range(1, 8)}

    # A re-sent message after a reconnect: all duplicates.
    async with connect(url) as ws:
        await ws.send(orjson.dumps([comment("w1"), comment("w2")]).decode())
        ack = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
    assert (ack["seq"], ack["accepted"], ack["duplicates"]) == (1, 0, 2)

    # Unknown stream: told so, then closed. Wrong token: refused.
    async with connect(f"{server.ws_url}/ws/streams/nope/ingest?token={server.tokens['ingest']}") as ws:
        error = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        assert error["status"] == 404
        await asyncio.wait_for(ws.wait_closed(), 10)
        assert ws.close_code == 4404
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{server.ws_url}/ws/streams/{sid}/ingest?token={server.tokens['viewer']}") as ws:
            await asyncio.wait_for(ws.recv(), 10)
    assert refused.value.response.status_code == 403


async def test_orders_and_live_numbers_reach_a_screen_coalesced(
    server: ServerProcess, tmp_path: Path
) -> None:
    sid = create_stream(server)
    screen = await Screen.open(server.ws_url, sid, server.tokens["viewer"])
    now = int(time.time() * 1000)
    # One order at a quiet moment goes out at once.
    sent = time.monotonic()
    assert post_events(server, sid, [order("A1", "paid", now, nickname="張小林")]).json()["accepted"] == 1
    await screen.until(lambda m: screen.state.get("metrics", {}).get("orders") == 1, timeout=5)
    assert time.monotonic() - sent < 1.0
    assert screen.state["ticker"] == [{"nickname": "張*林", "sku": "MASK-01", "qty": 1, "ts": now}]

    # Then a burst from many concurrent senders for ~2 s: comments (questions, intent, spam),
    # viewer counts, and orders that move (created -> paid -> refunded; cancelled).
    texts = ["這款面膜適合油性皮膚嗎？", "油皮能用嗎", "想要", "扣1", "加v看主頁 abc12345", "多少錢", "666"]
    patches_before = screen.rev

    async def sender(n: int) -> None:
        async with httpx.AsyncClient(
            base_url=server.base_url, headers=server.headers("ingest"), timeout=30
        ) as client:
            for k in range(8):
                batch = [
                    comment(f"s{n}-{k}-{i}", texts[(n + i) % len(texts)], user=f"v{n}-{i}") for i in range(40)
                ]
                batch.append(
                    {
                        "type": "viewer_count",
                        "count": 1000 + n * 10 + k,
                        "ts": now + k * 100 + n,
                        "id": f"vc{n}-{k}",
                    }
                )
                batch.append(order(f"B{n}-{k}", "created", now + 10, nickname=f"買家{n}{k}號"))
                batch.append(
                    order(f"B{n}-{k}", "paid", now + 20 + k, amount="10.50", nickname=f"買家{n}{k}號")
                )
                r = await client.post(f"/api/streams/{sid}/events", json=batch)
                assert r.status_code == 200 and r.json()["accepted"] == 43, r.text
                await asyncio.sleep(0.2)

    started = time.monotonic()
    reader = asyncio.create_task(_drain(screen))
    await asyncio.gather(*(sender(n) for n in range(6)))
    post_events(server, sid, [order("B0-0", "refunded", now + 999), order("C1", "cancelled", now + 5)])
    await asyncio.sleep(1.0)
    reader.cancel()
    elapsed = time.monotonic() - started
    metrics = screen.state["metrics"]
    # Coalesced: far fewer patches than requests (48 + 1), at most ~4 a second (+ the 1 s decay tick).
    patches = screen.rev - patches_before
    assert patches <= elapsed * 5 + 2, (patches, elapsed)
    assert screen.gaps == 0
    assert metrics["orders"] == 1 + 48  # refunds do not un-count an order; cancelled never paid
    assert metrics["gmv"] == 99 + 48 * 10.5
    assert metrics["viewers"] == 1000 + 5 * 10 + 7  # the latest viewer_count by ts
    assert metrics["comments_per_min"] == 6 * 8 * 40
    assert metrics["intent"].get("想要", 0) > 0 and metrics["intent"].get("扣1", 0) > 0
    questions = screen.state["questions"]
    assert questions and questions[0]["count"] >= 2
    assert all("abc12345" not in q["text"] and "加v" not in q["text"] for q in questions)  # spam never shown
    assert len(screen.state["ticker"]) == 10 and all("*" in t["nickname"] for t in screen.state["ticker"])
    await screen.close()

    orders = await stored_orders(sqlite_url_of(tmp_path), sid)
    assert orders["B0-0"] == ("refunded", now + 20) and orders["C1"] == ("cancelled", None)
    assert orders["B5-7"] == ("paid", now + 27)

    # The live numbers are part of the document a new screen (or GET) gets.
    served = httpx.get(f"{server.base_url}/api/streams/{sid}", headers=server.headers("viewer")).json()
    assert served["state"]["metrics"]["orders"] == 49


async def _drain(screen: Screen) -> None:
    while True:
        try:
            await screen.receive(timeout=30)
        except TimeoutError:
            return


async def test_kill_9_right_after_the_ack_loses_nothing(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        sid = create_stream(server)
        url = f"{server.ws_url}/ws/streams/{sid}/ingest?token={server.tokens['ingest']}"
        now = int(time.time() * 1000)
        async with connect(url) as ws:
            for k in range(5):
                await ws.send(orjson.dumps([comment(f"k{k}-{i}") for i in range(200)]).decode())
            await ws.send(orjson.dumps([order("K1", "paid", now, amount="25")]).decode())
            acks = [orjson.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(6)]
            server.process.kill()  # SIGKILL the moment the last ack is read
        assert sum(a["accepted"] for a in acks) == 1001
        server.process.wait(10)
    finally:
        server.stop()
    assert await stored_events(sqlite_url_of(tmp_path), sid) == 1001
    restarted = start_server(tmp_path, tokens=server.tokens)
    try:
        # After the restart the live numbers are rebuilt from the record, not back to zero.
        state = httpx.get(
            f"{restarted.base_url}/api/streams/{sid}", headers=restarted.headers("viewer")
        ).json()
        assert state["state"]["metrics"]["orders"] == 1 and state["state"]["metrics"]["gmv"] == 25
        assert state["state"]["ticker"][0]["nickname"] == "張*林"
        again = post_events(restarted, sid, [comment("k0-0"), comment("k4-199"), comment("new")]).json()
        assert (again["accepted"], again["duplicates"]) == (1, 2)
    finally:
        restarted.stop()
