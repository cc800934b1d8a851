"""Lotteries through HTTP against real servers: keyword comments enter, the draw at the end (by
timer) or on the endpoint, winners on the screens, verification; two instances draw once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from tests.conftest import ServerProcess
from tests.realtime.screen import Screen
from tests.sales.conftest import create_stream_http


def start(server: ServerProcess, stream_id: str, **body: Any) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/api/streams/{stream_id}/lotteries",
        json=body,
        headers=server.headers("operator"),
        timeout=10,
    )


def comments(server: ServerProcess, stream_id: str, items: list[tuple[str, str | None, str]]) -> None:
    batch = [{"type": "comment", "user_id": u, "nickname": n, "text": t} for u, n, t in items]
    r = httpx.post(
        f"{server.base_url}/api/streams/{stream_id}/events",
        json=batch,
        headers=server.headers("ingest"),
        timeout=10,
    )
    assert r.status_code == 200 and r.json()["accepted"] == len(batch), r.text


def get(server: ServerProcess, path: str, role: str = "viewer") -> httpx.Response:
    return httpx.get(f"{server.base_url}{path}", headers=server.headers(role), timeout=10)


def test_keyword_comments_enter_and_the_draw_shows_the_winners(server: ServerProcess) -> None:
    stream_id = create_stream_http(server)
    base = f"/api/streams/{stream_id}/lotteries"
    assert start(server, stream_id, keyword="！！", winners=1, duration_seconds=60).status_code == 422
    assert start(server, stream_id, keyword="想要", winners=0, duration_seconds=60).status_code == 422
    assert (
        httpx.post(
            f"{server.base_url}{base}",
            json={"keyword": "想要", "winners": 1, "duration_seconds": 5},
            headers=server.headers("ingest"),
        ).status_code
        == 403
    )
    made = start(
        server,
        stream_id,
        keyword="想要",
        winners=2,
        duration_seconds=2,
        prize="免單",
        exclude_user_ids=["blocked"],
    )
    assert made.status_code == 201, made.text
    lottery = made.json()
    assert (lottery["status"], lottery["entrants"], lottery["winners"]) == ("open", 0, [])
    lid = lottery["id"]

    async def watch() -> dict[str, Any]:
        screen = await Screen.open(server.ws_url, stream_id, server.tokens["viewer"])
        try:
            comments(
                server,
                stream_id,
                [
                    ("a", "阿花", "想要！！"),
                    ("b", "小B", "我不想要"),
                    ("c", "C君", "想要想要"),
                    ("blocked", "X", "想要"),
                    ("host", "小林", "想要"),
                    ("d", None, "我想要😍"),
                    ("a", "阿花", "想要"),
                    ("e", "E", "多少钱"),
                ],
            )
            await screen.until(lambda m: screen.state["lotteries"][lid]["entrants"] == 3, timeout=3)
            await screen.until(lambda m: screen.state["lotteries"][lid]["status"] == "drawn", timeout=5)
            return screen.state["lotteries"][lid]
        finally:
            await screen.ws.close()

    shown = asyncio.run(watch())
    assert len(shown["winners"]) == 2 and set(shown["winners"]) <= {"阿花", "C君", "***d"}
    got = get(server, f"{base}/{lid}").json()
    assert (got["status"], got["entrants"], got["winners"]) == ("drawn", 3, shown["winners"])
    assert got["drawn_ms"] >= got["ends_at"] and len(got["seed"]) == 32
    assert get(server, f"{base}/{lid}/verify").status_code == 403  # the entrant list is the operator's
    verified = get(server, f"{base}/{lid}/verify", role="operator").json()
    assert verified["match"] is True and verified["entrants"] == ["a", "c", "d"]
    assert verified["recomputed"]["winners"] == verified["recorded"]["winners"]
    comments(server, stream_id, [("late", "遲到", "想要")])  # after the draw: nothing changes
    again = httpx.post(f"{server.base_url}{base}/{lid}/draw", headers=server.headers("operator")).json()
    assert (again["seed"], again["winners"], again["entrants"]) == (got["seed"], got["winners"], 3)
    assert [x["id"] for x in get(server, base).json()] == [lid]


def test_the_draw_endpoint_draws_early_and_once(server: ServerProcess) -> None:
    stream_id = create_stream_http(server)
    lid = start(server, stream_id, keyword="扣1", winners=5, duration_seconds=600).json()["id"]
    comments(server, stream_id, [(f"u{i}", f"觀眾{i}", "扣1") for i in range(3)])
    first = httpx.post(
        f"{server.base_url}/api/streams/{stream_id}/lotteries/{lid}/draw", headers=server.headers("operator")
    ).json()
    assert first["status"] == "drawn" and sorted(first["winners"]) == [
        "觀眾0",
        "觀眾1",
        "觀眾2",
    ]  # fewer than 5
    second = httpx.post(
        f"{server.base_url}/api/streams/{stream_id}/lotteries/{lid}/draw", headers=server.headers("operator")
    ).json()
    assert second["seed"] == first["seed"]
    assert (
        httpx.post(
            f"{server.base_url}/api/streams/{stream_id}/lotteries/nope/draw",
            headers=server.headers("operator"),
        ).status_code
        == 404
    )


@pytest.mark.timeout(120)
def test_two_instances_draw_once(
    server_factory: Any, postgres_url: str, deployment_redis: dict[str, Any]
) -> None:
    a = server_factory(database_url=postgres_url, **deployment_redis)
    b = server_factory(database_url=postgres_url, **deployment_redis)
    stream_id = create_stream_http(a)
    lid = start(a, stream_id, keyword="想要", winners=3, duration_seconds=2).json()["id"]
    comments(a, stream_id, [(f"a{i}", f"甲{i}", "想要") for i in range(20)])
    comments(b, stream_id, [(f"b{i}", f"乙{i}", "想要!") for i in range(20)] + [("a0", "甲0", "想要")])
    deadline = time.monotonic() + 8
    while get(b, f"/api/streams/{stream_id}/lotteries/{lid}").json()["status"] != "drawn":
        assert time.monotonic() < deadline, "nobody drew at the end"
        time.sleep(0.1)
    seen = [get(s, f"/api/streams/{stream_id}/lotteries/{lid}").json() for s in (a, b)]
    assert seen[0]["seed"] == seen[1]["seed"] and seen[0]["winners"] == seen[1]["winners"]
    assert seen[0]["entrants"] == 40 and len(seen[0]["winners"]) == 3
    assert get(a, f"/api/streams/{stream_id}/lotteries/{lid}/verify", role="operator").json()["match"] is True
    shown = [get(s, f"/api/streams/{stream_id}").json()["state"]["lotteries"][lid] for s in (a, b)]
    assert shown[0] == shown[1] and shown[0]["winners"] == seen[0]["winners"]
