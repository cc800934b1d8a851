"""The hottest requests go straight to their handlers, past FastAPI's layers (issue 20).

`HOT_PATHS` is a table of (method, path template) -> handler; `HotPathsFirst`, an ASGI middleware
(the innermost of ours), hands a request that matches one of them to its handler directly: no
Starlette exception layer, no FastAPI exit stack, no route matching, no dependency solving. Each
handler is the routed endpoint's own code with its dependencies resolved by hand, so it answers
exactly as the route does (tests/api/test_hot_paths.py sends the same requests both ways and
compares status, headers and bodies). The routes stay, for /docs and for a deployment behind a
root path (such a request is left to the router).

Errors are answered as the app's handlers answer them (api/errors.py): a `DomainError` in its HTTP
form, a client that hung up mid-body 400; anything else still reaches ServerErrorMiddleware (500).

Measured (in process, the real app on PostgreSQL + Redis, scripts/bench_ingest_http.py): a batch of 50
events through the route 2,837-2,940 us of CPU, past it 2,381-2,482 us (0.84; the layers beyond the
service call 735-757 -> 279-298 us); BENCHMARKS.md, "Hot paths past FastAPI's routing". Claims:
871-1,001 -> 731-739 us a claim through the app (scripts/bench_claim_http.py).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from livecompanion.api import ingest, sales
from livecompanion.api.errors import client_gone, response_of
from livecompanion.errors import DomainError

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class HotPath:
    """One hot request: its method, its path as the route writes it, the handler that answers it."""

    method: str
    template: str
    handler: Handler
    pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Starlette's own compilation of the route's path: the same ids match as on the route.
        object.__setattr__(self, "pattern", compile_path(self.template)[0])


HOT_PATHS: tuple[HotPath, ...] = (
    HotPath("POST", sales.CLAIMS_PATH, sales.claim),  # a sell-out: thousands a second, for seconds
    HotPath("POST", ingest.EVENTS_PATH, ingest.post_events_direct),  # ten batches a second a room
)


class HotPathsFirst:
    """ASGI middleware: a request of `paths` goes to its handler, any other to the app."""

    def __init__(self, app: ASGIApp, paths: tuple[HotPath, ...] = HOT_PATHS) -> None:
        self.app = app
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            method, path = scope["method"], scope["path"]
            for hot in self.paths:
                found = hot.pattern.match(path) if hot.method == method else None
                if found is not None:
                    scope["path_params"] = found.groupdict()
                    try:
                        response = await hot.handler(Request(scope, receive, send))
                    except DomainError as exc:
                        response = response_of(exc)
                    except ClientDisconnect:
                        response = client_gone()
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)
