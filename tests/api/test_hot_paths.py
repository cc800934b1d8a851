"""The hot paths (api/hot_paths.py) answer exactly as their FastAPI routes: the same ingest requests
sent past the router and through it (a root-path request, which `HotPathsFirst` leaves to the
router) give the same status, headers and bodies. On PostgreSQL + Redis, as deployed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from livecompanion.api.app import create_app
from livecompanion.config import Settings
from livecompanion.ingest.service import MAX_BODY_BYTES, MAX_EVENTS
from livecompanion.storage.migrate import upgrade_async
from tests.sales.conftest import SCRIPT_YAML

TOKENS = {"operator": "op", "ingest": "in", "viewer": "vw"}


def bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}"}


def comments(prefix: str, n: int) -> list[dict[str, Any]]:
    return [{"type": "comment", "id": f"{prefix}{i}", "user_id": f"u{i}", "text": "想要 多少錢?"} for i in range(n)]


async def oversized() -> AsyncIterator[bytes]:
    """A body over the limit with no Content-Length: refused while it is read."""
    chunk = b"[" + b" " * (1 << 20)
    for _ in range(MAX_BODY_BYTES // len(chunk) + 2):
        yield chunk


def requests(stream: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(what, method, httpx arguments) of every request sent both ways; `stream` is the variant's own."""
    events = f"/api/streams/{stream}/events"
    good = [*comments("c", 3), {"type": "comment", "user_id": "u9"},  # index 3: no text
            {"type": "viewer_count", "count": 1200, "id": "vc1"}, {"type": "nonsense", "id": "x"}]
    ndjson = b'{"type":"enter","user_id":"u1","id":"e1"}\n{"type": \n{"type":"enter","user_id":"u2","id":"e2"}\n'
    return [
        ("good batch, bad events by index", "POST", {"url": events, "json": good, "headers": bearer("ingest")}),
        ("the same batch again: duplicates", "POST", {"url": events, "json": good, "headers": bearer("ingest")}),
        ("one object", "POST", {"url": events, "json": comments("one", 1)[0], "headers": bearer("ingest")}),
        ("NDJSON with a broken line", "POST", {"url": events, "content": ndjson, "headers": {
            **bearer("ingest"), "Content-Type": "application/x-ndjson"}}),
        ("the operator may ingest", "POST", {"url": events, "json": comments("op", 2), "headers": bearer("operator")}),
        ("the token in the query", "POST", {"url": events, "json": comments("q", 2), "params": {"token": "in"}}),
        ("no token", "POST", {"url": events, "json": comments("n", 1)}),
        ("a token of no role", "POST", {"url": events, "json": comments("n", 1), "headers": {
            "Authorization": "Bearer wrong"}}),
        ("the viewer's token", "POST", {"url": events, "json": comments("n", 1), "headers": bearer("viewer")}),
        ("bad JSON", "POST", {"url": events, "content": b'[{"type": "comment",', "headers": {
            **bearer("ingest"), "Content-Type": "application/json"}}),
        ("not events at all", "POST", {"url": events, "content": b'"hello"', "headers": bearer("ingest")}),
        ("an empty body", "POST", {"url": events, "content": b"  ", "headers": bearer("ingest")}),
        ("too large, declared", "POST", {"url": events, "content": b" " * (MAX_BODY_BYTES + 1),
                                        "headers": bearer("ingest")}),
        ("too large, streamed", "POST", {"url": events, "content": oversized(), "headers": bearer("ingest")}),
        ("too many events", "POST", {"url": events, "json": [{}] * (MAX_EVENTS + 1), "headers": bearer("ingest")}),
        ("unknown stream", "POST", {"url": "/api/streams/nope/events", "json": comments("u", 1),
                                    "headers": bearer("ingest")}),
        ("unknown stream, no token", "POST", {"url": "/api/streams/nope/events", "json": comments("u", 1)}),
        ("a GET is not hot (the event log: viewer)", "GET", {"url": events, "headers": bearer("ingest")}),
    ]


