"""場控 alerts over HTTP: list a stream's alerts, acknowledge one (the console's click).

Thin: the alerts themselves are raised by `livecompanion.alerts.service` and reach the screens in
the live document's `alerts` section.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from livecompanion.api.deps import get_services, require
from livecompanion.api.schemas import answers
from livecompanion.stream import service as stream_service
from livecompanion.wiring import Services

router = APIRouter(tags=["alerts"])


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=200, description="the alert's id (its key in `alerts`)")


@router.get("/api/streams/{stream_id}/alerts", dependencies=[Depends(require("viewer"))],
            responses=answers(404))
async def list_alerts(stream_id: str, services: Services = Depends(get_services)) -> dict[str, Any]:
    """Every alert raised in the stream, oldest first (`acked_ms` null while open)."""
    _, state = await stream_service.load_state(services, stream_id)
    alerts = sorted((state.get("alerts") or {}).values(), key=lambda a: a["ts"])
    return {"alerts": alerts}


@router.post("/api/streams/{stream_id}/alerts/ack", dependencies=[Depends(require("operator"))],
             responses=answers(404, 422))
async def ack_alert(stream_id: str, body: AckIn, services: Services = Depends(get_services)) -> dict[str, Any]:
    """Acknowledge an alert: it leaves the screens; it stays in the log, marked."""
    return await services.alerts.ack(stream_id, body.id)
