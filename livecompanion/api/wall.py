"""`/wall`: the multi-room wall. A team lead watches every live room on one screen: segment and its
clock, online count, comments/min, orders, GMV against the script's `gmv` target, the running flash
sale's stock, and the room's open alerts (the service's own, `alerts` section of the document).

Design: ONE SOCKET PER ROOM, the existing `WS /ws/streams/{id}` (web/static/wall.js runs one
`LiveClient` a room), and the list of live rooms from `GET /api/streams?status=live` every 2 s.
No server code of its own beyond this page and the `status` filter of the list.

Why not one wall socket the server fans in (a per-instance aggregator subscribing to every live room,
keeping each document, sending a small per-room summary), measured with scripts/bench_wall.py
(BENCHMARKS.md "Multi-room wall"; 10 rooms at 50 events/s each plus 2 claims/s, 3 walls, 5 runs):

- The saving is below what could be measured. A wall of 10 busy rooms gets 45-59 messages and
  29-42 KB a second; the server's CPU with 3 walls differed from the baseline by -3.4% to +1.4% of
  one core per wall (noise on a shared 2-core machine); the fan-out benchmark's cost of a send,
  about 50 us, puts it at 0.2-0.3% of one core per wall. Every one of those messages changed a
  section the wall shows (the live numbers move with every batch), so a fan-in would send as many
  messages unless it also batched rooms per tick; it would carry at most 40% of the bytes.
- Memory: 0.2-0.4 MB of server RSS per wall (10 sockets). 10 rooms x 5 walls is 50 sockets beside
  the consoles, teleprompters and overlays those rooms already have.
- It would be a second live protocol with its own snapshot/patch/gap/resync rules, its own
  cross-instance story and its own tests; the per-room socket already has all of that, proven on two
  instances (a wall on instance B hears a room whose events instance A took through Redis, exactly
  as a teleprompter does; tests/pages/test_wall.py).

What it costs the wall's browser: each room's first snapshot carries the whole document (the run
sheet with the script's text: 14-20 KB for the example script), then patches that also carry
sections the wall does not show (questions, ticker: 60% of the bytes). Fine on a wall PC; if it
ever matters, a `?sections=` filter on the socket is the next step, not a new protocol. The list of
live rooms is one small SELECT of the streams table every 2 s a wall.

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
                        "直播牆需要觀看（viewer）或場控（operator）權杖："
                        "用服務啟動時印出的網址打開（…/wall?token=…）。 The wall needs the viewer or operator "
                        "token (the URLs are printed when the service starts).")
    if not allowed(have, "viewer"):
        return _problem(403, "權限不足 Not allowed",
                        f"直播牆需要觀看（viewer）或場控（operator）權杖，不是{ROLE_NAMES[have]}權杖。 "
                        f"The wall needs the viewer or operator token, not the {have} token.")
    page = templates.get_template("wall.html").render(title="直播牆", stream_id="", role=have)
    return HTMLResponse(page, headers=NO_CACHE)
