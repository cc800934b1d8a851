"""`/`: the streams of this service, with links to their pages, and a form to load a new script.

Without a token `/` is a short page saying how to get in (never a raw 401). Links carry only the
role their screen needs: teleprompter, overlay and dashboard the viewer token, the phone remote its
own stream's remote token, and only the console's link the operator token (shown to the operator).

    POST /api/streams/{id}/archive   {"archived": true|false}   operator   hide from lists/comparisons
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict

from livecompanion.api.deps import get_services, remote_token, require, role_of
from livecompanion.api.schemas import answers
from livecompanion.storage import streams as repo
from livecompanion.wiring import Services

router = APIRouter(tags=["pages"])
templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "web" / "templates")


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request, services: Services = Depends(get_services)) -> HTMLResponse:
    token = request.query_params.get("token", "")
    role = role_of(token, services.tokens)
    if role is None or role == "ingest":
        return templates.TemplateResponse(request, "welcome.html", {"bad_token": bool(token)},
                                          status_code=401 if token else 200)
    archived = request.query_params.get("archived") == "1"
    rows = await repo.list_streams(services.db, archived=archived)
    remotes = {s.id: remote_token(services.tokens, s.id) for s in rows} if role == "operator" else {}
    return templates.TemplateResponse(request, "home.html", {
        "streams": rows, "token": token, "viewer_token": services.tokens["viewer"], "remotes": remotes,
        "is_operator": role == "operator", "showing_archived": archived,
    }, headers={"Cache-Control": "no-store"})


class ArchiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    archived: bool = True


@router.post("/api/streams/{stream_id}/archive", dependencies=[Depends(require("operator"))], tags=["streams"],
             responses=answers(404, 409, 422))
async def archive(stream_id: str, body: ArchiveIn, services: Services = Depends(get_services)) -> dict[str, Any]:
    """Hide a stream from `/`, `GET /api/streams` and the cross-stream dashboard (or show it again)."""
    summary = await repo.set_archived(services.db, stream_id, body.archived)
    return {"id": summary.id, "archived_ms": summary.archived_ms}
