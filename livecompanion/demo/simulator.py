"""A seeded, simulated audience that follows a live script: a stream of contract section 2 events.

Pure: no I/O and no clock. Everything comes from `random.Random(seed)`, so the same script, seed and
arguments always give the same events, in the same order, with the same ids and timestamps.

    sim = Simulator(script, seed=7, room_size=600, start_ms=..., speed=1.0)
    for event in sim.events():      # a generator: a million events never sit in memory at once
        ...

The show is simulated second by second. In each second viewers first see the room and come in,
then talk, like, share, follow, look at and click products and buy, then some leave. Orders go
created -> paid (some are cancelled unpaid, a few paid ones refunded later); a flash sale draws a
crowd that clicks and orders within seconds until its stock is gone; a lottery fills the chat with
its keyword. Event times are `start_ms + show time / speed`, so the demo runner can play the same
show at 60x and the events still fall into the segments they belong to.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Iterator
from operator import itemgetter
from typing import Any

from livecompanion.demo import audience as A
from livecompanion.demo import phrases as P
from livecompanion.demo.behaviour import Action, Sale, ViewerActions
from livecompanion.demo.behaviour import flash_sale_of as flash_sale_of  # re-exported
from livecompanion.demo.timeline import PlannedSegment, Timeline, plan_timeline
from livecompanion.scripts.models import CountdownCue, FlashSaleCue, LotteryCue, Script
from livecompanion.textnorm import to_simplified

DEFAULT_START_MS = 1_730_548_800_000  # 2024-11-02 20:00 Asia/Shanghai, a typical evening slot
MIN_ROOM, MAX_ROOM = 10, 200_000
_TS = itemgetter("ts")


class Simulator:
    """An audience for `script`.

    seed       the whole show follows from it
    room_size  viewers in the room at the peak (about; 100 to 50,000 are the tested sizes)
    start_ms   epoch ms of the first segment's start
    speed      show time per unit of event time: at 60, an hour of show fits in a minute of `ts`
    segments   emit a `segment` event as each segment starts (an event log for `livecompanion
               report`); off when a live service emits them as its operator advances
    platform   the `platform` field of every event, or None for none
    on_missed  called with {"sale", "user_id", "qty", "why"} for each buyer who goes for a flash
               sale that is over ("ended"), sold out ("sold_out"), or at their limit
               ("limit_reached"): no order comes of it, but a live demo still sends the claim
    platform_like  send what real platform feeds send: no `leave` events (viewers still go), and the
               online count at irregular times (every 2 to 40 s), as the platform pushes it, so the
               report counts presence by activity and the platform count (docs/report.md). The
               room itself (who comes, acts and buys) is the same as without it, for the same seed.
    """

    def __init__(
        self,
        script: Script,
        *,
        seed: int = 7,
        room_size: int = 600,
        start_ms: int = DEFAULT_START_MS,
        speed: float = 1.0,
        segments: bool = True,
        platform: str | None = "douyin",
        on_missed: Callable[[dict[str, Any]], None] | None = None,
        platform_like: bool = False,
    ) -> None:
        if not MIN_ROOM <= room_size <= MAX_ROOM:
            raise ValueError(f"room_size must be from {MIN_ROOM} to {MAX_ROOM:,} viewers, got {room_size}")
        if not speed > 0:
            raise ValueError(f"speed must be above zero, got {speed}")
        self.script = script
        self.timeline: Timeline = plan_timeline(script)
        self.seed = seed
        self.room_size = room_size
        self.start_ms = start_ms
        self.speed = speed
        self.emit_segments = segments
        self.platform = platform
        self.id_prefix = f"sim{seed}-"  # event ids: sim7-1, sim7-2, ...; order ids sim7-o5, sim7-fs0-9
        self.on_missed = on_missed
        self.platform_like = platform_like

    def ts_of(self, show_ms: int) -> int:
        """The event time of a moment of show time."""
        return self.start_ms + int(show_ms / self.speed)

    def events(self) -> Iterator[dict[str, Any]]:
        return _Run(self).events()


def simulate(script: Script, **options: Any) -> Iterator[dict[str, Any]]:
    """Shorthand for `Simulator(script, **options).events()`."""
    return Simulator(script, **options).events()


class _Run(ViewerActions):
    """One pass of a simulation: the mutable state of the room (a Simulator can run many times)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.rng = random.Random(sim.seed)
        self.room: list[int] = []  # viewers in the room now
        self.pos: dict[int, int] = {}  # viewer -> index in self.room
        self.left: list[int] = []  # viewers who left and may come back
        self.followed: set[int] = set()
        self.considered: set[tuple[int, str]] = set()
        self.keen: set[int] = set()
        self.next_user = 1
        self.next_event = 0
        self.next_order = 0
        self.actions: dict[int, list[Action]] = {}  # second -> things that happen then
        self.leaves: dict[int, list[int]] = {}  # second -> viewers whose stay ends then
        self.sales: list[Sale] = []
        self.inv_speed = 1.0 / sim.speed
        self.short = {p.sku: self._both(P.short_name(p.name)) for p in sim.script.products}
        self.skus = [p.sku for p in sim.script.products]
        mean_stay = A.STAY.mean_seconds()
        self.arrivals_per_viewer = 1.0 / mean_stay
        self.base = {"platform": sim.platform} if sim.platform else {}
        self.simplified = functools.lru_cache(maxsize=64)(to_simplified)
        # Its own generator, so that a platform-like run draws the room's numbers as a plain one does.
        self.count_rng = random.Random(sim.seed * 7919 + 1)
        self.next_count_s = 0
        self.count_ids: set[str] = set()  # the platform-like counts (the others are left out)

    @staticmethod
    def _both(text: str) -> tuple[str, str]:
        return text, to_simplified(text)

    # ---- the show, second by second ------------------------------------------------------------

    def events(self) -> Iterator[dict[str, Any]]:
        if not self.sim.platform_like:
            return self._events()
        # The same room; what a platform feed would not say is left out, its own count added.
        return (e for e in self._events()
                if e["type"] not in ("leave", "viewer_count") or e["id"] in self.count_ids)

    def _events(self) -> Iterator[dict[str, Any]]:
        timeline = self.sim.timeline
        length_s = timeline.length_ms // 1000
        segments = list(timeline.segments)
        cues = list(timeline.cues)
        seg_i, cue_i = 0, 0
        lotteries: list[tuple[str, int, int]] = []
        countdown_until = -1
        for t in range(length_s + 1):
            while seg_i + 1 < len(segments) and segments[seg_i + 1].start_ms <= t * 1000:
                seg_i += 1
            segment = segments[seg_i]
            last = t == length_s
            opening: list[dict[str, Any]] = []
            if self.sim.emit_segments and segment.start_ms == t * 1000 and not last:
                yield self._stamp({"type": "segment", "ts": 0, "id": "", "segment": segment.id}, t * 1000)
            while cue_i < len(cues) and cues[cue_i].at_ms <= t * 1000:
                cue = cues[cue_i].cue
                if isinstance(cue, FlashSaleCue):
                    opening += self._open_sale(cues[cue_i].sale_index or 0, cue, t)
                elif isinstance(cue, LotteryCue):
                    lotteries.append((cue.keyword, t, t + cue.duration_seconds))
                elif isinstance(cue, CountdownCue):
                    countdown_until = t + cue.seconds
                cue_i += 1
            lotteries = [lot for lot in lotteries if lot[2] > t]
            if last:
                yield from self._close(t)
                return
            yield from self._phase(t, self._arrivals(t, segment), 1, 300)
            activity = opening + self._activity(t, segment, lotteries, countdown_until >= t)
            yield from self._shuffled(t, activity, 300, 900)
            if self.sim.platform_like:
                yield from self._platform_count(t)
            yield from self._phase(t, self._departures(t), 900, 1000)

    def _phase(self, t: int, items: list[dict[str, Any]], lo: int, hi: int) -> Iterator[dict[str, Any]]:
        """Stamp a second's events in list order (the list is already in causal order)."""
        if not items:
            return
        rnd, span = self.rng.random, hi - lo
        offsets = sorted(lo + int(rnd() * span) for _ in items)
        base = t * 1000
        for item, offset in zip(items, offsets):
            yield self._stamp(item, base + offset)

    def _shuffled(self, t: int, items: list[dict[str, Any]], lo: int, hi: int) -> Iterator[dict[str, Any]]:
        """Stamp independent events at random moments of the second, then hand them out in time order."""
        if not items:
            return
        rnd, span, base = self.rng.random, hi - lo, t * 1000 + lo
        for item in items:
            item["ts"] = base + rnd() * span  # show time first: the order must not depend on the speed
        items.sort(key=_TS)
        start, inv, prefix = self.sim.start_ms, self.inv_speed, self.sim.id_prefix
        for item in items:
            self.next_event += 1
            item["ts"] = start + int(item["ts"] * inv)
            item["id"] = f"{prefix}{self.next_event}"
            yield item

    def _stamp(self, item: dict[str, Any], show_ms: int) -> dict[str, Any]:
        self.next_event += 1
        item["ts"] = self.sim.start_ms + int(show_ms * self.inv_speed)
        item["id"] = f"{self.sim.id_prefix}{self.next_event}"
        return item

    def _user_event(self, kind: str, user: int, **extra: Any) -> dict[str, Any]:
        return {"type": kind, "ts": 0, "id": "", "user_id": f"u{user}", **self.base, **extra}

    # ---- arrivals and departures ---------------------------------------------------------------

    def _wanted(self, t: int, segment: PlannedSegment) -> float:
        span = max(1, segment.end_ms - segment.start_ms)
        wanted = A.occupancy(segment.segment.kind, (t * 1000 - segment.start_ms) / span)
        for sale in self.sales:
            if sale.open_s <= t < sale.close_s + 60:
                wanted *= 1.0 + A.sale_pull(t - sale.open_s)
        return wanted * self.sim.room_size

    def _arrivals(self, t: int, segment: PlannedSegment) -> list[dict[str, Any]]:
        rng, room = self.rng, self.room
        wanted = self._wanted(t, segment)
        rate = wanted * self.arrivals_per_viewer + (wanted - len(room)) / A.ARRIVAL_RESPONSE_S
        floor = 0.05 * self.sim.room_size * self.arrivals_per_viewer
        arrivals = A.poisson(rng.random, max(rate, floor))
        looks = arrivals + A.poisson(rng.random, arrivals * (1.0 / A.ENTER_RATE - 1.0))
        out: list[dict[str, Any]] = []
        for i in range(looks):
            # Interleave the viewers who come in with those who only see the room go by.
            if arrivals and rng.random() * (looks - i) < arrivals:
                arrivals -= 1
                user = self._returning() if self.left and rng.random() < A.RETURNING_SHARE else self._new_user()
                out.append(self._user_event("impression", user))
                out.append(self._user_event("enter", user, nickname=P.nickname(user)))
                self._enter(user, t)
            else:
                out.append(self._user_event("impression", self._new_user()))
        return out

    def _new_user(self) -> int:
        self.next_user += 1
        return self.next_user - 1

    def _returning(self) -> int:
        i = self.rng.randrange(len(self.left))
        self.left[i], self.left[-1] = self.left[-1], self.left[i]
        return self.left.pop()

    def _enter(self, user: int, t: int) -> None:
        self.pos[user] = len(self.room)
        self.room.append(user)
        self.leaves.setdefault(t + self._stay(), []).append(user)
        for sale in self.sales:  # a flash sale pulls in buyers, who go straight for it
            if sale.open_s <= t < sale.close_s and self.rng.random() < sale.attempt_share * 0.7:
                self.keen.add(user)
                self._at(t + 2 + int(self.rng.expovariate(1 / 8)), ("sale_click", user, sale.index))

    def _stay(self) -> int:
        rng, stay = self.rng, A.STAY
        r = rng.random()
        share, lo, hi = stay.bounce
        if r >= share:
            r -= share
            share, lo, hi = stay.casual
            if r >= share:
                lo, hi = stay.fan[1], stay.fan[2]
            else:  # casual viewers: mostly a few minutes, some much longer
                return int(min(hi, lo + rng.expovariate(1 / ((hi - lo) / 3))))
        return rng.randint(lo, hi)

    def _departures(self, t: int) -> list[dict[str, Any]]:
        out = []
        for user in self.leaves.pop(t, ()):
            if user in self.keen:  # waiting to buy in a flash sale: leaves a little later
                self.leaves.setdefault(t + self.rng.randint(20, 120), []).append(user)
                continue
            self._remove(user)
            out.append(self._user_event("leave", user))
        return out

    def _platform_count(self, t: int) -> Iterator[dict[str, Any]]:
        """Platform-like: the online count at irregular times (2 to 40 s apart), from its own random
        numbers so the room's own draws stay those of a plain run."""
        if t < self.next_count_s:
            return
        self.next_count_s = t + self.count_rng.randint(2, 40)
        count = self._stamp({"type": "viewer_count", "ts": 0, "id": "", **self.base, "count": len(self.room)},
                            t * 1000 + self.count_rng.randint(300, 899))
        self.count_ids.add(count["id"])
        yield count

    def _remove(self, user: int) -> None:
        i = self.pos.pop(user)
        last = self.room.pop()
        if last != user:
            self.room[i] = last
            self.pos[last] = i
        self.left.append(user)

    def _close(self, t: int) -> Iterator[dict[str, Any]]:
        """The stream ends: everyone still in the room leaves, the platform count drops to zero."""
        out = [self._user_event("leave", user) for user in self.room]
        for user in list(self.room):
            self._remove(user)
        yield from self._phase(t, out, 0, 999)
        final = self._stamp({"type": "viewer_count", "ts": 0, "id": "", **self.base, "count": 0}, t * 1000 + 999)
        self.count_ids.add(final["id"])
        yield final

    def _at(self, t: int, action: Action) -> None:
        self.actions.setdefault(t, []).append(action)
