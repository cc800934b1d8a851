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

The claim handler is the hot path of a sell-out: a plain Starlette route that checks the role
itself (`deps.authorize`), parses its small body with `ClaimIn` and answers with ready JSON bytes;
`HotPathsFirst` (api/hot_paths.py) hands it claim POSTs before FastAPI's routing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from pydantic import ConfigDict, Field, StrictInt, ValidationError

from livecompanion.api.deps import authorize, get_services, require, services_of
from livecompanion.api.errors import response_of
from livecompanion.api.schemas import FlashSaleScreen, FlashSaleView, answers
from livecompanion.errors import DomainError, Invalid
from livecompanion.inputs import FromOutside
from livecompanion.sales.base import NotRecorded, StoreUnavailable
from livecompanion.sales.rules import ENDED, GRANTED, MAX_QTY, REPLAYED
from livecompanion.stream.cue_firing import tick_matching_cue
from livecompanion.wiring import Services

router = APIRouter(tags=["flash sales"])

RETRY_AFTER_SECONDS = 1
MAX_ID = 200


class FlashSaleIn(FromOutside):
    model_config = ConfigDict(extra="forbid")

    sku: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^\S+$")]
    price: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
    stock: Annotated[int, Field(ge=1, le=1_000_000)]
    duration_seconds: Annotated[int, Field(ge=1, le=24 * 3600)]
    first_n: Annotated[int, Field(ge=1)] | None = None
    first_n_bonus: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    per_user_limit: Annotated[int, Field(ge=1, le=1000)] = 1


class ClaimIn(FromOutside):
    """A buyer's claim. Numeric ids are ids: platforms send them as numbers, they are kept as text."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    user_id: Annotated[str, Field(min_length=1, max_length=MAX_ID)]
    qty: Annotated[StrictInt, Field(ge=1, le=MAX_QTY)] = 1
    order_id: Annotated[str, Field(
        min_length=1, max_length=MAX_ID,
        description="idempotency key: the same order_id always gets the same claim")] | None = None


def parse_claim(raw: bytes) -> ClaimIn:
    """The claim body, or `Invalid` pointing at the field that is wrong."""
    try:
        return ClaimIn.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise Invalid(f"{where}: {first['msg']}", ("body", *first["loc"]), first["type"]) from None


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


@router.post("/api/streams/{stream_id}/flash-sales", status_code=201,
             dependencies=[Depends(require("operator"))], response_model=FlashSaleScreen,
             responses=answers(404, 409, 422))
async def start_flash_sale(stream_id: str, body: FlashSaleIn,
                           services: Services = Depends(get_services)) -> Any:
    """Start a flash sale; 409 `sale_running` while another sale of the same sku runs. A sale that
    matches a due cue of the live segment ticks that cue off (`cue` in the answer)."""
    sale = await services.sales.create_sale(stream_id, **body.model_dump())
    return sale | {"cue": await tick_matching_cue(services, stream_id, "flash_sale", body.sku)}


CLAIMS_PATH = "/api/streams/{stream_id}/flash-sales/{sale_id}/claims"


async def claim(request: Request) -> Response:
    """The claim, as a plain Starlette endpoint: no FastAPI parameter or dependency solving on the
    hottest path of a sell-out (a dependency cost more than the claim itself). `document_claims`
    describes it in the OpenAPI schema from the same `ClaimIn` model that parses it."""
    services = services_of(request.app.state)
    stream_id, sale_id = request.path_params["stream_id"], request.path_params["sale_id"]
    try:
        authorize(request, services.tokens, "ingest")
        body = parse_claim(await request.body())
        reply = await services.sales.claim(stream_id, sale_id, body.user_id, body.qty, body.order_id)
    except StoreUnavailable:
        return _json(503, {"detail": "flash-sale stock is unreachable; nothing was claimed: retry"},
                     {"Retry-After": str(RETRY_AFTER_SECONDS)})
    except NotRecorded:
        return _json(503, {"detail": "the claim is not recorded yet: retry with the same order_id"},
                     {"Retry-After": str(RETRY_AFTER_SECONDS)})
    except DomainError as exc:
        return response_of(exc)
    order_id = body.order_id
    if reply.code in (GRANTED, REPLAYED) and reply.claim is not None:
        c = reply.claim
        return _json(201, {"rank": c.rank, "bonus": c.bonus, "remaining": reply.remaining, "qty": c.qty,
                           "order_id": order_id, "status": c.status, "replayed": reply.code == REPLAYED})
    if reply.code == ENDED:
        return _json(410, {"detail": "ended"})
    return _json(409, {"detail": reply.code, "remaining": reply.remaining})


router.add_route(CLAIMS_PATH, claim, methods=["POST"], include_in_schema=False)

CLAIM_ANSWERS = {
    "201": {"description": "granted (or replayed for a known order_id): `rank`, `bonus` (true for the "
                           "first N units), `remaining`, `qty`, `order_id`, `status`, `replayed`"},
    "400": {"description": "the body could not be read, or the path holds a control character"},
    "401": {"description": "no token"}, "403": {"description": "not the ingest or operator token"},
    "404": {"description": "no such stream or flash sale"},
    "409": {"description": "`sold_out`, `limit_reached` or `order_id_conflict`, with `remaining`"},
    "410": {"description": "the sale has ended"},
    "422": {"description": "the body is not a claim: `detail` says where"},
    "503": {"description": "stock unreachable (nothing claimed), or the claim not recorded yet "
                           "(retry with the same order_id); Retry-After"},
}


def document_claims(app: FastAPI) -> None:
    """Describe the claim route in /docs: its body is `ClaimIn`'s schema, its answers above."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {}).setdefault("schemas", {})["ClaimIn"] = ClaimIn.model_json_schema()
            schema["paths"][CLAIMS_PATH] = {"post": {
                "tags": ["flash sales"], "summary": "Claim", "operationId": "claim",
                "description": "Role: ingest (or operator).",
                "parameters": [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                               for n in ("stream_id", "sale_id")],
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ClaimIn"}}}},
                "responses": CLAIM_ANSWERS,
            }}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


@router.post("/api/streams/{stream_id}/flash-sales/{sale_id}/stop",
             dependencies=[Depends(require("operator"))], response_model=FlashSaleView, responses=answers(404, 503))
async def stop_flash_sale(stream_id: str, sale_id: str, services: Services = Depends(get_services)) -> Any:
    try:
        return await services.sales.stop(stream_id, sale_id)
    except StoreUnavailable:
        return _json(503, {"detail": "flash-sale stock is unreachable; the sale was not stopped: retry"},
                     {"Retry-After": str(RETRY_AFTER_SECONDS)})


@router.get("/api/streams/{stream_id}/flash-sales", dependencies=[Depends(require("viewer"))],
            response_model=list[FlashSaleView], responses=answers(404))
async def list_flash_sales(stream_id: str, services: Services = Depends(get_services)) -> Any:
    from livecompanion.storage.streams import get_stream

    await get_stream(services.db, stream_id)  # 404 for an unknown stream
    return await services.sales.list_sales(stream_id)


@router.get("/api/streams/{stream_id}/flash-sales/{sale_id}", dependencies=[Depends(require("viewer"))],
            response_model=FlashSaleView, responses=answers(404))
async def get_flash_sale(stream_id: str, sale_id: str, services: Services = Depends(get_services)) -> Any:
    return await services.sales.view(stream_id, sale_id)
