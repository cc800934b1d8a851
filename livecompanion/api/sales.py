"""Flash-sale endpoints (contract section 5, plus stop and reads).

    POST /api/streams/{id}/flash-sales                     operator  start: 201 {id, ends_at, ...}
    POST /api/streams/{id}/flash-sales/{sale}/claims       ingest    201 {rank, bonus, remaining, ...}
                                                                     409 sold_out | limit_reached |
                                                                     order_id_conflict; 410 ended;
                                                                     503 + Retry-After: Redis down
                                                                     (nothing claimed), or the claim
                                                                     not recorded in time (retry
                                                                     with the same order_id)
    POST /api/streams/{id}/flash-sales/{sale}/stop         operator  the sale, stopped
    GET  /api/streams/{id}/flash-sales[/{sale}]            viewer    sale(s) with the record's claims

The claim handler is the hot path of a sell-out: it parses its small body itself and answers with
ready JSON bytes (no model round trips).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from livecompanion.api.deps import allowed, get_services, require, role_of
from livecompanion.api.services import Services
from livecompanion.sales.base import NotRecorded, StoreUnavailable
from livecompanion.sales.rules import ENDED, GRANTED, REPLAYED, check_qty
from livecompanion.sales.service import sales_of

router = APIRouter(tags=["flash sales"])

RETRY_AFTER_SECONDS = 1
MAX_ID = 200


class FlashSaleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^\S+$")]
    price: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
    stock: Annotated[int, Field(ge=1, le=1_000_000)]
    duration_seconds: Annotated[int, Field(ge=1, le=24 * 3600)]
    first_n: Annotated[int, Field(ge=1)] | None = None
    first_n_bonus: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    per_user_limit: Annotated[int, Field(ge=1, le=1000)] = 1


CLAIM_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {
            "type": "object", "required": ["user_id"], "additionalProperties": False,
            "properties": {
                "user_id": {"type": "string", "minLength": 1, "maxLength": MAX_ID},
                "qty": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1},
                "order_id": {"type": "string", "minLength": 1, "maxLength": MAX_ID,
                             "description": "idempotency key: the same order_id always gets the same claim"},
            },
        }}},
    }
}


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _id(body: dict[str, Any], name: str, required: bool) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise ValueError(f"'{name}' is required")
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # platforms send numeric ids
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_ID:
        raise ValueError(f"'{name}' must be a string of 1 to {MAX_ID} characters")
    return value


def parse_claim(raw: bytes) -> tuple[str, int, str | None]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    unknown = set(body) - {"user_id", "qty", "order_id"}
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
    user_id = _id(body, "user_id", True)
    qty = check_qty(body.get("qty", 1))
    return user_id, qty, _id(body, "order_id", False)  # type: ignore[return-value]


@router.post("/api/streams/{stream_id}/flash-sales", status_code=201,
             dependencies=[Depends(require("operator"))])
async def start_flash_sale(stream_id: str, body: FlashSaleIn,
                           services: Services = Depends(get_services)) -> Any:
    """Start a flash sale; 409 `sale_running` while another sale of the same sku runs. A sale that
    matches a due cue of the live segment ticks that cue off (`cue` in the answer)."""
    from livecompanion.stream.service import tick_matching_cue

    try:
        sale = await sales_of(services).create_sale(stream_id, **body.model_dump())
    except ValueError as exc:
        return JSONResponse({"detail": str(exc)}, 422)
    return sale | {"cue": await tick_matching_cue(services, stream_id, "flash_sale", body.sku)}


def _refused(request: Request, tokens: dict[str, str]) -> Response | None:
    """The ingest role check of deps.require, inline: FastAPI runs a sync dependency in a worker
    thread, which on this path cost more than the claim itself."""
    auth = request.headers.get("authorization")
    token = auth[7:].strip() if auth and auth[:7].lower() == "bearer " else request.query_params.get("token")
    have = role_of(token, tokens)
    if have is None:
        return _json(401, {"detail": "a token is required: Authorization: Bearer TOKEN or ?token="},
                     {"WWW-Authenticate": "Bearer"})
    if not allowed(have, "ingest"):
        return _json(403, {"detail": "this needs the ingest token"})
    return None


CLAIMS_PATH = "/api/streams/{stream_id}/flash-sales/{sale_id}/claims"


async def claim_endpoint(request: Request) -> Response:
    """The claim, as a plain Starlette endpoint: no FastAPI parameter solving on the hottest path."""
    return await claim(request.path_params["stream_id"], request.path_params["sale_id"], request)


# Served by this first route; the FastAPI route below it only documents the endpoint in /docs.
router.add_route(CLAIMS_PATH, claim_endpoint, methods=["POST"], include_in_schema=False)


@router.post(CLAIMS_PATH, status_code=201, openapi_extra=CLAIM_BODY,
             description="Role: ingest (or operator).")
async def claim(stream_id: str, sale_id: str, request: Request) -> Response:
    services: Services = request.app.state.services
    refused = _refused(request, services.tokens)
    if refused is not None:
        return refused
    try:
        user_id, qty, order_id = parse_claim(await request.body())
    except ValueError as exc:
        return _json(422, {"detail": str(exc)})
    try:
        reply = await sales_of(services).claim(stream_id, sale_id, user_id, qty, order_id)
    except StoreUnavailable:
        return _json(503, {"detail": "flash-sale stock is unreachable; nothing was claimed: retry"},
                     {"Retry-After": str(RETRY_AFTER_SECONDS)})
    except NotRecorded:
        return _json(503, {"detail": "the claim is not recorded yet: retry with the same order_id"},
                     {"Retry-After": str(RETRY_AFTER_SECONDS)})
    if reply.code in (GRANTED, REPLAYED) and reply.claim is not None:
        c = reply.claim
        return _json(201, {"rank": c.rank, "bonus": c.bonus, "remaining": reply.remaining, "qty": c.qty,
                           "order_id": order_id, "status": c.status, "replayed": reply.code == REPLAYED})
    if reply.code == ENDED:
        return _json(410, {"detail": "ended"})
    return _json(409, {"detail": reply.code, "remaining": reply.remaining})


@router.post("/api/streams/{stream_id}/flash-sales/{sale_id}/stop",
             dependencies=[Depends(require("operator"))])
async def stop_flash_sale(stream_id: str, sale_id: str, services: Services = Depends(get_services)) -> Any:
    try:
        return await sales_of(services).stop(stream_id, sale_id)
    except StoreUnavailable:
        return _json(503, {"detail": "flash-sale stock is unreachable; the sale was not stopped: retry"},
                     {"Retry-After": str(RETRY_AFTER_SECONDS)})


@router.get("/api/streams/{stream_id}/flash-sales", dependencies=[Depends(require("viewer"))])
async def list_flash_sales(stream_id: str, services: Services = Depends(get_services)) -> Any:
    from livecompanion.storage.streams import get_stream

    await get_stream(services.db, stream_id)  # 404 for an unknown stream
    return await sales_of(services).list_sales(stream_id)


@router.get("/api/streams/{stream_id}/flash-sales/{sale_id}", dependencies=[Depends(require("viewer"))])
async def get_flash_sale(stream_id: str, sale_id: str, services: Services = Depends(get_services)) -> Any:
    return await sales_of(services).view(stream_id, sale_id)


async def on_startup(services: Services) -> None:
    sales_of(services)  # starts the timer, the screen pusher and (with Redis) the drainer


async def on_shutdown(services: Services) -> None:
    service = services.extras.pop("sales", None)
    if service is not None:
        await service.close()
