"""場控 alerts, computed by the service: one truth for every console, teleprompter and wall.

    alerts = AlertService(core)                          # wiring.py
    ingest = IngestService(core, store=..., commit_listeners=[alerts.on_commit], ...)
    alerts.start()                                       # the watch loop (every TICK seconds)
    await alerts.ack(stream_id, key)                     # the console's one click

Two ways in, so an alert reaches the screens within a second of what raised it:
 - `on_commit` (after every ingest commit): the audience rules on the events' ts (online count
   falling fast, comments collapsing) and the bridge sources' last-heard time; the document's two
   sections are read only when a rule could raise (`RoomWatch.may_raise`) or the stream is not yet
   watched as live (a Redis round trip a commit, ten commits a second a room, otherwise);
 - the watch loop (every 0.25 s, each live stream): the show rules on the live document and the wall
   clock (overtime, a due cue not fired, stock, GMV pace, ad-law terms, questions, silent sources).

Raised once: each alert is an `alert` event in the stream's log with `event_id` `alert:<key>`
(repository.py); the instance whose insert succeeds publishes it into the document's `alerts`
section (`{key: {id, kind, level, text, segment, ts, host, acked_ms}}`), the others learn it is
taken. Thresholds: the script's `alerts:` section (scripts/models.py `AlertSettings`).

Shortcuts: the audience series (online count, comments) are per instance, the events this
instance took; sources' last-heard times are shared through Redis when the hub is (a bridge
posting to one instance must not look silent to another).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from livecompanion.alerts.repository import alert_events, record_alert
from livecompanion.alerts.rules import Alert, RoomWatch, ShowPlan, is_live, show_alerts, source_silence
from livecompanion.alerts.sources import SourceClock, make_source_clock
from livecompanion.clock import now_ms
from livecompanion.errors import NotFound
from livecompanion.realtime import set_op
from livecompanion.scripts.models import AlertSettings, Script
from livecompanion.storage.tables import StreamRow
from livecompanion.stream import service as stream_service
from livecompanion.tasks import cancel_and_wait

if TYPE_CHECKING:
    from livecompanion.core import Core
    from livecompanion.ingest.rows import StreamCommit
    from livecompanion.stream.moves import ShowMove

log = logging.getLogger(__name__)

# Seconds between looks at the live streams: a question's count reaches the document up to 0.5 s
# after its comment (the live numbers are published twice a second), so the look must be quicker.
TICK = 0.25
LIVE_LIST_EVERY = 2.0  # seconds between reads of which streams are live
IDLE_FORGET_S = 900.0  # a stream neither live nor sending events this long is forgotten here
# What the audience rules read at an ingest commit (is_live, winding_down, where): two sections, not
# the whole document with its run sheet, questions and ticker (a commit a tenth of a second a room).
COMMIT_SECTIONS = ("stream", "segment")


def plan_of(script: Script) -> ShowPlan:
    """The `gmv` target and the planned length (the script's `duration`, else its segments' maxima)."""
    planned: int | None = None
    if script.duration is not None:
        planned = script.duration.max_seconds
    elif all(s.target is not None for s in script.segments):
        planned = sum(s.target.max_seconds for s in script.segments if s.target is not None)
    return ShowPlan(script.targets.get("gmv"), planned)


class AlertService:
    def __init__(self, core: Core, sources: SourceClock | None = None) -> None:
        self.core = core
        self.sources = sources or make_source_clock(core.hub.redis, core.hub.prefix)
        self.raised = 0  # alerts this process raised (tests, the demo's count)
        self._watch: dict[str, RoomWatch] = {}
        self._scripts: dict[str, tuple[AlertSettings, ShowPlan]] = {}
        self._known: dict[str, set[str]] = {}  # stream -> keys raised (here or elsewhere)
        self._seen: dict[str, float] = {}  # stream -> when its last events were watched (monotonic)
        self._live: list[str] = []
        self._task: asyncio.Task[None] | None = None

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="alerts-watch")

    async def close(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    # --- the ways in -------------------------------------------------------------------------------

    async def on_commit(self, commits: Sequence[StreamCommit]) -> None:
        for commit in commits:
            stream_id = commit.stream_id
            rules, _ = await self._rules(stream_id)
            self._seen[stream_id] = time.monotonic()
            watch = self._watch.setdefault(stream_id, RoomWatch())
            heard: dict[str, int] = {}
            audience = False
            for r in commit.events:
                if r.type == "alert":
                    continue
                watch.see(r.type, r.ts_ms, r.data, rules)
                audience = audience or r.type in ("viewer_count", "comment")
                platform = r.data.get("platform")
                if platform:
                    heard[platform] = r.received_ms
            if heard:
                await self.sources.heard(stream_id, heard)
            # The document (a Redis round trip) only when a rule could raise, or to see the stream
            # live the first time: it can only stop an alert or word it.
            if audience and (stream_id not in self._live or watch.may_raise(rules)):
                doc = await self._sections(stream_id, COMMIT_SECTIONS)
                if doc is not None and is_live(doc):
                    if stream_id not in self._live:  # watched from now, not at the next listing
                        self._live.append(stream_id)
                    found = [watch.viewers_drop(rules, doc), watch.comments_collapse(rules, doc)]
                    await self._raise(stream_id, [a for a in found if a is not None])

    async def on_show_moved(self, stream_id: str, _script: object, move: ShowMove) -> None:
        """A show listener: an ended stream raises nothing more, so what this process watched of it
        goes now (the raised alerts stay in the record and the document)."""
        if move.status == "ended":
            self.forget(stream_id)

    def forget(self, stream_id: str) -> None:
        for table in (self._watch, self._scripts, self._known, self._seen):
            table.pop(stream_id, None)
        if stream_id in self._live:
            self._live.remove(stream_id)

    def held_streams(self) -> int:
        """Streams this process holds anything of (tests of memory)."""
        return len(set().union(self._watch, self._scripts, self._known, self._seen))

    def _forget_quiet(self, live: list[str]) -> None:
        """Streams not live and without events for IDLE_FORGET_S (late events after an End, a
        stream never started): forgotten, so memory stays flat over an evening of streams."""
        now, keep = time.monotonic(), set(live)
        quiet = [s for s in set().union(self._watch, self._scripts, self._known)
                 if s not in keep and now - self._seen.get(s, 0.0) >= IDLE_FORGET_S]
        for stream_id in quiet:
            self.forget(stream_id)

    async def check(self, stream_id: str, now: int | None = None) -> list[Alert]:
        """Look at one stream now (the watch loop does this for every live stream); the new alerts."""
        doc = await self._doc(stream_id)
        if doc is None or not is_live(doc):
            return []
        now = now_ms() if now is None else now
        rules, plan = await self._rules(stream_id)
        watch = self._watch.setdefault(stream_id, RoomWatch())
        found = show_alerts(doc, rules, plan, now)
        found += watch.asked_questions(rules, doc, watch.stream_ts or now)
        ages = await self.sources.ages(stream_id)
        for src in (doc.get("sources") or {}).values():  # bridges that announce themselves (issue 19)
            name = "{} {}".format(src.get("platform") or "?", src.get("room") or "").strip()
            if src.get("connected") and src.get("last_event_ms"):
                ages[name] = max(ages.pop(src.get("platform"), 0), int(src["last_event_ms"]))
        found += source_silence(ages, doc, rules, now)
        return await self._raise(stream_id, found)

    async def ack(self, stream_id: str, key: str) -> dict[str, Any]:
        """The operator's click: the alert stays in the log, marked acknowledged, off the screens."""
        raised = {e["key"]: e for e in await alert_events(self.core.db, stream_id) if not e.get("acked")}
        found = raised.get(key)
        if found is None:
            raise NotFound(f"no alert '{key}' raised in this stream")
        now = now_ms()
        await record_alert(self.core.db, stream_id, {**found, "acked": True, "ts": now}, now)
        await stream_service.apply(self.core, stream_id, [set_op(["alerts", key, "acked_ms"], now)])
        return {"id": key, "acked_ms": now}

    async def load_section(self, stream_id: str, _now_ms: int) -> dict[str, Any]:
        """The `alerts` section of a document rebuilt from the record."""
        section: dict[str, Any] = {}
        for e in await alert_events(self.core.db, stream_id):
            if e.get("acked"):
                if e["key"] in section:
                    section[e["key"]]["acked_ms"] = e["ts"]
                continue
            section[e["key"]] = Alert(e["key"], e["kind"], e.get("level", "warn"), e["text"],
                                      e.get("segment"), e["ts"]).entry()
        self._known.setdefault(stream_id, set()).update(section)
        return section

    # --- inside ------------------------------------------------------------------------------------

    async def _raise(self, stream_id: str, found: list[Alert]) -> list[Alert]:
        known = self._known.setdefault(stream_id, set())
        new = []
        for alert in found:
            if alert.key in known:
                continue
            known.add(alert.key)
            body = {"type": "alert", "ts": alert.ts, "key": alert.key, "kind": alert.kind,
                    "level": alert.level, "text": alert.text, "acked": False}
            if alert.segment is not None:
                body["segment"] = alert.segment
            if not await record_alert(self.core.db, stream_id, body, now_ms()):
                continue  # another instance raised it first
            await stream_service.apply(self.core, stream_id, [set_op(["alerts", alert.key], alert.entry())])
            self.raised += 1
            new.append(alert)
            log.info("alert %s in stream %s: %s", alert.key, stream_id, alert.text)
        return new

    async def _sections(self, stream_id: str, names: tuple[str, ...]) -> dict[str, Any] | None:
        """Just these sections of the document; the whole, rebuilt if need be, when the hub lacks it."""
        found = await self.core.hub.sections(stream_id, names)
        return found if found is not None else await self._doc(stream_id)

    async def _doc(self, stream_id: str) -> dict[str, Any] | None:
        try:
            return (await stream_service.load_state(self.core, stream_id))[1]
        except NotFound:
            return None

    async def _rules(self, stream_id: str) -> tuple[AlertSettings, ShowPlan]:
        found = self._scripts.get(stream_id)
        if found is None:
            async with self.core.db.session() as session:
                row = await session.get(StreamRow, stream_id)
            script = stream_service.script_of(row) if row is not None else None
            found = (script.alerts, plan_of(script)) if script else (AlertSettings(), ShowPlan(None, None))
            self._scripts[stream_id] = found
        return found

    async def _live_streams(self) -> list[str]:
        async with self.core.db.session() as session:
            return list(await session.scalars(select(StreamRow.id).where(StreamRow.status == "live")))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_list = 0.0
        while True:
            try:
                if loop.time() >= next_list:
                    self._live = await self._live_streams()
                    self._forget_quiet(self._live)
                    next_list = loop.time() + LIVE_LIST_EVERY
                for stream_id in self._live:
                    await self.check(stream_id)
            except Exception:  # the next tick tries again
                log.exception("alerts: watching the live streams failed")
            await asyncio.sleep(TICK)
