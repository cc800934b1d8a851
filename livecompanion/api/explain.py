"""講解 from the console: `POST /api/streams/{id}/explain` (operator) starts or stops explaining a
product; see `livecompanion.stream.explain`."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from livecompanion.api.deps import get_services, require
from livecompanion.api.schemas import answers
from livecompanion.stream.explain import explain
from livecompanion.wiring import Services

router = APIRouter(tags=["show control"])


class ExplainIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=100, description="a product of the stream's script")
    action: Literal["start", "stop"] = Field(description="start: a start while another runs ends that one")


@router.post("/api/streams/{stream_id}/explain", dependencies=[Depends(require("operator"))],
             responses=answers(404, 409, 422))
async def explain_product(stream_id: str, body: ExplainIn,
                          services: Services = Depends(get_services)) -> dict[str, Any]:
    """Record a `product_explain` event and show on every console what is being explained."""
    return await explain(services, stream_id, body.sku, body.action)
