"""Contract section 5's operator rules over HTTP, on real server processes: one instance (SQLite,
in-memory fan-out) and two instances behind no balancer at all (PostgreSQL + Redis, every other
request to the other one).

- `Idempotency-Key`: a repeat, sequential or at the same moment, on the same or the other
  instance, gets the first answer and changes nothing;
- two flash sales of one sku never run at once (409 `sale_running`), even started at the same
  moment on two instances;
- End ends sales (claims 410), clears countdowns and the pin, draws lotteries, refuses next,
  previous, goto and new starts (409 `ended`); only a confirmed reopen puts the show back on air;
- a sale, countdown or lottery started by hand ticks the cue it matches.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest

from tests.conftest import EXAMPLE_SCRIPT, ServerProcess

pytestmark = pytest.mark.timeout(120)

SALE = {"sku": "MASK-01", "price": 79, "stock": 100, "duration_seconds": 600}
STARTS: list[tuple[str, dict[str, Any]]] = [
    ("segments/next", {}),
    ("countdowns", {"seconds": 30, "label": "上鏈接"}),
    ("lotteries", {"keyword": "想要", "winners": 3, "duration_seconds": 300}),
    ("pins", {"text": "幾號鏈接？", "nickname": "小美"}),
    ("flash-sales", SALE),
]


class Operator:
    """An operator's HTTP client spread over instances: request i goes to instance i mod n."""

    def __init__(self, servers: list[ServerProcess]) -> None:
        self.servers = servers
        self.clients = [httpx.AsyncClient(base_url=s.base_url, headers=s.headers("operator"), timeout=30)
                        for s in servers]
        self.turn = 0

    def client(self, index: int | None = None) -> httpx.AsyncClient:
        if index is None:
            index, self.turn = self.turn, self.turn + 1
        return self.clients[index % len(self.clients)]

    async def post(self, path: str, body: Any = None, key: str | None = None, on: int | None = None,
                   role: str = "operator") -> httpx.Response:
        if on is None:
            on, self.turn = self.turn, self.turn + 1
        on %= len(self.servers)
        headers = {"Idempotency-Key": key} if key else {}
        if role != "operator":
            headers |= self.servers[on].headers(role)
        return await self.clients[on].post(path, json=body, headers=headers)

    async def get(self, path: str) -> Any:
        response = await self.client().get(path)
        assert response.status_code == 200, response.text
        return response.json()

    async def new_stream(self) -> str:
        response = await self.client(0).post("/api/streams", content=EXAMPLE_SCRIPT.read_bytes(),
                                             headers={"content-type": "application/yaml"})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()


async def same_key_at_once(op: Operator, path: str, body: Any, times: int = 6) -> list[httpx.Response]:
    key = secrets.token_hex(8)
    answers = await asyncio.gather(*[op.post(path, body, key) for _ in range(times)])
    later = await op.post(path, body, key)  # and once more after the first answer
    return [*answers, later]


async def check_repeats(op: Operator) -> None:
    stream_id = await op.new_stream()
    base = f"/api/streams/{stream_id}"
    for path, body in STARTS:
        answers = await same_key_at_once(op, f"{base}/{path}", body)
        assert len({(a.status_code, a.text) for a in answers}) == 1, (path, [a.text for a in answers])
        assert answers[0].status_code in (200, 201), (path, answers[0].text)
        assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == len(answers) - 1
    state = await op.get(f"{base}")
    doc = state.get("state", state)
    assert doc["segment"]["index"] == 0  # six clicks on ▶ with one key: one step
    assert len(doc["countdowns"]) == 1 and len(doc["lotteries"]) == 1 and len(doc["flash_sales"]) == 1
    assert doc["pinned"]["text"] == "幾號鏈接？"
    assert len(await op.get(f"{base}/flash-sales")) == 1
    # A stream made twice with one key is one stream (the key's scope is the service).
    key = secrets.token_hex(8)
    made = await asyncio.gather(*[
        op.client().post("/api/streams", content=EXAMPLE_SCRIPT.read_bytes(),
                         headers={"content-type": "application/yaml", "Idempotency-Key": key})
        for _ in range(4)])
    assert len({m.json()["id"] for m in made}) == 1 and {m.status_code for m in made} == {201}
    # The same key on another stream is another action.
    other = await op.new_stream()
    again = await op.post(f"/api/streams/{other}/segments/next", {}, key)
    assert again.status_code == 200 and "idempotent-replayed" not in again.headers


