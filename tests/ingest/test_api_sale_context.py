"""A running flash sale is selling context for the stream's comments (issue 18), through real servers:
扣1 during a sale is buying intent in the live numbers (`metrics.intent` of the live document), before
and after it not; on one instance on SQLite across a restart mid-sale, and on two instances sharing
PostgreSQL + Redis with the sale started and stopped on one and the comments sent to the other."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ServerProcess, start_server
from tests.realtime.screen import Screen
from tests.sales.conftest import create_stream_http, deployment_redis, start_sale_http

pytestmark = pytest.mark.timeout(120)
__all__ = ["deployment_redis"]  # the fixture of tests/sales: instances sharing Redis under a prefix


class Room:
    """Comments into one server's ingest, and the live numbers read back from a server's document.

    Each batch ends with a `viewer_count` of its own: once the document shows that count, the
    batch's comments (the same commit) are in the numbers too."""

    def __init__(self, stream_id: str) -> None:
        self.stream_id = stream_id
        self.batches = 0

    def comment(self, server: ServerProcess, text: str, n: int) -> dict[str, Any]:
        self.batches += 1
        now = int(time.time() * 1000)
        events: list[dict[str, Any]] = [
            {"type": "comment", "id": secrets.token_hex(6), "user_id": f"fan{self.batches}-{i}", "text": text,
             "ts": now}
            for i in range(n)
        ]
        events.append({"type": "viewer_count", "id": f"vc{self.batches}", "count": self.batches, "ts": now})
        r = httpx.post(f"{server.base_url}/api/streams/{self.stream_id}/events", json=events,
                       headers=server.headers("ingest"), timeout=30)
        assert r.status_code == 200 and r.json()["accepted"] == n + 1, r.text
        return self.intent(server)

    def intent(self, server: ServerProcess) -> dict[str, Any]:
        """`metrics.intent` once the latest batch is in the numbers the document shows."""
        deadline = time.monotonic() + 30
        while True:
            r = httpx.get(f"{server.base_url}/api/streams/{self.stream_id}", headers=server.headers("viewer"),
                          timeout=10)
            assert r.status_code == 200, r.text
            metrics = r.json()["state"].get("metrics") or {}
            if metrics.get("viewers") == self.batches:
                return dict(metrics["intent"])
            assert time.monotonic() < deadline, f"batch {self.batches} never reached the numbers: {metrics}"
            time.sleep(0.05)


def operate(server: ServerProcess, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    r = httpx.post(f"{server.base_url}{path}", json=body or {}, headers=server.headers("operator"), timeout=10)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_sale_makes_kou1_buying_intent_and_a_restart_mid_sale_keeps_it(tmp_path: Path) -> None:
    server = start_server(tmp_path)  # SQLite, in-memory hub and tallies
    try:
        sid = create_stream_http(server)
        room = Room(sid)
        assert room.comment(server, "扣1", 3) == {}  # nothing sells: 扣1 to a poll, not buying
        sale = start_sale_http(server, sid, stock=50)["id"]
        assert room.comment(server, "扣1", 5) == {"扣1": 5}
        # A 講解 during the sale; the sale stops, the 講解 still sells.
        operate(server, f"/api/streams/{sid}/segments/next")
        operate(server, f"/api/streams/{sid}/explain", {"sku": "MASK-01", "action": "start"})
        operate(server, f"/api/streams/{sid}/flash-sales/{sale}/stop")
        assert room.comment(server, "扣1", 2) == {"扣1": 7}
        operate(server, f"/api/streams/{sid}/explain", {"sku": "MASK-01", "action": "stop"})
        assert room.comment(server, "扣1", 4) == {"扣1": 7}  # nothing sells any more
        start_sale_http(server, sid, stock=50)  # a second sale, running when the server restarts
        assert room.comment(server, "扣1", 2) == {"扣1": 9}

        port = int(server.base_url.rsplit(":", 1)[1])
        server.stop()
        server = start_server(tmp_path, tokens=server.tokens, port=port)
        # Rebuilt from the record: the comments of each sale's and the 講解's time, not the others.
        assert room.intent(server) == {"扣1": 9}
        assert room.comment(server, "扣1", 3) == {"扣1": 12}  # the second sale still runs
    finally:
        server.stop()


async def test_a_sale_started_on_one_instance_makes_the_other_count_intent(
    server_factory: Any, postgres_url: str, deployment_redis: dict[str, Any]
) -> None:
    a: ServerProcess = server_factory(database_url=postgres_url, **deployment_redis)
    b: ServerProcess = server_factory(database_url=postgres_url, tokens=a.tokens, **deployment_redis)
    sid = create_stream_http(a)
    room = Room(sid)
    assert room.comment(b, "扣1", 3) == {}  # B holds the stream now; nothing sells
    screen = await Screen.open(b.ws_url, sid, a.tokens["viewer"])
    try:
        sale = start_sale_http(a, sid, stock=50)["id"]
        # Once a screen on B shows the sale, B's hub has fanned the change out (to its triage too).
        await screen.until(lambda _: sale in (screen.state.get("flash_sales") or {}))
        assert room.comment(b, "扣1", 5) == {"扣1": 5}
        assert room.intent(a) == {"扣1": 5}  # the numbers are shared
        operate(a, f"/api/streams/{sid}/flash-sales/{sale}/stop")
        await screen.until(lambda _: screen.state["flash_sales"][sale]["status"] == "stopped")
        assert room.comment(b, "扣1", 4) == {"扣1": 5}

        # A sale of five seconds: over when its time is up, told by the sales' timers.
        short = start_sale_http(a, sid, stock=50, duration_seconds=5)["id"]
        await screen.until(lambda _: short in screen.state["flash_sales"])
        assert room.comment(b, "冲", 2) == {"扣1": 5, "上车": 2}
        await screen.until(lambda _: screen.state["flash_sales"][short]["status"] == "ended", timeout=15)
        assert room.comment(b, "冲", 3) == {"扣1": 5, "上车": 2}
        # A sale of one unit: it sells out (the claim taken on A), and sells no more.
        one = start_sale_http(a, sid, stock=1)["id"]
        await screen.until(lambda _: one in screen.state["flash_sales"])
        assert room.comment(b, "想要", 2) == {"扣1": 5, "上车": 2, "想要": 2}
        claimed = httpx.post(f"{a.base_url}/api/streams/{sid}/flash-sales/{one}/claims",
                             json={"user_id": "buyer", "qty": 1}, headers=a.headers("ingest"), timeout=10)
        assert claimed.status_code == 201, claimed.text
        await screen.until(lambda _: screen.state["flash_sales"][one]["status"] == "sold_out")
        assert room.comment(b, "想要", 3) == {"扣1": 5, "上车": 2, "想要": 2}
    finally:
        await screen.ws.close()
