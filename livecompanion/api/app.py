"""The FastAPI application: services built at start, routers included, pages and overlays served."""

from __future__ import annotations

import importlib
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from livecompanion import __version__
from livecompanion.api import errors
from livecompanion.api.services import Services
from livecompanion.config import Settings
from livecompanion.storage.db import Database

# Every router of the service, by module; each module exposes `router`.
ROUTERS = [
    "livecompanion.api.health",
    "livecompanion.api.sales",  # early: routes are matched in order, and claims are the hottest path
    "livecompanion.api.streams",
    "livecompanion.api.live",
    "livecompanion.api.pages",
    "livecompanion.api.home",
    "livecompanion.api.ingest",
    "livecompanion.api.webhooks",
    "livecompanion.api.lotteries",
    "livecompanion.api.reports",
    "livecompanion.api.obs",
]

WEB = Path(__file__).resolve().parent.parent / "web"
OVERLAYS = Path(__file__).resolve().parent.parent.parent / "overlays"


def build_services(settings: Settings) -> Services:
    from livecompanion.realtime import make_hub

    tokens = {
        "operator": settings.operator_token or "",
        "ingest": settings.ingest_token or "",
        "viewer": settings.viewer_token or "",
    }
    if not all(tokens.values()):
        raise ValueError("all three tokens must be set (Settings.with_generated_tokens fills them)")
    db = Database(settings.resolved_database_url())
    return Services(settings=settings, db=db, hub=make_hub(settings.redis_url, prefix=settings.redis_prefix), tokens=tokens)


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = build_services(settings)
        app.state.services = services
        hooks = [importlib.import_module(name) for name in ROUTERS]
        for module in hooks:  # domains with background work (writers, timers) start here
            if hasattr(module, "on_startup"):
                await module.on_startup(services)
        try:
            yield
        finally:
            for module in reversed(hooks):
                if hasattr(module, "on_shutdown"):
                    await module.on_shutdown(services)
            close = getattr(services.hub, "close", None)
            if close is not None:
                await close()
            await services.db.dispose()

    app = FastAPI(
        title="LiveCompanion",
        version=__version__,
        summary="Companion service for live-stream selling: scripts, show control, ingest, flash sales, reports.",
        lifespan=lifespan,
    )
    errors.install(app)
    for name in ROUTERS:
        app.include_router(importlib.import_module(name).router)
    if (WEB / "static").is_dir():
        app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")
    if OVERLAYS.is_dir():
        app.mount("/overlays/static", StaticFiles(directory=OVERLAYS), name="overlays")
    return app
