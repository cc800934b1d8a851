"""Playwright on Debian Chromium against a real server whose hub is the real Redis.

The tests write other domains' sections (flash sales, metrics, ...) straight into the shared state
through a second RedisHub, exactly as another service instance would, so the pages can be checked
before and independently of the packages that fill those sections.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from livecompanion.realtime import make_hub
from tests.conftest import EXAMPLE_SCRIPT, SERVER_REDIS_PREFIX, ServerProcess, start_server, unavailable

CHROMIUM = os.environ.get("LIVECOMPANION_TEST_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("LIVECOMPANION_SCREENSHOTS", "/tmp/livecompanion-screenshots"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope: Playwright's sync API holds an event loop on this thread while it runs, and the
    # async tests of other packages run in the same session after these.
    if not Path(CHROMIUM).exists():
        unavailable("Chromium", f"{CHROMIUM} does not exist")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[ServerProcess]:
    """One server for a module's tests (each test makes its own stream)."""
    proc = start_server(tmp_path_factory.mktemp("pages"), redis_url=redis_url)
    yield proc
    proc.stop()


def run_async(make) -> Any:  # type: ignore[no-untyped-def]
    """Run a coroutine to the end in a thread of its own (Playwright's sync API owns this thread's loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, make()).result()


class Stream:
    """A stream on the live server, plus a side door into its shared state."""

    def __init__(self, server: ServerProcess, redis_url: str) -> None:
        self.server = server
        self.redis_url = redis_url
        created = httpx.post(f"{server.base_url}/api/streams", content=EXAMPLE_SCRIPT.read_bytes(),
                             headers={**server.headers("operator"), "Content-Type": "application/yaml"})
        assert created.status_code == 201, created.text
        self.id = created.json()["id"]
        self.state()  # loads the document into the hub

    def url(self, page: str, role: str = "viewer", query: str = "") -> str:
        return f"{self.server.base_url}/streams/{self.id}/{page}?token={self.server.tokens[role]}{query}"

    def post(self, tail: str, json: object = None, method: str = "POST") -> httpx.Response:
        response = httpx.request(method, f"{self.server.base_url}/api/streams/{self.id}{tail}", json=json,
                                 headers=self.server.headers("operator"))
        assert response.status_code < 300, response.text
        return response

    def state(self) -> dict[str, Any]:
        return httpx.get(f"{self.server.base_url}/api/streams/{self.id}",
                         headers=self.server.headers("viewer")).json()["state"]

    def write(self, ops: list[dict[str, Any]]) -> None:
        """Apply ops to the shared document as another instance would (through Redis)."""
        async def run() -> None:
            hub = make_hub(self.redis_url, SERVER_REDIS_PREFIX)
            try:
                await hub.apply(self.id, ops)
            finally:
                await hub.close()

        run_async(run)

    def drop(self) -> None:
        async def run() -> None:
            hub = make_hub(self.redis_url, SERVER_REDIS_PREFIX)
            await hub.drop(self.id)
            await hub.close()

        run_async(run)


@pytest.fixture
def stream(live_server: ServerProcess, redis_url: str) -> Iterator[Stream]:
    made = Stream(live_server, redis_url)
    yield made
    made.drop()


def shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def watch_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


SKEW_SCRIPT = """
(() => {
  const skew = %d;
  const realNow = Date.now.bind(Date);
  Date.now = () => realNow() + skew;
})();
"""
