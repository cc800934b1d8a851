"""Plays a simulated show against a running service, through its public HTTP API only.

The operator's part (segments, countdowns, flash sales, lotteries, pins, notes) goes to the show
control endpoints at the moments the timeline plans, divided by the speed; the audience's part
(`buyers.py`) goes to the ingest endpoint in small batches as its events fall due.

Every cue is fired through its own endpoint (`.../cues/{segment}/{index}/fire`), the one click of
the console, so the console's run sheet shows it done. Faster than real time the player sends
`{"time_scale": N}` with it, so the cue's countdown, sale or lottery lasts its script time divided by
the speed (at 60x a 4-minute flash sale lasts 4 seconds, plus a little slack for sales and
lotteries), and it stops each sale and draws each lottery itself at its planned moment.

When the service takes events more slowly than the show makes them, the show slips: later events
and actions move later together, so times stay coherent (a sale never opens before its crowd, a
lottery never misses comments stamped before its start).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from livecompanion.clock import now_ms
from livecompanion.demo.api import Say, StreamApi
from livecompanion.demo.buyers import Buyers, SaleTally, Tally
from livecompanion.demo.simulator import Simulator
from livecompanion.demo.timeline import PlannedCue, PlannedSegment
from livecompanion.scripts.durations import format_seconds
from livecompanion.scripts.models import FlashSaleCue

MAX_BATCH = 2000  # events a request
MAX_LAG_MS = 500  # events sent later than this after their time make the show slip instead
TICK_S = 0.05  # how often the player looks at the clock when nothing is due sooner
STATUS_EVERY_S = 10.0
# Sales and lotteries started faster than real time get this much more time than planned: the player
# stops or draws them itself at the planned moment of the show, which may come late if the service
# is slower than the show.
SLACK_S = 2
WHOLE_REQUEST_S = 10  # how long a stopped player still lets its batch in flight finish

__all__ = ["ShowPlayer", "now_ms"]


async def _whole(work: Any) -> None:
    """Run `work` (sending a batch) to its end even when the player is stopped meanwhile (Ctrl-C
    cancels it): a request cut off halfway through its body leaves the service a half-read request.
    The stop still comes, right after."""
    task = asyncio.ensure_future(work)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait({task}, timeout=WHOLE_REQUEST_S)  # wait() never cancels what it waits for
        if task.done() and not task.cancelled():
            task.exception()  # looked at: the player is stopping, whatever became of its last batch
        raise


@dataclass(order=True)
class _Action:
    at_ms: int  # show time
    order: int
    kind: str = field(compare=False)  # segment | cue | end
    what: Any = field(compare=False, default=None)


class ShowPlayer:
    def __init__(self, client: httpx.AsyncClient, stream_id: str, sim: Simulator, tokens: dict[str, str],
                 say: Say, operate: bool = True) -> None:
        self.operate = operate  # False: only the audience (a load generator beside a human operator)
        self.sim = sim
        self.speed = sim.speed
        self.say = say
        self.api = StreamApi(client, stream_id, tokens, say)
        self.buyers = Buyers(self.api, sim, self._show_ms)
        self.lottery_ids: dict[str, str] = {}  # cue key -> the service's lottery id
        self.finished = False
        self.position_ms = sim.start_ms  # the time of the latest event sent
        self.shift = 0  # ms the show has slipped behind its plan (a service slower than the show)
        self.slipped_ms = 0  # of which, because events could not be sent in time
        self._presses: set[asyncio.Task[Any]] = set()  # teleprompter "play" presses under way

    @property
    def tally(self) -> Tally:
        return self.buyers.tally

    @property
    def sales(self) -> dict[int, SaleTally]:
        return self.buyers.sales

    # ---- the clock ---------------------------------------------------------------------------------

    def _wall_ms(self, show_ms: int) -> int:
        return self.sim.start_ms + self.shift + int(show_ms / self.speed)

    def _plan(self) -> list[_Action]:
        timeline = self.sim.timeline
        if not self.operate:
            return []
        actions = [_Action(s.start_ms, i, "segment", s) for i, s in enumerate(timeline.segments)]
        actions += [_Action(c.at_ms, 1000 + i, "cue", c) for i, c in enumerate(timeline.cues)]
        # When a sale or a lottery is due to end, end it (durations were rounded up to whole seconds)
        # and say how it went.
        actions += [_Action(c.end_ms, 2000 + i, "cue_over", c) for i, c in enumerate(timeline.cues)
                    if c.cue.action in ("flash_sale", "lottery")]
        return sorted(actions)

    async def run(self) -> None:
        """Play the whole show; returns when the last segment is over and the stream has ended."""
        actions = self._plan()
        events: Iterator[dict[str, Any]] = self.sim.events()
        pending = next(events, None)
        last_status = time.monotonic()
        while actions or pending is not None:
            now = now_ms()
            if pending is not None and now - self._due(pending) > MAX_LAG_MS:
                # The service takes the events more slowly than the show makes them: the show slips
                # (every later event and action moves later) rather than send stale times.
                self.slipped_ms += now - pending["ts"] - MAX_LAG_MS - self.shift
                self.shift = now - pending["ts"] - MAX_LAG_MS
            # An action waits for the audience before it, so a sale never opens before its crowd.
            horizon = min(now, self._due(pending)) if pending is not None else now
            while actions and self._wall_ms(actions[0].at_ms) <= horizon:
                action = actions.pop(0)
                await self._act(action)
                # What the action started has the service's time; the events after it must not be
                # older (a lottery only counts comments from its start on), so a late action slips the show.
                self.shift += max(0, now_ms() - self._wall_ms(action.at_ms))
            batch: list[dict[str, Any]] = []
            while pending is not None and self._due(pending) <= now and len(batch) < MAX_BATCH:
                pending["ts"] += self.shift
                batch.append(pending)
                pending = next(events, None)
            if batch:
                self.position_ms = batch[-1]["ts"]
                await _whole(self.buyers.send(batch))
            if time.monotonic() - last_status >= STATUS_EVERY_S:
                last_status = time.monotonic()
                self._status()
            due = [self._wall_ms(actions[0].at_ms)] if actions else []
            due += [self._due(pending)] if pending is not None else []
            if due and len(batch) < MAX_BATCH:
                await asyncio.sleep(min(TICK_S, max(0.0, (min(due) - now_ms()) / 1000)))
        if self.operate:
            await self._end()
        if self._presses:
            await asyncio.gather(*self._presses, return_exceptions=True)
        self.finished = True

    def _show_ms(self) -> int:
        """Where the show is: the show time of the latest event sent."""
        return int((self.position_ms - self.shift - self.sim.start_ms) * self.speed)

    def _due(self, event: dict[str, Any]) -> int:
        ts: int = event["ts"]
        return ts + self.shift

    def _status(self) -> None:
        t = self.tally
        show_s = self._show_ms() // 1000
        self.say(f"  ·{format_seconds(show_s):>9} in show  viewers {t.in_room:,}  events {t.accepted:,} accepted"
                 f" ({t.rejected:,} rejected)  claims {t.claims - t.claims_refused:,} granted"
                 f" {t.claims_refused:,} refused  paid orders {t.paid_orders:,}  GMV ¥{t.gmv:,.2f}")

    # ---- the operator ----------------------------------------------------------------------------

    async def _act(self, action: _Action) -> None:
        if action.kind == "segment":
            await self._segment(action.what)
        elif action.kind == "cue":
            await self._cue(action.what)
        elif action.what.cue.action == "flash_sale":
            await self._sale_over(action.what)
        else:
            await self._lottery_over(action.what)

    async def _segment(self, planned: PlannedSegment) -> None:
        segment = planned.segment
        count = len(self.sim.timeline.segments)
        target = f"target {segment.target}, " if segment.target else ""
        seconds = (planned.end_ms - planned.start_ms) / 1000
        self.say(f"▶ [{planned.index + 1}/{count}] {planned.id} {segment.title or segment.kind}"
                 f" ({target}runs {format_seconds(int(seconds))} = {seconds / self.speed:.1f}s here)")
        moved = await self._operator("POST", "/segments/next", None, "advancing segments")
        if moved is not None and moved.status_code == 200:
            # The host's teleprompter scrolls the new segment, as a phone remote would start it; in
            # the background, so that the press never makes the show slip.
            press = self._operator("POST", "/prompter", {"action": "play"}, "starting the teleprompter")
            play = asyncio.create_task(press)
            self._presses.add(play)
            play.add_done_callback(self._presses.discard)

    async def _end(self) -> None:
        response = await self._operator("POST", "/segments/next", None, "advancing segments")
        if response is not None and response.status_code == 409:  # already ended, or the show moved on
            await self._operator("POST", "/end", None, "ending the stream")
        self._status()

    def _scaled(self, seconds: int, slack: bool = False) -> int:
        """Seconds of the show in seconds here. With slack, for what the player ends itself: a little
        more, and twice as much once the service has shown it is slower than the show."""
        scaled = max(1, math.ceil(seconds / self.speed))
        if not slack:
            return scaled
        return scaled + SLACK_S + (scaled if self.slipped_ms > 1000 else 0)

    async def _cue(self, planned: PlannedCue) -> None:
        """Run a cue as the operator's console does: its own fire endpoint, so it shows as fired."""
        cue = planned.cue
        result = await self._fire_cue(planned)
        if cue.action == "countdown":
            self.say(f"    ⏱ countdown {cue.label or ''} {cue.seconds}s")
        elif cue.action == "flash_sale":
            if result and "id" in result:
                self.buyers.sale_opened(planned.sale_index or 0, str(result["id"]), planned.at_ms, cue.price, cue.sku)
            self.say(f"    ⚡ flash sale {cue.sku} ¥{cue.price} × {cue.stock}"
                     f" for {format_seconds(cue.duration_seconds)}")
        elif cue.action == "lottery":
            if result and "id" in result:
                self.lottery_ids[planned.key] = str(result["id"])
            self.say(f"    🎁 lottery: comment 「{cue.keyword}」, {cue.winners} winners, {cue.prize or ''}")
        elif cue.action == "pin":
            self.say(f"    📌 pinned: {cue.text}")
        elif cue.action == "product_explain":
            self.say(f"    🎙 講解 {cue.mode} {cue.sku}")
        else:
            self.say(f"    📝 note to the host: {cue.text}")

    def _time_scale(self, planned: PlannedCue) -> float | None:
        """How much faster than the script the cue's countdown, sale or lottery runs here (None: as
        written). Sales and lotteries, which the player ends itself, get a little slack (`_scaled`)."""
        cue = planned.cue
        seconds = cue.seconds if cue.action == "countdown" else (
            cue.duration_seconds if cue.action in ("flash_sale", "lottery") else None)
        if seconds is None or self.speed == 1:
            return None
        return seconds / self._scaled(seconds, slack=cue.action != "countdown")

    async def _fire_cue(self, planned: PlannedCue) -> dict[str, Any] | None:
        """`POST .../cues/{segment}/{index}/fire`, with `{"time_scale": N}` faster than real time: what
        the runner of the cue returned, None if it failed."""
        segment_id, index = planned.key.rsplit("/", 1)
        scale = self._time_scale(planned)
        response = await self._operator("POST", f"/cues/{segment_id}/{index}/fire",
                                        None if scale is None else {"time_scale": scale},
                                        f"firing {planned.cue.action} cues", f"cues/{planned.cue.action}")
        if response is None or response.status_code != 200:
            return None
        return response.json().get("result") or {}

    async def _operator(self, method: str, path: str, body: dict[str, Any] | None, what: str,
                        route: str | None = None) -> httpx.Response | None:
        return await self.api.call(method, path, body, what, "operator", route)

    async def _sale_over(self, planned: PlannedCue) -> None:
        sale = self.sales.get(planned.sale_index or 0)
        if sale is None:
            return
        sale_id = self.buyers.sale_ids[planned.sale_index or 0]
        response = await self._operator("POST", f"/flash-sales/{sale_id}/stop", None, "stopping flash sales")
        cue = planned.cue
        assert isinstance(cue, FlashSaleCue)  # sale_index is set on flash sales only
        sold = sale.units  # what the buyers were granted; cancelled orders gave some of it back
        if response is not None and response.status_code == 200:
            sold = response.json().get("sold", sold)
        when = ""
        if sale.sold_out_ms is not None:
            show_s = (sale.sold_out_ms - sale.opened_ms) // 1000
            when = f", first sold out {format_seconds(max(1, show_s))} into the sale"
        self.say(f"    ⚡ {cue.sku} flash sale over: {sold}/{cue.stock} sold to {len(sale.buyers)} buyers"
                 f"{when}; {sale.turned_away} turned away")

    async def _lottery_over(self, planned: PlannedCue) -> None:
        lottery_id = self.lottery_ids.get(planned.key)
        if lottery_id is None:
            return
        response = await self._operator("POST", f"/lotteries/{lottery_id}/draw", None, "drawing lotteries")
        if response is None or response.status_code != 200:  # drawn already by the service's own timer
            response = await self._operator("GET", f"/lotteries/{lottery_id}", None, "reading lotteries")
        if response is None or response.status_code != 200:
            return
        lottery = response.json()
        winners = "、".join(str(w.get("nickname") or w.get("user_id") or w) if isinstance(w, dict) else str(w)
                           for w in lottery.get("winners") or [])
        self.say(f"    🎁 lottery 「{lottery.get('keyword')}」 {lottery.get('status')}:"
                 f" {lottery.get('entrants')} entrants, winners: {winners or '(not drawn yet)'}")