async def hung_up(app: Any, path: str, root_path: str) -> tuple[int, bytes]:
    """A POST whose sender hangs up mid-body (as Guard reports a body that stopped coming)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": root_path,
             "headers": [(b"authorization", b"Bearer in"), (b"host", b"lc")], "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 80), "state": {}}
    messages = [{"type": "http.request", "body": b'[{"type":', "more_body": True}, {"type": "http.disconnect"}]
    status, body = 0, b""

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, body
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            body += message.get("body", b"")

    await app(scope, receive, send)
    return status, body


def answer(response: httpx.Response) -> tuple[int, list[tuple[str, str]], Any]:
    body: Any = response.content
    if response.headers.get("content-type") == "application/json":
        body = orjson.loads(body)
    return response.status_code, sorted(response.headers.multi_items()), body


async def test_ingest_past_the_router_answers_as_the_route(
    tmp_path: Path, postgres_url: str, redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=postgres_url, redis_url=redis_url, redis_prefix=redis_prefix,
                        operator_token=TOKENS["operator"], ingest_token=TOKENS["ingest"],
                        viewer_token=TOKENS["viewer"])
    await upgrade_async(postgres_url)
    app = create_app(settings)
    routed: list[str] = []
    router = type(app.router)
    through = router.__call__

    async def counted(self: Any, scope: Any, receive: Any, send: Any) -> None:
        routed.append(scope["path"])
        await through(self, scope, receive, send)

    async with app.router.lifespan_context(app):
        hot = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://lc")
        by_route = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, root_path="/lc"), base_url="http://lc")
        streams = []
        for _ in range(2):  # a stream for each way, so that each sees the same batches first
            created = await hot.post("/api/streams", content=SCRIPT_YAML.encode(),
                                     headers={**bearer("operator"), "Content-Type": "application/yaml"})
            streams.append(created.json()["id"])
        monkeypatch.setattr(router, "__call__", counted)
        answers: dict[str, list[tuple[str, tuple[int, list[tuple[str, str]], Any]]]] = {"hot": [], "route": []}
        for way, client, stream in (("hot", hot, streams[0]), ("route", by_route, streams[1])):
            for what, method, kwargs in requests(stream):
                answers[way].append((what, answer(await client.request(method, **kwargs))))
            if way == "hot":
                assert routed == [f"/api/streams/{stream}/events"]  # only the GET reached the router
            else:
                assert len(routed) == len(requests(stream))  # every request through FastAPI's route
            routed.clear()
        await hot.aclose()
        await by_route.aclose()
        events = f"/api/streams/{streams[0]}/events"
        gone = {root_path: await hung_up(app, events, root_path) for root_path in ("", "/lc")}
        assert gone[""] == gone["/lc"] == (400, b"")  # nothing accepted; not a 500

    for (what, past), (_, through_route) in zip(answers["hot"], answers["route"], strict=True):
        assert past == through_route, what
    statuses = {what: status for what, (status, _, _) in answers["hot"]}
    assert statuses == {
        "good batch, bad events by index": 200, "the same batch again: duplicates": 200, "one object": 200,
        "NDJSON with a broken line": 200, "the operator may ingest": 200, "the token in the query": 200,
        "no token": 401, "a token of no role": 401, "the viewer's token": 403, "bad JSON": 200,
        "not events at all": 200, "an empty body": 422, "too large, declared": 413, "too large, streamed": 413,
        "too many events": 413, "unknown stream": 404, "unknown stream, no token": 401,
        "a GET is not hot (the event log: viewer)": 403,
    }
    first = dict(answers["hot"])["good batch, bad events by index"][2]
    assert first["accepted"] == 4 and [r["index"] for r in first["rejected"]] == [3, 5]
    assert dict(answers["hot"])["the same batch again: duplicates"][2]["duplicates"] == 4
