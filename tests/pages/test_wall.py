"""The multi-room wall (`/wall`) in headless Chromium, on two real instances on PostgreSQL + Redis.

Three rooms; each room's events go to a different instance than the one serving the wall (or the
same), and every room's numbers (online count, orders, GMV, comments/min) must be on the wall within
one second of the POST that carried them. A flash sale's stock and a real alert (stock low; a 35%
fall of the online count) reach the room's tile and make it stand out. A room that ends leaves the
wall, a room that starts joins it, and a reload of the wall brings every room back.

Screenshots: `wall-1920x1080`, `wall-1366x768`, `wall-1024x768` in LIVECOMPANION_SCREENSHOTS
(tests/pages/conftest.py `shot`).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import ServerProcess, _pg_admin
from tests.pages.conftest import run_async, shot, watch_errors
from tests.sales.conftest import deployment_redis  # noqa: F401 - a fixture, made visible here

pytestmark = pytest.mark.timeout(180)

ARRIVAL_LIMIT = 1.0  # seconds from the POST to the number on the wall (issue 15)
TITLES = ["秋冬補水專場", "小林的美妝夜", "新品首發・精華液"]
# The example script's products and targets, without cues: a cue due while the test runs (the
# example's first is at 2 min) would raise a `cue_late` alert on every room of a slow run.
SCRIPT = """
title: TITLE
host: 小林
targets: {gmv: 50000}
products:
  - {sku: MASK-01, name: 玻尿酸補水面膜 10片, list_price: 199, live_price: 99}
segments:
  - {id: open, kind: opening, title: 開場, target: 5-10m}
  - {id: mask-intro, kind: product, title: 面膜介紹, target: 15-20m, product: MASK-01}
