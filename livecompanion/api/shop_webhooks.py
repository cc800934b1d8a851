"""`POST /api/streams/{id}/webhooks/{doudian|wechat_shop|youzan|generic}`: shop pushes become orders.

No bearer token: shops cannot send one; each push is authenticated by the shop's own signature
on the raw body, checked before anything is parsed (livecompanion/shops). Answers:
- the shop's own "received" answer (抖店 and 有贊 `{"code":0,"msg":"success"}`, 微信小店 `success`;
  the generic webhook the ingest result) once the events are committed, so it stops retrying;
  a message that was signed but cannot be read is answered the same way (a retry would bring the
  same bytes) and logged with the reason;
- 401 bad or missing signature; 404 unknown stream; 413 over 5 MB;
- 503 when the shop's credentials are not set (the answer names the variables), when a signed
  微信小店 push does not decrypt under the EncodingAESKey set (or the AES package is missing), or when ingest
  is saturated (the shop retries later; the event ids make the retry harmless).
`GET .../webhooks/wechat_shop` answers WeChat's URL check (`echostr`) when the console saves the URL.
Product ids become skus through the script's `shop_ids`; see livecompanion/shops/common.py.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from livecompanion.api.deps import get_services
from livecompanion.api.ingest import read_limited
from livecompanion.api.schemas import answers
from livecompanion.errors import Unauthorized, Unavailable
from livecompanion.ingest.service import MAX_BODY_BYTES
from livecompanion.shops import wechat_shop
from livecompanion.shops.common import ShopCatalog, to_events
from livecompanion.shops.receive import SHOPS, ShopSecrets, receive
from livecompanion.storage.streams import get_script
from livecompanion.wiring import Services

router = APIRouter(tags=["webhooks"])
log = logging.getLogger(__name__)


def shop_secrets(services: Services) -> ShopSecrets:
    """Each shop's credentials, from Settings (LIVECOMPANION_<NAME> in the environment)."""
    settings = services.settings
    return ShopSecrets(**{name: getattr(settings, name) or None for name in ShopSecrets.__dataclass_fields__})


async def _push(shop: str, stream_id: str, request: Request, services: Services) -> Response:
    secrets = shop_secrets(services)
    missing = secrets.missing(shop)
    if missing:
        raise Unavailable(f"{shop} pushes are not configured: set {', '.join(missing)}")
    body = await read_limited(request, MAX_BODY_BYTES, "a push")
    received = receive(shop, body, dict(request.headers), dict(request.query_params), secrets)
    if not received.verified:
        raise Unauthorized(f"the {shop} signature does not match the body")
    if received.settings_problem:
        log.error(
            "stream %s: a signed %s push cannot be opened: %s", stream_id, shop, received.settings_problem
        )
        raise Unavailable(received.settings_problem)
    for problem in received.unreadable:
        log.warning(
            "stream %s: a %s push could not be read (%s); body starts %r",
            stream_id,
            shop,
            problem["reason"],
            body[:200],
        )
    await services.ingest.ensure_stream(stream_id)
    catalog = ShopCatalog.from_products((await get_script(services.db, stream_id)).products)
    result = await services.ingest.ingest_events(stream_id, to_events(received.orders, catalog))
    if shop == "generic":
        answer = result.as_dict()
        answer["rejected"] = list(answer.get("rejected", [])) + list(received.unreadable)
        return JSONResponse(answer)
    if result.rejected:
        log.warning("stream %s: %s events rejected: %s", stream_id, shop, result.rejected)
    reply = received.reply
    return Response(reply.body, status_code=reply.status_code, media_type=reply.media_type)


def _endpoint(shop: str) -> Callable[..., Awaitable[Response]]:
    async def endpoint(
        stream_id: str, request: Request, services: Annotated[Services, Depends(get_services)]
    ) -> Response:
        return await _push(shop, stream_id, request, services)

    endpoint.__name__ = f"{shop}_push"
    return endpoint


for _shop in SHOPS:
    router.add_api_route(
        f"/api/streams/{{stream_id}}/webhooks/{_shop}",
        _endpoint(_shop),
        methods=["POST"],
        responses=answers(401, 404, 413, 503, auth=False),
    )


@router.get("/api/streams/{stream_id}/webhooks/wechat_shop", responses=answers(401, 503, auth=False))
async def wechat_shop_url_check(
    stream_id: str, request: Request, services: Annotated[Services, Depends(get_services)]
) -> Response:
    token = shop_secrets(services).wechat_shop_token
    params = dict(request.query_params)
    if not token:
        raise Unavailable("wechat_shop pushes are not configured: set LIVECOMPANION_WECHAT_SHOP_TOKEN")
    if not wechat_shop.verify_url(token, params):
        raise Unauthorized("the signature does not match the token")
    return PlainTextResponse(params.get("echostr", ""))
