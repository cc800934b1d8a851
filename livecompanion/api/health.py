"""Liveness for load balancers and tests."""

from __future__ import annotations

from fastapi import APIRouter

from livecompanion import __version__
from livecompanion.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
async def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}