async def check_one_sale_per_sku(op: Operator) -> None:
    stream_id = await op.new_stream()
    base = f"/api/streams/{stream_id}"
    answers = await asyncio.gather(*[op.post(f"{base}/flash-sales", SALE, secrets.token_hex(8))
                                     for _ in range(6)])
    codes = sorted(a.status_code for a in answers)
    assert codes == [201, 409, 409, 409, 409, 409], [a.text for a in answers]
    refused = next(a.json() for a in answers if a.status_code == 409)
    assert refused["detail"] == "sale_running" and refused["sale_id"] and "MASK-01" in refused["message"]
    sale_id = next(a.json()["id"] for a in answers if a.status_code == 201)
    other = await op.post(f"{base}/flash-sales", SALE | {"sku": "SERUM-02"}, secrets.token_hex(8))
    assert other.status_code == 201  # another sku runs alongside
    stop = await op.post(f"{base}/flash-sales/{sale_id}/stop", None, secrets.token_hex(8))
    assert stop.status_code == 200
    again = await op.post(f"{base}/flash-sales", SALE, secrets.token_hex(8))
    assert again.status_code == 201, again.text  # once stopped, the sku can go on sale again


async def check_end(op: Operator) -> None:
    stream_id = await op.new_stream()
    base = f"/api/streams/{stream_id}"
    for path in ("segments/next", "segments/next", "segments/next"):
        assert (await op.post(f"{base}/{path}", {}, secrets.token_hex(8))).status_code == 200
    sale = (await op.post(f"{base}/flash-sales", SALE, secrets.token_hex(8))).json()
    assert sale["cue"] is None  # mask-value has no sale cue
    await op.post(f"{base}/countdowns", {"seconds": 120}, secrets.token_hex(8))
    lottery = (await op.post(f"{base}/lotteries", {"keyword": "想要", "winners": 1, "duration_seconds": 600},
                             secrets.token_hex(8))).json()
    await op.post(f"{base}/pins", {"text": "置頂"}, secrets.token_hex(8))
    claim_path = f"{base}/flash-sales/{sale['id']}/claims"
    assert (await op.post(claim_path, {"user_id": "u1"}, role="ingest", on=1)).status_code == 201

    ended = await op.post(f"{base}/end", None, secrets.token_hex(8))
    assert ended.status_code == 200 and ended.json()["status"] == "ended", ended.text
    assert ended.json()["stopped_sales"] == [sale["id"]] and ended.json()["drawn_lotteries"] == [lottery["id"]]
    for on in (0, 1):  # both instances refuse claims at once
        late = await op.post(claim_path, {"user_id": f"late{on}"}, role="ingest", on=on)
        assert late.status_code == 410, late.text
    state = await op.get(base)
    doc = state.get("state", state)
    assert doc["stream"]["status"] == "ended" and doc["countdowns"] == {} and doc["pinned"] is None
    assert doc["lotteries"][lottery["id"]]["status"] == "drawn"
    assert doc["flash_sales"][sale["id"]]["status"] != "live"
    for path, body in [("segments/next", {}), ("segments/previous", {}), ("segments/goto", {"index": 0}),
                       ("countdowns", {"seconds": 10}), ("pins", {"text": "x"}), ("flash-sales", SALE),
                       ("lotteries", {"keyword": "要", "winners": 1, "duration_seconds": 60}), ("end", None)]:
        refused = await op.post(f"{base}/{path}", body, secrets.token_hex(8))
        assert refused.status_code == 409 and refused.json()["detail"] == "ended", (path, refused.text)
    unconfirmed = await op.post(f"{base}/reopen", {}, secrets.token_hex(8))
    assert unconfirmed.status_code == 422
    reopened = await op.post(f"{base}/reopen", {"confirm": True}, secrets.token_hex(8))
    assert reopened.status_code == 200 and reopened.json()["status"] == "live"
    assert reopened.json()["segment"]["index"] == 2


async def check_hand_start_ticks_cue(op: Operator) -> None:
    stream_id = await op.new_stream()
    base = f"/api/streams/{stream_id}"
    await op.post(f"{base}/segments/goto", {"id": "mask-close"}, secrets.token_hex(8))
    sale = (await op.post(f"{base}/flash-sales", SALE, secrets.token_hex(8))).json()
    assert sale["cue"] == "mask-close/0"
    lottery = (await op.post(f"{base}/lotteries", {"keyword": "想要", "winners": 1, "duration_seconds": 60},
                             secrets.token_hex(8))).json()
    assert lottery["cue"] is None  # the lottery cue is due at 8 minutes: not yet
    state = await op.get(base)
    doc = state.get("state", state)
    assert doc["cues"]["mask-close/0"]["fired_ms"] is not None
    fire = await op.post(f"{base}/cues/mask-close/0/fire", None, secrets.token_hex(8))
    assert fire.status_code == 409  # the run sheet no longer invites a second sale


SCENARIOS = [check_repeats, check_one_sale_per_sku, check_end, check_hand_start_ticks_cue]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
async def test_one_instance(server: ServerProcess, scenario: Any) -> None:
    op = Operator([server])
    try:
        await scenario(op)
    finally:
        await op.close()


@pytest.mark.postgres
@pytest.mark.redis
async def test_two_instances(server_factory: Any, postgres_url: str, deployment_redis: dict[str, Any]) -> None:
    servers = [server_factory(database_url=postgres_url, **deployment_redis) for _ in range(2)]
    op = Operator(servers)
    try:
        for scenario in SCENARIOS:
            await scenario(op)
    finally:
        await op.close()