"""


class Deployment:
    """Two instances sharing PostgreSQL, Redis and one set of tokens."""

    def __init__(self, factory: Callable[..., ServerProcess], postgres_url: str, redis: dict[str, Any]) -> None:
        tokens = {role: f"{role}-{secrets.token_hex(6)}" for role in ("operator", "ingest", "viewer")}
        self.servers = [factory(database_url=postgres_url, tokens=tokens, **redis) for _ in range(2)]
        self.tokens = tokens

    def call(self, on: int, method: str, tail: str, role: str = "operator", **kwargs: Any) -> httpx.Response:
        server = self.servers[on % 2]
        response = httpx.request(method, f"{server.base_url}{tail}", headers=server.headers(role), timeout=30,
                                 **kwargs)
        assert response.status_code < 300, (tail, response.status_code, response.text)
        return response

    def new_room(self, title: str, on: int) -> str:
        """A stream of the example script under another title, created on instance `on`."""
        script = SCRIPT.replace("TITLE", title)
        server = self.servers[on % 2]
        response = httpx.post(f"{server.base_url}/api/streams", content=script.encode(),
                              headers={**server.headers("operator"), "Content-Type": "application/yaml"})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def events(self, on: int, stream_id: str, events: list[dict[str, Any]]) -> None:
        answer = self.call(on, "POST", f"/api/streams/{stream_id}/events", role="ingest", json=events).json()
        assert answer["accepted"] == len(events), answer

    def wall_url(self, on: int, role: str = "viewer") -> str:
        return f"{self.servers[on % 2].base_url}/wall?token={self.tokens[role]}"


def tile(stream_id: str) -> str:
    return f'.room[data-stream="{stream_id}"]'


def shown_rooms(page: Any) -> list[str]:
    return page.eval_on_selector_all(".room:not(.hidden)", "nodes => nodes.map(n => n.dataset.stream)")


def wait_for_text(page: Any, selector: str, text: str, timeout_ms: int = 5000) -> None:
    page.wait_for_function(
        "([s, t]) => { const n = document.querySelector(s); return n && n.textContent === t; }",
        arg=[selector, text], timeout=timeout_ms, polling="raf")


def arrival(page: Any, post: Callable[[], None], checks: list[tuple[str, str]]) -> float:
    """Seconds from just before `post()` until every (selector, text) is on the page."""
    start = time.monotonic()
    post()
    for selector, text in checks:
        wait_for_text(page, selector, text)
    return time.monotonic() - start


@pytest.fixture
def database(postgres_server: str) -> Iterator[str]:
    """A fresh PostgreSQL database (conftest's `postgres_url`, made in a thread of its own: the
    module's Playwright holds this thread's event loop)."""
    name = f"lc_test_{secrets.token_hex(5)}"
    run_async(lambda: _pg_admin(f'CREATE DATABASE "{name}"'))
    yield f"postgresql+asyncpg://{postgres_server}/{name}"
    run_async(lambda: _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def deployment(server_factory: Any, database: str, deployment_redis: dict[str, Any]) -> Deployment:  # noqa: F811
    return Deployment(server_factory, database, deployment_redis)


def test_three_rooms_on_two_instances_arrive_within_a_second(browser: Any, deployment: Deployment) -> None:
    d = deployment
    rooms = [d.new_room(title, on=i) for i, title in enumerate(TITLES)]
    for i, room in enumerate(rooms):  # started on either instance
        d.call(i + 1, "POST", f"/api/streams/{room}/segments/next")
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    errors = watch_errors(page)
    page.goto(d.wall_url(1))  # the wall on instance B
    page.wait_for_function("document.querySelectorAll('.room:not(.hidden)').length === 3", timeout=10000)
    assert sorted(shown_rooms(page)) == sorted(rooms)
    assert page.text_content("#wall-count") == "3 場直播中"

    seen: list[float] = []
    orders = [0, 0, 0]
    for round_ in range(3):
        for i, room in enumerate(rooms):
            on = i + round_  # room 0 to A, B, A; room 1 to B, A, B; ...: each instance, both ways
            count = 1000 * (i + 1) + 37 * (round_ + 1)
            orders[i] += 1
            events = [
                {"type": "viewer_count", "count": count},
                {"type": "comment", "user_id": f"v{round_}", "text": "這個適合油皮嗎"},
                {"type": "order", "user_id": f"b{round_}", "order_id": f"o{i}-{round_}", "sku": "MASK-01",
                 "qty": 1, "amount": 99, "status": "paid"},
            ]
            seconds = arrival(page, lambda on=on, room=room, events=events: d.events(on, room, events), [
                (f"{tile(room)} .num.viewers .value", f"{count:,}"),
                (f"{tile(room)} .num.orders .value", str(orders[i])),
                (f"{tile(room)} .num.gmv .value", f"{99 * orders[i]:,}"),
                (f"{tile(room)} .num.cpm .value", str(round_ + 1)),
            ])
            seen.append(seconds)
    print(f"wall arrivals (s, POST to every number on the tile): {sorted(round(s, 3) for s in seen)}")
    assert max(seen) < ARRIVAL_LIMIT, f"arrivals {sorted(round(s, 3) for s in seen)} s"
    # GMV against the script's target (50000): 3 orders of 99.
    assert page.text_content(f"{tile(rooms[0])} .num.gmv .of") == "目標 50,000 · 1%"

    # A flash sale started on A, claimed on B down to 9 of 100: the stock on the tile, and the
    # service's stock-low alert makes the room stand out.
    sale = d.call(0, "POST", f"/api/streams/{rooms[1]}/flash-sales",
                  json={"sku": "MASK-01", "price": 79, "stock": 100, "duration_seconds": 600,
                        "per_user_limit": 100}).json()["id"]
    d.call(1, "POST", f"/api/streams/{rooms[1]}/flash-sales/{sale}/claims", role="ingest",
           json={"user_id": "buyer", "qty": 91})
    wait_for_text(page, f"{tile(rooms[1])} .sale-left", "剩 9 / 100")
    page.wait_for_selector(f"{tile(rooms[1])}.alerting .room-alerts li.warn", timeout=5000)
    assert "庫存緊張" in page.text_content(f"{tile(rooms[1])} .room-alerts")
    # A 35% fall of the online count within 40 s (event time), taken by A: an error, red, on B's wall.
    now = int(time.time() * 1000)
    d.events(0, rooms[2], [{"type": "viewer_count", "count": 20000, "ts": now - 40_000},
                           {"type": "viewer_count", "count": 13000, "ts": now}])
    page.wait_for_selector(f"{tile(rooms[2])}.alert-error .room-alerts li.error", timeout=5000)
    assert "13000" in page.text_content(f"{tile(rooms[2])} .room-alerts")
    assert page.text_content("#wall-alerts") == "⚠ 2 場有提醒"
    assert not page.query_selector(f"{tile(rooms[0])}.alerting")
    assert not page.query_selector(f"{tile(rooms[0])} a.title")  # a viewer's wall opens no console


    for width, height in ((1920, 1080), (1366, 768), (1024, 768)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)
        fits = page.evaluate("""() => [...document.querySelectorAll('.room:not(.hidden)')].every(r => {
            const b = r.getBoundingClientRect();
            return b.bottom <= innerHeight + 1 && b.right <= innerWidth + 1 && r.scrollHeight <= r.clientHeight + 1;
        }) && document.scrollingElement.scrollHeight <= innerHeight""")
        assert fits, f"a room does not fit on the screen at {width}x{height}"
        small = page.evaluate("Math.min(...[...document.querySelectorAll('.num .value')].map("
                              "n => parseFloat(getComputedStyle(n).fontSize)))")
        assert small >= 40, f"the numbers are {small}px at {width}x{height}: not readable across a room"
        shot(page, f"wall-{width}x{height}")

    # Acknowledged on the console (instance A): it leaves B's wall, and the room no longer stands out.
    stock_low = page.get_attribute(f"{tile(rooms[1])} .room-alerts li.warn", "data-alert")
    d.call(0, "POST", f"/api/streams/{rooms[1]}/alerts/ack", json={"id": stock_low})
    page.wait_for_selector(f"{tile(rooms[1])}:not(.alerting)", timeout=int(ARRIVAL_LIMIT * 1000))
    assert page.text_content(f"{tile(rooms[1])} .room-alerts") == ""
    assert page.text_content("#wall-alerts") == "⚠ 1 場有提醒"
    assert errors == []


def test_rooms_join_and_leave_and_a_reload_brings_them_back(browser: Any, deployment: Deployment) -> None:
    d = deployment
    first, second = d.new_room(TITLES[0], on=0), d.new_room(TITLES[1], on=1)
    d.call(0, "POST", f"/api/streams/{first}/segments/next")
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors = watch_errors(page)
    page.goto(d.wall_url(0, role="operator"))  # the operator's token is welcome too
    page.wait_for_function("document.querySelectorAll('.room:not(.hidden)').length === 1", timeout=10000)
    assert shown_rooms(page) == [first]
    console_link = page.get_attribute(f"{tile(first)} a.title", "href")  # the operator's wall links consoles
    assert console_link == f"/streams/{first}/console?token={d.tokens['operator']}"

    # A room that goes on air on the other instance joins (the list is read every 2 s).
    d.call(1, "POST", f"/api/streams/{second}/segments/next")
    page.wait_for_selector(f"{tile(second)}:not(.hidden)", timeout=5000)
    assert sorted(shown_rooms(page)) == sorted([first, second])

    # A room that ends (on the other instance) leaves at once: its socket says so.
    start = time.monotonic()
    d.call(1, "POST", f"/api/streams/{first}/end")
    page.wait_for_selector(tile(first), state="detached", timeout=5000)
    assert time.monotonic() - start < ARRIVAL_LIMIT
    assert shown_rooms(page) == [second]
    page.wait_for_timeout(2500)  # a later list read does not bring it back
    assert shown_rooms(page) == [second]

    # Reload: the wall comes back with the live room and its numbers, and keeps following.
    d.events(0, second, [{"type": "viewer_count", "count": 4321}])
    page.reload()
    page.wait_for_function("document.querySelectorAll('.room:not(.hidden)').length === 1", timeout=10000)
    wait_for_text(page, f"{tile(second)} .num.viewers .value", "4,321")
    d.events(1, second, [{"type": "viewer_count", "count": 5432}])
    wait_for_text(page, f"{tile(second)} .num.viewers .value", "5,432", timeout_ms=int(ARRIVAL_LIMIT * 1000))

    # The last room ends: the wall says there is nothing on air.
    d.call(0, "POST", f"/api/streams/{second}/end")
    page.wait_for_selector("#empty:not(.hidden)", timeout=5000)
    assert page.text_content("#wall-count") == "0 場直播中"
    assert errors == []


def test_wall_needs_a_reading_token(deployment: Deployment) -> None:
    base = deployment.servers[0].base_url
    assert httpx.get(f"{base}/wall").status_code == 401
    refused = httpx.get(f"{base}/wall?token={deployment.tokens['ingest']}")
    assert refused.status_code == 403 and "viewer" in refused.text
    assert httpx.get(f"{base}/wall?token={deployment.tokens['viewer']}").status_code == 200
    listed = httpx.get(f"{base}/api/streams?status=live", headers=deployment.servers[0].headers("viewer"))
    assert listed.status_code == 200 and listed.json() == []
    wrong = httpx.get(f"{base}/api/streams?status=onair", headers=deployment.servers[0].headers("viewer"))
    assert wrong.status_code == 422 and "status" in wrong.text
