"""`POST /api/streams/{id}/webhooks/shopify`: a shop's order webhooks become `order` events.

Point a Shopify webhook subscription (topics orders/create, orders/paid; orders/cancelled and
orders/updated of refunded orders are taken too) at this URL, and set the app's signing secret as
`LIVECOMPANION_SHOPIFY_SECRET`. No bearer token: Shopify cannot send one; the request is
authenticated by `X-Shopify-Hmac-Sha256`, the HMAC-SHA256 of the RAW body under the secret,
checked before the body is parsed.

Answers: 200 `{"topic", "webhook_id", "accepted", "duplicates", "rejected"}` once the events are
committed (a payload the mapper cannot read is answered 200 with the reason in `rejected`: a retry
would not fix it); 401 bad or missing signature; 404 unknown stream; 413 over 5 MB; 503 not
configured, or ingest saturated (Shopify retries).

Duplicates: Shopify re-delivers a webhook with the same `X-Shopify-Webhook-Id` and body. The
events' ids are made from the topic, the order and the line item (`shopify:<topic>:<order>:<line>`,
see `ingest/bridges/shopify.py`), so a re-delivery, or the same webhook from a second
subscription, is a duplicate in the event log and changes nothing.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request

from livecompanion.api.deps import get_services
from livecompanion.api.ingest import read_limited
from livecompanion.api.schemas import answers
from livecompanion.errors import Unauthorized, Unavailable
from livecompanion.ingest.bridges import map_shopify_order, verify_shopify_hmac
from livecompanion.ingest.service import MAX_BODY_BYTES, IngestResult
from livecompanion.wiring import Services

router = APIRouter(tags=["webhooks"])

SECRET_ENV = "LIVECOMPANION_SHOPIFY_SECRET"


def shopify_secret(services: Services) -> str | None:
    return services.settings.shopify_secret or None


@router.post("/api/streams/{stream_id}/webhooks/shopify",
             responses=answers(400, 401, 404, 413, 503, auth=False))
async def shopify_webhook(
    stream_id: str, request: Request, services: Services = Depends(get_services)
) -> Any:
    secret = shopify_secret(services)
    if not secret:
        raise Unavailable(f"Shopify webhooks are not configured: set {SECRET_ENV}")
    body = await read_limited(request, MAX_BODY_BYTES, "a webhook")
    if not verify_shopify_hmac(body, request.headers.get("x-shopify-hmac-sha256", ""), secret):
        raise Unauthorized("X-Shopify-Hmac-Sha256 does not match the body")
    topic = request.headers.get("x-shopify-topic", "")
    answer = {"topic": topic, "webhook_id": request.headers.get("x-shopify-webhook-id")}
    await services.ingest.ensure_stream(stream_id)
    try:
        events = map_shopify_order(topic, orjson.loads(body))
    except (ValueError, orjson.JSONDecodeError) as exc:
        return answer | IngestResult(rejected=[{"index": 0, "reason": str(exc)}]).as_dict()
    result = await services.ingest.ingest_events(stream_id, events)
    return answer | result.as_dict()
