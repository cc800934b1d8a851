"""Issue 13: a page takes its token from its address once and then keeps it out of every URL: the
address bar (history.replaceState), its socket (the `bearer.` subprotocol, api/tokens.py), its API
calls (Authorization). ?token= still works for OBS and scripts; a reload still works."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from livecompanion.api.deps import remote_token
from tests.pages.conftest import Stream, run_async, shot, watch_errors

SOCKET_PAGES = [("console", "operator"), ("teleprompter", "viewer"), ("overlay", "viewer"), ("remote", "remote")]


def token_for(stream: Stream, role: str) -> str:
    if role == "remote":
        return remote_token(stream.server.tokens, stream.id)  # type: ignore[arg-type]
    return stream.server.tokens[role]


class Recorder:
    """Every URL the page asks for (requests and sockets), and the snapshots its sockets received."""

    def __init__(self, page: Any) -> None:
        self.urls: list[str] = []
        self.snapshots = 0
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("websocket", self._socket)

    def _socket(self, ws: Any) -> None:
        self.urls.append(ws.url)
        ws.on("framereceived", self._frame)

    def _frame(self, payload: Any) -> None:
        if isinstance(payload, str) and payload.startswith('{"type":"snapshot"'):
            self.snapshots += 1

    def wait_for_snapshot(self, page: Any, count: int = 1, seconds: float = 15) -> None:
        deadline = time.monotonic() + seconds
        while self.snapshots < count and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        assert self.snapshots >= count, f"no snapshot on the page's socket; asked for {self.urls}"


@pytest.mark.parametrize(("page_name", "role"), SOCKET_PAGES)
def test_a_live_page_keeps_its_token_out_of_urls(browser, stream: Stream, page_name: str, role: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    errors = watch_errors(page)
    seen = Recorder(page)
    token = token_for(stream, role)
    page.goto(f"{stream.server.base_url}/streams/{stream.id}/{page_name}?token={token}&x=1")
    seen.wait_for_snapshot(page)
    page.wait_for_timeout(500)  # any late request (fonts, API reads) comes in too
    assert "token=" in seen.urls[0]
    later = [url for url in seen.urls[1:] if "token=" in url or token in url]
    assert later == [], later
    assert "token" not in page.url and page.url.endswith("x=1")  # gone from the address bar, the rest kept
    assert any("/ws/streams/" in url for url in seen.urls)
    # A reload (the address lost its token) still opens the page, and again only its first request
    # carries the token.
    seen.urls.clear()
    page.reload()
    seen.wait_for_snapshot(page, 2)
    page.wait_for_timeout(300)
    assert "token" not in page.url
    carrying = [url for url in seen.urls if "token=" in url]
    assert len(carrying) <= 1 and all("/ws/" not in url for url in carrying), seen.urls
    assert errors == []
    page.close()


@pytest.mark.parametrize("path", ["/", "/dashboard", "/streams/{id}/dashboard", "/wall"])
def test_a_plain_page_drops_its_token_from_the_address(browser, stream: Stream, path: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    seen = Recorder(page)
    role = "operator" if path == "/" else "viewer"
    token = stream.server.tokens[role]
    page.goto(f"{stream.server.base_url}{path.format(id=stream.id)}?token={token}")
    page.wait_for_load_state("networkidle")
    later = [url for url in seen.urls[1:] if "token=" in url]
    assert later == [], later
    assert "token" not in page.url
    page.reload()
    page.wait_for_load_state("networkidle")
    assert page.locator("body.problem").count() == 0  # the page itself again, not the 401 page
    if path == "/streams/{id}/dashboard":  # the operator link still gets the page's token (a download)
        shot(page, "dashboard-after-reload")
    page.close()


def test_sockets_take_the_token_every_way(stream: Stream) -> None:
    """The subprotocol (pages), the Authorization header and ?token= (OBS, scripts) all work; a
    wrong token in the subprotocol is refused."""
    import base64

    base = stream.server.ws_url + f"/ws/streams/{stream.id}"
    viewer = stream.server.tokens["viewer"]
    encoded = base64.urlsafe_b64encode(viewer.encode()).decode().rstrip("=")

    async def first(url: str, **kwargs: Any) -> tuple[str | None, str]:
        async with connect(url, **kwargs) as ws:
            return ws.subprotocol, str(await ws.recv())

    chosen, message = run_async(lambda: first(base, subprotocols=["livecompanion", f"bearer.{encoded}"]))
    assert chosen == "livecompanion" and '"snapshot"' in message
    assert '"snapshot"' in run_async(lambda: first(base, additional_headers={"Authorization": f"Bearer {viewer}"}))[1]
    assert '"snapshot"' in run_async(lambda: first(f"{base}?token={viewer}"))[1]
    with pytest.raises(Exception):  # noqa: B017 - the handshake is refused (HTTP 403)
        run_async(lambda: first(base, subprotocols=["livecompanion", "bearer.bm90LWl0"]))
    # A page without a token in its address or its tab: the 401 page, as before.
    assert httpx.get(f"{stream.server.base_url}/streams/{stream.id}/dashboard").status_code == 401
