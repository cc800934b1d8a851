"""WS /ws/streams/{id} against a real server process: late join, resync, reconnect, clocks, restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.conftest import EXAMPLE_SCRIPT, ServerProcess, start_server

from .screen import Screen


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server process for this module's tests; each test makes its own stream."""
    proc = start_server(tmp_path_factory.mktemp("viewer-socket"))
    yield proc
    proc.stop()


def touches(section: str):  # type: ignore[no-untyped-def]
    """A patch that changes the given section (other domains publish their own sections too)."""
    return lambda m: m["type"] == "patch" and any(op["path"][0] == section for op in m["ops"])


def create_stream(server: ServerProcess) -> str:
    created = httpx.post(f"{server.base_url}/api/streams", content=EXAMPLE_SCRIPT.read_bytes(),
                         headers={**server.headers("operator"), "Content-Type": "application/yaml"})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def post(server: ServerProcess, path: str, json: object = None, method: str = "POST") -> httpx.Response:
    return httpx.request(method, f"{server.base_url}{path}", json=json, headers=server.headers("operator"))


async def test_late_joiner_then_patches_in_order(server: ServerProcess) -> None:
    sid = create_stream(server)
    assert post(server, f"/api/streams/{sid}/segments/next").status_code == 200
    assert post(server, f"/api/streams/{sid}/segments/next").json()["segment"]["id"] == "mask-intro"
    screen = await Screen.open(server.ws_url, sid, server.tokens["viewer"])
    assert screen.state["segment"]["id"] == "mask-intro" and screen.state["stream"]["status"] == "live"
    rev = screen.rev
    response = await asyncio.to_thread(post, server, f"/api/streams/{sid}/segments/next", {"from_index": 1})
    assert response.json()["segment"]["id"] == "mask-value"
    patch = await screen.until(touches("segment"))
    assert patch["rev"] == response.json()["rev"] > rev  # other domains may publish in between
    assert screen.state["segment"]["id"] == "mask-value" and screen.gaps == 0 and screen.snapshots == 1
    # The document the screen built from patches is the one the API serves.
    served = httpx.get(f"{server.base_url}/api/streams/{sid}", headers=server.headers("viewer")).json()
    while screen.rev < served["rev"]:
        await screen.receive()
    assert served["rev"] == screen.rev and served["state"] == screen.state
    await screen.close()


async def test_resync_request_and_reconnect(server: ServerProcess) -> None:
    sid = create_stream(server)
    screen = await Screen.open(server.ws_url, sid, server.tokens["viewer"])
    snap = await screen.resync()
    assert snap["rev"] == screen.rev and screen.snapshots == 2
    await screen.close()
    # While the screen is away the show moves on; on reconnect it starts from a fresh snapshot.
    post(server, f"/api/streams/{sid}/segments/next")
    post(server, f"/api/streams/{sid}/pins", {"text": "<img src=x onerror=alert(1)>", "nickname": "小美"})
    again = await Screen.open(server.ws_url, sid, server.tokens["viewer"])
    assert again.rev >= snap["rev"] + 2
    assert again.state["pinned"]["text"] == "<img src=x onerror=alert(1)>"
    assert post(server, f"/api/streams/{sid}/pins", method="DELETE").status_code == 204
    await again.until(touches("pinned"))
    assert again.state["pinned"] is None
    await again.close()


async def test_countdown_end_time_and_server_clock(server: ServerProcess) -> None:
    sid = create_stream(server)
    screen = await Screen.open(server.ws_url, sid, server.tokens["viewer"])
    response = await asyncio.to_thread(
        post, server, f"/api/streams/{sid}/countdowns", {"seconds": 90, "label": "倒計時"}
    )
    assert response.status_code == 201
    body = response.json()
    patch = await screen.until(touches("countdowns"))
    value = patch["ops"][-1]["value"]
    assert value["ends_at"] == body["ends_at"] and value["label"] == "倒計時"
    # The patch carries the server's clock: remaining time computed on it is the full countdown.
    remaining_ms = value["ends_at"] - patch["server_time"]
    assert 89_000 <= remaining_ms <= 90_000
    assert abs(screen.offset_ms) < 1000  # same machine: no real skew, only the delivery delay
    for bad in ({"seconds": 0}, {"seconds": "x"}, {"label": "no seconds"}, {"seconds": 5, "extra": 1}):
        assert post(server, f"/api/streams/{sid}/countdowns", bad).status_code == 422
    assert post(server, "/api/streams/nope/countdowns", {"seconds": 5}).status_code == 404
    await screen.close()


