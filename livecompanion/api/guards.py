"""Slow and abusive clients shed, before any router sees them (issue 13 items 6 and 7).

`Guard` is an ASGI middleware in front of the whole app:
- WebSockets are capped per client address (`ws_per_address`) and per token (`ws_per_token`, the
  token as presented in `?token=`, the Authorization header or the `bearer.` subprotocol): one
  more is refused before the upgrade (HTTP 403). A viewer page reconnects on its own when a
  socket closes, so a cap is felt as "try again later", never as a lost screen; the defaults
  are far above a real show's screens.
- Each socket's transport is kept in its scope (`TRANSPORT_KEY`), so a close that cannot complete
  (the peer stopped reading: the close frame sits behind a full send queue) is cut with
  `transport.abort()` (`abort_socket`), freeing its kernel queue and its task at once.
- A request body must keep coming: each read of it waits at most `body_seconds`, then the request is
  treated as a client that hung up (Starlette's ClientDisconnect: 400, nothing accepted).
- A path holding a character the text rule refuses (`%00`, control characters) is answered 400
  (documented on every route): no stream, sale or lottery id can hold one, and PostgreSQL would
  refuse the lookup (a 500).

`guarded_http_protocol()` is uvicorn's HTTP protocol with a header deadline: a connection that has
not sent a whole request head within `header_seconds` of its first byte is closed (uvicorn has no
header timeout; its keep-alive timeout covers only idle time between requests). Together with
uvicorn's `limit_concurrency` (server.py) this is the slowloris defence: 300 half-sent requests
used to make /healthz fail on an instance with 256 file descriptors.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from livecompanion.api.tokens import token_of_subprotocols
from livecompanion.text import text_ok

log = logging.getLogger(__name__)

TRANSPORT_KEY = "livecompanion.transport"


@dataclass(frozen=True)
class Limits:
    ws_per_address: int = 500
    ws_per_token: int = 10_000
    body_seconds: float = 15.0
    header_seconds: float = 10.0
    close_seconds: float = 2.0  # a WebSocket close that takes longer is cut (abort_socket)


def _token_of(scope: Scope) -> str:
    token = ""
    for name, value in scope.get("headers", []):
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            token = value[7:].decode("latin-1").strip()
        elif name == b"sec-websocket-protocol" and not token:
            token = token_of_subprotocols(value.decode("latin-1")) or ""
    if not token:
        token = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token") or [""])[0]
    # Counted by a digest: the token itself is kept nowhere it is not needed.
    return hashlib.blake2b(token.encode(), digest_size=8).hexdigest()


class Guard:
    def __init__(self, app: ASGIApp, limits: Limits | None = None) -> None:
        self.app = app
        self.limits = limits or Limits()
        self.per_address: Counter[str] = Counter()
        self.per_token: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self.app(scope, receive, send)
            return
        if not text_ok(scope.get("path", "")):
            await _bad_path(scope, send)
            return
        if kind == "websocket":
            await self._socket(scope, receive, send)
        else:
            await self.app(scope, self._body_deadline(receive), send)

    async def _socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        address = (scope.get("client") or ("?", 0))[0]
        token = _token_of(scope)
        if (self.per_address[address] >= self.limits.ws_per_address
                or self.per_token[token] >= self.limits.ws_per_token):
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1013, "reason": "too many sockets"})
            return
        # uvicorn's ASGI `send` is a bound method of the connection's protocol, which holds the transport.
        scope[TRANSPORT_KEY] = getattr(getattr(send, "__self__", None), "transport", None)
        self.per_address[address] += 1
        self.per_token[token] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            for counter, key in ((self.per_address, address), (self.per_token, token)):
                counter[key] -= 1
                if counter[key] <= 0:
                    del counter[key]

    def _body_deadline(self, receive: Receive) -> Receive:
        seconds = self.limits.body_seconds
        done = False

        async def guarded() -> Message:
            nonlocal done
            if done:  # after the body: waiting for a disconnect during a long answer is fine
                return await receive()
            try:
                async with asyncio.timeout(seconds):
                    message = await receive()
            except TimeoutError:
                done = True
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                done = True
            return message

        return guarded


async def _bad_path(scope: Scope, send: Send) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 4404, "reason": "not found"})
        return
    body = b'{"detail":"the path holds a control character"}'
    await send({"type": "http.response.start", "status": 400,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def close_socket(websocket: Any, code: int, reason: str, seconds: float | None = None) -> None:
    """Close a socket, or cut its connection if the close frame does not go out within `seconds`
    (Limits.close_seconds): a client that stopped reading has a full send queue, and the close
    frame waits behind it forever (issue 13)."""
    try:
        async with asyncio.timeout(Limits.close_seconds if seconds is None else seconds):
            await websocket.close(code=code, reason=reason)
    except TimeoutError:
        log.info("socket %s: close not taken in time; connection cut", websocket.scope.get("path"))
        abort_socket(websocket.scope)
    except (RuntimeError, OSError):
        pass  # already closed or gone
    except Exception as exc:  # noqa: BLE001 - WebSocketDisconnect and the like: gone
        log.debug("socket close: %r", exc)


def abort_socket(scope: Scope) -> None:
    """Cut a socket's connection now (its close could not complete): frees its send queue."""
    transport = scope.get(TRANSPORT_KEY)
    if transport is not None:
        transport.abort()


def guarded_http_protocol(header_seconds: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol (httptools or h11, as uvicorn picks) with a deadline on request heads."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    class HeaderDeadline(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
        _head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            cycle = getattr(self, "cycle", None)
            upgraded = self.transport.get_protocol() is not self
            if upgraded or (cycle is not None and not cycle.response_complete):
                self._disarm()  # a whole head arrived: the app (and its body deadline) takes over
            elif self._head_timer is None and not self.transport.is_closing():
                self._arm()  # the first bytes of a next request on a kept-alive connection

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._head_timer = asyncio.get_running_loop().call_later(header_seconds, self._too_slow)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _too_slow(self) -> None:
            self._head_timer = None
            cycle = getattr(self, "cycle", None)
            if cycle is None or cycle.response_complete:
                self.transport.close()

    return HeaderDeadline
