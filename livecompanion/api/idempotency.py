"""`Idempotency-Key` on the operator's POSTs (contract section 5), as one ASGI middleware.

Every operator POST under /api/streams that starts, creates or moves something honours the header:
streams, segments (next, previous, goto), end and reopen, flash sales (start, stop), countdowns,
lotteries (start, draw), pins, cue fires. The answer the route gave is stored whole (status, JSON
body) and a repeat gets exactly it back, with `Idempotent-Replayed: true`. Claims and events keep
their own keys (`order_id`, `event_id`) and are not touched here; nor is a request without the
header or without the operator token (the route answers 401/403 as usual, nothing is stored).
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from livecompanion.api.deps import is_remote, role_of
from livecompanion.errors import DomainError
from livecompanion.stream.idempotency import SERVICE_SCOPE, Answer, Idempotency
from livecompanion.stream.idempotency_repository import IdempotencyRepository

_PATH = re.compile(r"^/api/streams(?:/(?P<stream>[^/]+)/(?P<rest>.+))?/?$")
_OWN_KEY_TAILS = ("/claims", "/events")
_REMOTE_PATHS = ("prompter", "segments/next")  # what a phone remote's token may do
_OWN_KEYS = re.compile(r"^(events|flash-sales/[^/]+/claims)$")  # ingest paths with keys of their own


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _token(scope: Scope) -> str | None:
    auth = _header(scope, b"authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    for part in scope.get("query_string", b"").decode("latin-1").split("&"):
        if part.startswith("token="):
            from urllib.parse import unquote

            return unquote(part[6:])
    return None


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The hot paths (claims, events) leave first: one string test, no header scan.
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].endswith(_OWN_KEY_TAILS):
            await self.app(scope, receive, send)
            return
        key = _header(scope, b"idempotency-key")
        match = _PATH.match(scope["path"]) if key is not None else None
        if key is None or match is None or (match["rest"] and _OWN_KEYS.match(match["rest"])):
            await self.app(scope, receive, send)
            return
        services: Any = scope["app"].state.services
        token = _token(scope)
        remote = match["rest"] in _REMOTE_PATHS and is_remote(token, services.tokens, match["stream"])
        if role_of(token, services.tokens) != "operator" and not remote:
            await self.app(scope, receive, send)
            return

        async def action() -> Answer:
            start: Message = {}
            chunks: list[bytes] = []

            async def capture(message: Message) -> None:
                nonlocal start
                if message["type"] == "http.response.start":
                    start = message
                elif message["type"] == "http.response.body":
                    chunks.append(message.get("body", b""))

            await self.app(scope, receive, capture)
            content_type = "application/json"
            for name, value in start.get("headers", []):
                if name.lower() == b"content-type":
                    content_type = value.decode("latin-1")
            return Answer(int(start.get("status", 500)), content_type, b"".join(chunks).decode("utf-8", "replace"))

        store = Idempotency(IdempotencyRepository(services.db))
        try:
            answer = await store.run(match["stream"] or SERVICE_SCOPE, key, "POST", scope["path"], action)
        except DomainError as exc:  # a bad key, or the first request still under way after the wait
            answer = Answer(exc.status, "application/json", orjson.dumps(exc.body()).decode())
        body = answer.body.encode()
        headers = [(b"content-type", answer.content_type.encode("latin-1")),
                   (b"content-length", str(len(body)).encode())]
        if answer.replayed:
            headers.append((b"idempotent-replayed", b"true"))
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