async def test_tokens_and_unknown_streams(server: ServerProcess) -> None:
    sid = create_stream(server)
    for token in ("", "wrong"):
        with pytest.raises((InvalidStatus, ConnectionClosed)):
            screen = await Screen.open(server.ws_url, sid, token)
    with pytest.raises(ConnectionClosed) as closed:
        await Screen.open(server.ws_url, "nope", server.tokens["viewer"])
    assert closed.value.rcvd.code == 4404  # pages stop reconnecting on this code
    # Viewers may watch but not act.
    viewer = httpx.post(f"{server.base_url}/api/streams/{sid}/segments/next", headers=server.headers("viewer"))
    assert viewer.status_code == 403
    screen = await Screen.open(server.ws_url, sid, server.tokens["operator"])  # operator passes everything
    await screen.close()


async def test_show_control_errors_over_http(server: ServerProcess) -> None:
    sid = create_stream(server)
    assert post(server, f"/api/streams/{sid}/segments/previous").status_code == 409
    assert post(server, f"/api/streams/{sid}/segments/goto", {"id": "nope"}).status_code == 404
    assert post(server, f"/api/streams/{sid}/segments/goto", {"id": "mask-close"}).json()["segment"]["index"] == 3
    assert post(server, f"/api/streams/{sid}/segments/next", {"from_index": 0}).status_code == 409
    fired = post(server, f"/api/streams/{sid}/cues/open/0/fire")
    assert fired.status_code == 200 and fired.json()["result"]["seconds"] == 60
    assert post(server, f"/api/streams/{sid}/cues/open/0/fire").status_code == 409
    assert post(server, f"/api/streams/{sid}/cues/open/0/fire?force=true").status_code == 200
    assert post(server, f"/api/streams/{sid}/cues/open/9/fire").status_code == 404
    assert post(server, f"/api/streams/{sid}/prompter", {"action": "speed", "value": 4}).status_code == 200
    assert post(server, f"/api/streams/{sid}/prompter", {"action": "fly"}).status_code == 422
    assert post(server, f"/api/streams/{sid}/end").json()["status"] == "ended"


async def test_state_survives_a_restart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = start_server(tmp_path)
    try:
        sid = create_stream(first)
        post(first, f"/api/streams/{sid}/segments/next")
        post(first, f"/api/streams/{sid}/segments/next")
        countdown = post(first, f"/api/streams/{sid}/countdowns", {"seconds": 600}).json()
        post(first, f"/api/streams/{sid}/pins", {"text": "滿199減30"})
        before = httpx.get(f"{first.base_url}/api/streams/{sid}", headers=first.headers("viewer")).json()["state"]
    finally:
        first.stop()
    second = start_server(tmp_path, tokens=first.tokens)
    try:
        screen = await Screen.open(second.ws_url, sid, second.tokens["viewer"])
        for section in ("stream", "segment", "pinned", "cues"):
            assert screen.state[section] == before[section], section
        assert screen.state["countdowns"][countdown["id"]]["ends_at"] == countdown["ends_at"]
        await screen.close()
    finally:
        second.stop()


@pytest.mark.postgres
@pytest.mark.redis
async def test_two_instances_over_redis(server_factory, postgres_url: str, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    tokens = {"operator": "op-two", "ingest": "in-two", "viewer": "vi-two"}
    a = server_factory(database_url=postgres_url, redis_url=redis_url, tokens=tokens)
    b = server_factory(database_url=postgres_url, redis_url=redis_url, tokens=tokens)
    sid = create_stream(a)
    screen_b = await Screen.open(b.ws_url, sid, tokens["viewer"])
    screen_a = await Screen.open(a.ws_url, sid, tokens["viewer"])
    started = time.monotonic()
    await asyncio.to_thread(post, a, f"/api/streams/{sid}/segments/next")
    await screen_b.until(touches("segment"))
    assert time.monotonic() - started < 2
    assert screen_b.state["segment"]["id"] == "open"
    await asyncio.to_thread(post, b, f"/api/streams/{sid}/countdowns", {"seconds": 30})
    await screen_a.until(touches("countdowns"))
    await screen_b.until(touches("countdowns"))
    # Both screens hold the document the API serves (whatever else was published meanwhile).
    served = httpx.get(f"{b.base_url}/api/streams/{sid}", headers=b.headers("viewer")).json()
    while screen_a.rev < served["rev"]:
        await screen_a.receive()
    while screen_b.rev < served["rev"]:
        await screen_b.receive()
    assert screen_a.state == screen_b.state == served["state"]
    assert screen_a.gaps == screen_b.gaps == 0
    await screen_a.close()
    await screen_b.close()
    from livecompanion.realtime import make_hub

    hub = make_hub(redis_url)  # the servers use the default prefix: leave nothing behind
    await hub.drop(sid)
    await hub.close()
