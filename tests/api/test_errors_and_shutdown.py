"""The one error vocabulary over HTTP (a bug is a 500, never a 404), and a stop that always ends."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import httpx
import pytest
import websockets

from livecompanion.errors import Conflict, Gone, Invalid, NotFound, Unavailable
from tests.conftest import EXAMPLE_SCRIPT, ServerProcess, start_server


def test_each_domain_error_has_one_http_form() -> None:
    assert (NotFound("no stream 'x'").status, NotFound("no stream 'x'").body()) == (404, {"detail": "no stream 'x'"})
    sold_out = Conflict("sold_out", remaining=0)
    assert (sold_out.status, sold_out.body()) == (409, {"detail": "sold_out", "remaining": 0})
    ended = Gone("ended", "the sale has ended")
    assert (ended.status, ended.body()) == (410, {"detail": "ended", "message": "the sale has ended"})
    bad = Invalid("qty: too large", ("body", "qty"))
    assert bad.body() == {"detail": [{"loc": ["body", "qty"], "msg": "qty: too large", "type": "value_error"}]}
    busy = Unavailable("ingest is overloaded", retry_after=2)
    assert (busy.status, busy.headers()) == (503, {"Retry-After": "2"})
    # Built-in bases kept for callers written against them; only the domain types answer 404 / 422.
    assert isinstance(NotFound("x"), LookupError) and isinstance(bad, ValueError)
    assert not isinstance(KeyError("x"), NotFound)


def _stream(server: ServerProcess) -> str:
    created = httpx.post(f"{server.base_url}/api/streams", content=EXAMPLE_SCRIPT.read_bytes(),
                         headers={**server.headers("operator"), "Content-Type": "application/yaml"})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_errors_over_http_say_what_and_where(server: ServerProcess) -> None:
    sid = _stream(server)
    op = server.headers("operator")
    missing = httpx.post(f"{server.base_url}/api/streams/nope/segments/next", headers=op)
    assert (missing.status_code, missing.json()) == (404, {"detail": "no stream 'nope'"})
    httpx.post(f"{server.base_url}/api/streams/{sid}/segments/next", headers=op)
    moved = httpx.post(f"{server.base_url}/api/streams/{sid}/segments/next", headers=op, json={"from_index": 5})
    assert moved.status_code == 409 and moved.json()["detail"] == "show_state"
    assert "someone else moved the show" in moved.json()["message"]
    claim = httpx.post(f"{server.base_url}/api/streams/{sid}/flash-sales/x/claims", headers=server.headers("ingest"),
                       json={"user_id": "u", "qty": 0})
    assert claim.status_code == 422
    assert claim.json()["detail"][0]["loc"] == ["body", "qty"]
    assert httpx.post(f"{server.base_url}/api/streams/{sid}/flash-sales/x/claims",
                      json={"user_id": "u"}).status_code == 401
    unknown_sale = httpx.post(f"{server.base_url}/api/streams/{sid}/flash-sales/x/claims",
                              headers=server.headers("ingest"), json={"user_id": "u"})
    assert unknown_sale.status_code == 404
    # /docs describes the claim from the same model that parses it, with every answer.
    schema = httpx.get(f"{server.base_url}/openapi.json").json()
    claims = schema["paths"]["/api/streams/{stream_id}/flash-sales/{sale_id}/claims"]["post"]
    assert claims["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ClaimIn"}
    assert set(schema["components"]["schemas"]["ClaimIn"]["properties"]) == {"user_id", "qty", "order_id"}
    assert {"201", "409", "410", "422", "503"} <= set(claims["responses"])
    state = schema["paths"]["/api/streams/{stream_id}"]["get"]["responses"]["200"]
    assert state["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/StreamState"}


@pytest.mark.timeout(180)
@pytest.mark.parametrize("deployment", ["sqlite", "postgresql+redis"])
def test_sigterm_under_load_always_ends(tmp_path: Path, deployment: str, request: pytest.FixtureRequest) -> None:
    """Screens that never read, an ingest stream and a sale running: SIGTERM ends the process in a
    bounded time (uvicorn's grace, then each service's close bounded by wiring.CLOSE_SECONDS)."""
    extra: dict[str, str] = {}
    if deployment != "sqlite":
        extra = {"database_url": request.getfixturevalue("postgres_url"),
                 "redis_url": request.getfixturevalue("redis_url")}
    server = start_server(tmp_path, **extra, extra_env={"LIVECOMPANION_REDIS_PREFIX": f"lctest:{tmp_path.name}:"})
    try:
        sid = _stream(server)
        sale = httpx.post(f"{server.base_url}/api/streams/{sid}/flash-sales", headers=server.headers("operator"),
                          json={"sku": "MASK-01", "price": 79, "stock": 100, "duration_seconds": 600})
        assert sale.status_code == 201, sale.text

        async def load() -> float:
            url = f"{server.ws_url}/ws/streams/{sid}?token={server.tokens['viewer']}"
            sockets = [await websockets.connect(url, max_size=None) for _ in range(20)]  # never read
            stop = asyncio.Event()

            async def ingest() -> None:
                async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers("ingest")) as client:
                    n = 0
                    while not stop.is_set():
                        batch = [{"type": "comment", "id": f"c{n}-{i}", "user_id": f"u{i}", "text": "想要"}
                                 for i in range(200)]
                        n += 1
                        try:
                            await client.post(f"/api/streams/{sid}/events", json=batch, timeout=5)
                        except httpx.HTTPError:
                            return  # the server has gone: that is the point

            feeders = [asyncio.create_task(ingest()) for _ in range(4)]
            await asyncio.sleep(1.5)
            started = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            while server.process.poll() is None and time.monotonic() - started < 60:
                await asyncio.sleep(0.1)
            took = time.monotonic() - started
            stop.set()
            await asyncio.gather(*feeders, return_exceptions=True)
            for ws in sockets:
                ws.transport.abort()
            return took

        took = asyncio.run(load())
        assert server.process.poll() is not None, f"still running {took:.1f} s after SIGTERM"
        assert took < 30, took
    finally:
        server.stop()
