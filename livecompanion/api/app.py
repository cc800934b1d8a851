"""The FastAPI application: services built and started at start, routers included, pages served."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from livecompanion import __version__, wiring
from livecompanion.api import (
    alerts,
    console,
    errors,
    explain,
    guards,
    health,
    home,
    ingest,
    live,
    lotteries,
    obs,
    pages,
    reports,
    sales,
    shop_webhooks,
    streams,
    wall,
    webhooks,
)
from livecompanion.api.hot_paths import HotPathsFirst
from livecompanion.api.idempotency import IdempotencyMiddleware
from livecompanion.config import Settings

# Every router of the service. Routes are matched in order, and each router tried costs a request
# ~15-20 us of FastAPI's matching: claims and ingest batches, the hottest paths, come first (an
# unauthorised ingest POST, in process: 153 -> 100 us with ingest third instead of eighth).
ROUTERS = (health, sales, ingest, streams, live, console, pages, home, webhooks, shop_webhooks, lotteries,
           reports, explain, obs, alerts, wall)

WEB = Path(__file__).resolve().parent.parent / "web"


WARM_UP_PATH = "/__warm_up__"  # served by no route: its request walks every router


async def warm_routes(app: FastAPI) -> None:
    """Send one request that no route serves through the whole app, before the service listens.

    FastAPI (0.16x) builds an included router's routes (their pydantic adapters and all) when a
    request first walks through that router. The first request to walk all of them held the event
    loop ~80 ms, and under load that request was whichever came first: the first pins of an evening
    waited behind it (a watchdog caught a 34 ms stall in `_build_effective_context`). A 404 walks
    them all, so afterwards no request builds anything."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": WARM_UP_PATH, "raw_path": WARM_UP_PATH.encode(), "query_string": b"",
             "root_path": "", "headers": [(b"host", b"localhost")], "client": ("127.0.0.1", 0),
             "server": ("127.0.0.1", 0)}

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: object) -> None:
        return None

    await app(scope, receive, send)


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = wiring.build_services(settings)
        app.state.services = services
        await wiring.start(services)
        wiring.warm_up()
        await warm_routes(app)
        ingest.tune_gc()  # after start-up, so what start-up made is frozen out of the collector
        try:
            yield
        finally:
            await wiring.close(services)

    app = FastAPI(
        title="LiveCompanion",
        version=__version__,
        summary="Companion service for live-stream selling: scripts, show control, ingest, flash sales, reports.",
        lifespan=lifespan,
    )
    errors.install(app)
    app.add_middleware(HotPathsFirst)  # innermost of ours: claims and ingest batches skip the router
    app.add_middleware(IdempotencyMiddleware)  # Idempotency-Key on the operator's POSTs
    app.add_middleware(guards.Guard, limits=guards.Limits(
        ws_per_address=settings.ws_per_address, ws_per_token=settings.ws_per_token,
        body_seconds=settings.body_timeout, header_seconds=settings.header_timeout))
    for module in ROUTERS:
        app.include_router(module.router)
    sales.document_claims(app)
    if (WEB / "static").is_dir():
        app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")
    if pages.OVERLAYS.is_dir():
        app.mount("/overlays/static", StaticFiles(directory=pages.OVERLAYS), name="overlays")
    return app
