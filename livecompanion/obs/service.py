"""OBS follows the show: the service side (issue 16).

How a move reaches OBS, on one instance or several:
1. The show moves (next/previous/goto/end, or a cue fires) and the record commits it.
2. `on_show_moved` (a show listener, registered in wiring.py) maps the move to a scene and writes `obs.wanted`
   ({id, scene, reason, at_ms}) into the stream's live document. That is all the show waits for:
   one hub change, whatever OBS is doing.
3. On the instance holding the stream's lease (lease.py; without Redis: the only instance), a
   worker follows the document and its ObsLink carries the wanted scene out, now or on reconnect.
The console's "switch now" and "refresh overlay" write `obs.wanted` / `obs.refresh` the same way,
so whichever instance answers the click, the one talking to OBS does it.

Workers start for every stream whose script has `obs:` and that has not ended (or ended less than
KEEP_AFTER_END_MS ago, so the end scene still goes out), found by a scan every SCAN_EVERY seconds
(which is also how another instance takes over when the holder dies) or at once on a move here.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from typing import Any

from livecompanion.clock import now_ms
from livecompanion.core import Core
from livecompanion.errors import Conflict, Invalid, NotFound
from livecompanion.obs.client import client_missing
from livecompanion.obs.lease import LEASE_MS, ObsLease
from livecompanion.obs.link import RETRY_MAX, RETRY_MIN, ObsLink
from livecompanion.obs.mapping import config_section, scene_for_move, scene_for_segment
from livecompanion.realtime import set_op
from livecompanion.scripts.models import Script
from livecompanion.scripts.obs_section import ObsSection
from livecompanion.storage.streams import get_script
from livecompanion.stream.moves import ShowMove
from livecompanion.stream.repository import StreamRepository
from livecompanion.stream.service import apply, load_state, script_of
from livecompanion.tasks import cancel_and_wait

log = logging.getLogger(__name__)

SCAN_EVERY = 3.0
KEEP_AFTER_END_MS = 10 * 60_000


def password_of(config: ObsSection) -> tuple[str | None, str | None]:
    """(password, problem): the password from the environment variable the script names."""
    if config.password_env is None:
        return None, None
    value = os.environ.get(config.password_env)
    if value is None:
        return None, (f"the environment variable {config.password_env}, which should hold the OBS "
                      f"password, is not set on this instance")
    return value, None


def initial_section(script: Script) -> dict[str, Any] | None:
    """The `obs` section of a document rebuilt from the record (the link reports itself after)."""
    config = config_section(script)
    if config is None:
        return None
    missing = client_missing()
    link = {"status": "unavailable" if missing else "disconnected", "detail": missing or "not connected yet",
            "live_scene": None, "since_ms": now_ms(), "instance": None}
    return {"config": config, "link": link, "wanted": None, "applied": None, "refresh": None, "refreshed": None}


class ObsService:
    def __init__(self, core: Core, *, retry_min: float = RETRY_MIN, retry_max: float = RETRY_MAX,
                 scan_every: float = SCAN_EVERY, lease_ms: int = LEASE_MS) -> None:
        self.core = core
        self.instance = secrets.token_hex(6)
        self.redis = getattr(core.hub, "redis", None)  # RedisHub's client: leases live beside the hub
        self.prefix = getattr(core.hub, "prefix", core.settings.redis_prefix)
        self.retry_min, self.retry_max = retry_min, retry_max
        self.scan_every = scan_every
        self.lease_ms = lease_ms
        self.workers: dict[str, asyncio.Task[None]] = {}
        self.links: dict[str, ObsLink] = {}  # streams whose lease this instance holds now
        self._without_obs: set[str] = set()  # streams the scan found without `obs:` (scripts never change)
        self._scan: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> None:
        if self._scan is None and not self._closed:
            self._scan = asyncio.create_task(self._run_scan(), name="obs scan")

    async def close(self) -> None:
        self._closed = True
        await cancel_and_wait(self._scan)
        self._scan = None
        for task in list(self.workers.values()):
            await cancel_and_wait(task)
        self.workers.clear()

    # ---- the listener ----

    async def on_show_moved(self, stream_id: str, script: Script, move: ShowMove) -> None:
        if script.obs is None:
            return
        self.follow(stream_id, script.obs)
        choice = scene_for_move(script.obs, move)
        if choice is not None:
            await self.want(stream_id, choice.scene, choice.reason)

    # ---- what the console asks ----

    async def want(self, stream_id: str, scene: str, reason: str) -> dict[str, Any]:
        wanted = {"id": secrets.token_hex(6), "scene": scene, "reason": reason, "at_ms": now_ms()}
        await self._apply(stream_id, [set_op(["obs", "wanted"], wanted)])
        return wanted

    async def switch_now(self, stream_id: str, script: Script, segment_id: str | None = None,
                         scene: str | None = None) -> dict[str, Any]:
        """Switch OBS to a segment's scene (or a scene by name) now, whatever the show is on."""
        config = _config(script)
        if (segment_id is None) == (scene is None):
            raise Invalid("give exactly one of 'segment_id' or 'scene'")
        reason = "switch now"
        if segment_id is not None:
            segment = next((s for s in script.segments if s.id == segment_id), None)
            if segment is None:
                raise NotFound(f"no segment '{segment_id}' in this script")
            scene = scene_for_segment(config, segment)
            if scene is None:
                raise Invalid(f"the script's obs section maps no scene to segment '{segment_id}'",
                              loc=("body", "segment_id"))
            reason = f"switch now: segment {segment_id}"
        self.follow(stream_id, config)
        assert scene is not None
        return await self.want(stream_id, scene, reason)

    async def refresh_overlay(self, stream_id: str, script: Script) -> dict[str, Any]:
        config = _config(script)
        if not config.overlay_source:
            raise Invalid("the script's obs section names no overlay_source (the browser source to refresh)")
        self.follow(stream_id, config)
        refresh = {"id": secrets.token_hex(6), "source": config.overlay_source, "at_ms": now_ms()}
        await self._apply(stream_id, [set_op(["obs", "refresh"], refresh)])
        return refresh

    async def section(self, stream_id: str, script: Script) -> dict[str, Any]:
        """The stream's `obs` section as screens have it."""
        _config(script)
        _rev, doc = await load_state(self.core, stream_id)
        section = doc.get("obs")
        return section if isinstance(section, dict) else initial_section(script) or {}

    # ---- workers: one per stream with `obs:`; the lease holder's talks to OBS ----

    def follow(self, stream_id: str, config: ObsSection) -> None:
        if self._closed:
            return
        task = self.workers.get(stream_id)
        if task is None or task.done():
            self.workers[stream_id] = asyncio.create_task(self._worker(stream_id, config),
                                                          name=f"obs {stream_id}")

    async def _run_scan(self) -> None:
        while True:
            try:
                await self._scan_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("OBS: scanning the streams failed")
            await asyncio.sleep(self.scan_every)

    async def _scan_once(self) -> None:
        async with self.core.db.session() as session:
            streams = StreamRepository(session)
            current = set(await streams.ids_not_ended(now_ms() - KEEP_AFTER_END_MS))
            for stream_id in current - set(self.workers) - self._without_obs:
                row = await streams.get(stream_id)
                config = script_of(row).obs if row is not None else None
                if config is None:
                    self._without_obs.add(stream_id)
                else:
                    self.follow(stream_id, config)
            self._without_obs &= current  # ended ones are not asked about again: memory stays flat
        for stream_id in set(self.workers) - current:
            await cancel_and_wait(self.workers.pop(stream_id))

    async def _worker(self, stream_id: str, config: ObsSection) -> None:
        lease = ObsLease(self.redis, f"{self.prefix}obs:lease:{{{stream_id}}}", self.instance, self.lease_ms)
        while True:
            try:
                if await lease.take():
                    await self._hold(stream_id, config, lease)
                    continue
            except asyncio.CancelledError:
                await lease.give_up()
                raise
            except Exception:  # Redis away, say: try again, the show goes on
                log.exception("OBS for stream %s: the worker failed; trying again", stream_id)
            await asyncio.sleep(lease.renew_every)

    async def _hold(self, stream_id: str, config: ObsSection, lease: ObsLease) -> None:
        """Talk to OBS while the lease stays ours."""
        password, problem = password_of(config)
        link = ObsLink(stream_id, config, lambda ops: self._apply(stream_id, ops), self.instance,
                       password=password, problem=client_missing() or problem,
                       retry_min=self.retry_min, retry_max=self.retry_max)
        self.links[stream_id] = link
        tasks = [asyncio.create_task(link.run(), name=f"obs link {stream_id}"),
                 asyncio.create_task(self._follow_document(stream_id, link), name=f"obs follow {stream_id}")]
        try:
            while all(not t.done() for t in tasks):
                await asyncio.wait(tasks, timeout=lease.renew_every)
                if not await lease.take():
                    log.info("OBS for stream %s: another instance holds the lease now", stream_id)
                    return
            for task in tasks:
                if task.done() and not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            self.links.pop(stream_id, None)
            for task in tasks:
                await cancel_and_wait(task)
            await link.close()

    async def _follow_document(self, stream_id: str, link: ObsLink) -> None:
        async def read() -> None:
            _rev, doc = await load_state(self.core, stream_id)
            section = doc.get("obs")
            if not isinstance(section, dict):
                return
            if section.get("link") != link.link:
                await link.republish()
            link.show_wants(section)

        async with self.core.hub.subscribe(stream_id) as feed:
            await read()  # after subscribing, so no change slips between the read and the feed
            async for message in feed:
                if message.get("type") == "resync" or any(
                    op["path"][:2] in (["obs"], ["obs", "wanted"], ["obs", "refresh"])
                    for op in message.get("ops", ())
                ):
                    await read()

    async def _apply(self, stream_id: str, ops: list[dict[str, Any]]) -> None:
        await apply(self.core, stream_id, ops)

    async def load_section(self, stream_id: str, _now_ms: int) -> dict[str, Any] | None:
        """The `obs` section of a document rebuilt from the record (a section loader)."""
        return initial_section(await get_script(self.core.db, stream_id))


def _config(script: Script) -> ObsSection:
    if script.obs is None:
        raise Conflict("no_obs", "this stream's script has no obs section, so OBS is not driven from it")
    return script.obs
