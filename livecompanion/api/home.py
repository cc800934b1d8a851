"""`/`: the streams of this service, with links to their pages, and a form to load a new script."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from livecompanion.api.deps import get_services, require
from livecompanion.storage import streams as repo
from livecompanion.wiring import Services

router = APIRouter(tags=["pages"])
templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "web" / "templates")


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request, role: str = Depends(require("viewer")),
               services: Services = Depends(get_services)) -> HTMLResponse:
    token = request.query_params.get("token", "")
    rows = await repo.list_streams(services.db)
    return templates.TemplateResponse(request, "home.html", {
        "streams": rows, "token": token, "is_operator": role == "operator",
    })
