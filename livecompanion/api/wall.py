"""`/wall`: the multi-room wall. A team lead watches every live room on one screen: segment and its
clock, online count, comments/min, orders, GMV against the script's `gmv` target, the running flash
sale's stock, and the room's open alerts (the service's own, `alerts` section of the document).

Design: ONE SOCKET PER ROOM, the existing `WS /ws/streams/{id}` (web/static/wall.js runs one
`LiveClient` a room), and the list of live rooms from `GET /api/streams?status=live` every 2 s.
No server code of its own beyond this page and the `status` filter of the list.

Why not one wall socket the server fans in (a per-instance aggregator subscribing to every live room,
keeping each document, sending a small per-room summary):

- It saves nothing where it costs: the aggregator still receives every patch of every room it
  watches, applies it and recomputes the summary; what it would save is the sends to the wall.
  Those are bounded by the publish gate (at most 4 patches a second a room sustained, plus flash-sale
  stock pushes every 0.2 s while a sale runs; `ingest/live.py`, `sales/`), and a send costs the
  server about 50 µs of CPU (BENCHMARKS.md, fan-out). Measured here (scripts/bench_wall.py, numbers
  in BENCHMARKS.md "Multi-room wall"): see the figures quoted there; the wall's sockets cost the
  server a few percent of one core for 10 rooms and several walls, and the bytes a wall receives
  are kilobytes a second.
- It would be a second live protocol with its own snapshot/patch/gap/resync rules, its own
  cross-instance story and its own tests; the per-room socket already has all of that, proven on two
  instances (a wall on instance B hears a room whose events instance A took through Redis, exactly
  as a teleprompter does).
- Memory: a socket costs the server 40-86 KB (BENCHMARKS.md); 10 rooms x 5 walls = 50 sockets, about
  4 MB, beside the consoles, teleprompters and overlays those rooms already have.

What it costs the wall's browser: each room's first snapshot carries the whole document (the run
sheet with the script's text, tens of KB), then patches of sections the wall does not show
(questions, ticker). Fine on a wall PC; if it ever matters, a `?sections=` filter on the socket is
the next step, not a new protocol.

Rooms: a room appears when the list says live and its snapshot agrees (the list is the record's
`status`, updated by the show's moves on whichever instance took them); it leaves at once when its
socket says `ended` (a patch, well within a second), or at the next list when it is no longer live.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from livecompanion.api.deps import allowed, get_services, role_of, token_of
from livecompanion.api.pages import NO_CACHE, ROLE_NAMES, _problem, templates
from livecompanion.wiring import Services

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/wall", response_class=HTMLResponse)
async def wall(request: Request, services: Services = Depends(get_services)) -> Response:
    """Every live room on one screen (viewer or operator token, `?token=` or the header)."""
    token = token_of(request.headers, request.query_params) or ""
    have = role_of(token, services.tokens)
    if have is None:
        return _problem(401, "需要權杖 Token needed",
                        "直播牆需要觀看（viewer）或場控（operator）權杖：用服務啟動時印出的網址打開（…/wall?token=…）。 "
                        "The wall needs the viewer or operator token (the URLs are printed when the service starts).")
    if not allowed(have, "viewer"):
        return _problem(403, "權限不足 Not allowed",
                        f"直播牆需要觀看（viewer）或場控（operator）權杖，不是{ROLE_NAMES[have]}權杖。 "
                        f"The wall needs the viewer or operator token, not the {have} token.")
    page = templates.get_template("wall.html").render(title="直播牆", stream_id="", role=have)
    return HTMLResponse(page, headers=NO_CACHE)
