"""The live pages: console (operator), teleprompter (host), remote (a phone driving the teleprompter),
overlay (OBS browser source). Each takes `?token=` (and hands it to its socket and API calls) or, as
the contract allows everywhere, `Authorization: Bearer TOKEN`.

The pages are shells: everything live comes over `WS /ws/streams/{id}` (web/static/live.js). The
server renders only the stream's title and id, autoescaped.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from livecompanion.api.deps import Role, allowed, get_services, is_remote, role_of, token_of
from livecompanion.errors import NotFound
from livecompanion.storage import streams as repo
from livecompanion.wiring import Services

router = APIRouter(tags=["pages"], include_in_schema=False)

WEB = Path(__file__).resolve().parent.parent / "web"
# The OBS pages: overlays/ at the top of a source checkout; an installed wheel ships the same files
# as livecompanion/overlays (setup.py maps them), so `pip install livecompanion` serves them too.
_SHIPPED = Path(__file__).resolve().parent.parent / "overlays"
OVERLAYS = _SHIPPED if _SHIPPED.is_dir() else Path(__file__).resolve().parent.parent.parent / "overlays"
OVERLAY_PAGE = OVERLAYS / "overlay.html"
templates = Environment(
    loader=FileSystemLoader(WEB / "templates"),
    autoescape=select_autoescape(["html"], default=True),
)

NO_CACHE = {"Cache-Control": "no-store"}
ROLE_NAMES = {"operator": "場控（operator）", "ingest": "接入（ingest）", "viewer": "觀看（viewer）"}


def _problem(status: int, title: str, text: str) -> HTMLResponse:
    page = templates.get_template("problem.html").render(title=title, text=text)
    return HTMLResponse(page, status_code=status, headers=NO_CACHE)


async def _page(request: Request, services: Services, stream_id: str, need: Role, template: str) -> Response:
    token = token_of(request.headers, request.query_params) or ""
    have = role_of(token, services.tokens)
    if have is None and template == "remote.html" and is_remote(token, services.tokens, stream_id):
        have = "operator"  # this stream's phone remote: the page may drive its teleprompter
    if have is None:
        return _problem(401, "需要權杖 Token needed",
                        f"這個頁面需要{ROLE_NAMES[need]}權杖：用服務啟動時印出的網址打開（…/{template.split('.')[0]}"
                        f"?token=…）。 This page needs the {need} token (the URLs are printed when the service "
                        "starts).")
    if not allowed(have, need):
        return _problem(403, "權限不足 Not allowed",
                        f"這個頁面需要{ROLE_NAMES[need]}權杖，不是{ROLE_NAMES[have]}權杖。 "
                                                   f"This page needs the {need} token, not the {have} token.")
    try:
        stream = await repo.get_stream(services.db, stream_id)
    except NotFound:
        return _problem(404, "找不到場次 No such stream", f"沒有場次「{stream_id}」。 No stream '{stream_id}'.")
    page = templates.get_template(template).render(stream_id=stream.id, title=stream.title, role=have)
    return HTMLResponse(page, headers=NO_CACHE)


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    return FileResponse(WEB / "static" / "favicon.svg", media_type="image/svg+xml",
                        headers={"Cache-Control": "max-age=86400"})


@router.get("/streams/{stream_id}/console", response_class=HTMLResponse)
async def console(stream_id: str, request: Request, services: Services = Depends(get_services)) -> Response:
    return await _page(request, services, stream_id, "operator", "console.html")


@router.get("/streams/{stream_id}/teleprompter", response_class=HTMLResponse)
async def teleprompter(stream_id: str, request: Request, services: Services = Depends(get_services)) -> Response:
    return await _page(request, services, stream_id, "viewer", "teleprompter.html")


@router.get("/streams/{stream_id}/remote", response_class=HTMLResponse)
async def remote(stream_id: str, request: Request, services: Services = Depends(get_services)) -> Response:
    return await _page(request, services, stream_id, "operator", "remote.html")


@router.get("/streams/{stream_id}/overlay")
async def overlay(stream_id: str, request: Request, services: Services = Depends(get_services)) -> Response:
    """All widgets on one transparent 1920x1080 page; `?widgets=countdown,flash_sale,...` picks some."""
    have = role_of(token_of(request.headers, request.query_params), services.tokens)
    if not allowed(have, "viewer"):
        return _problem(401 if have is None else 403, "需要權杖 Token needed",
                        "疊加層需要觀看權杖：…/overlay?token=… The overlay needs the viewer token.")
    try:
        await repo.get_stream(services.db, stream_id)
    except NotFound:
        return _problem(404, "找不到場次 No such stream", f"沒有場次「{stream_id}」。 No stream '{stream_id}'.")
    return FileResponse(OVERLAY_PAGE, media_type="text/html", headers=NO_CACHE)
