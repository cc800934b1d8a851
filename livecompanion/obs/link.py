"""One stream's connection to OBS, run by the instance that holds the stream's lease.

The show never waits on OBS: moves only write what they want (`obs.wanted`) into the live
document, and this link carries it out when it can. It connects, reports `connected` with the
scene OBS has live, applies a wanted scene or overlay refresh it has not done yet, and on any
failure reports `disconnected` (nothing answered) or `refused` (OBS said no: wrong password) and
retries with backoff (RETRY_MIN doubling to RETRY_MAX). A switch asked for while OBS was away is
done on reconnect; after a lost connection the wanted scene is put back if OBS came back on another
one (it restarted, say), since OBS follows the show.

What it reports goes under `obs` in the document:
    link:      {status: connected|disconnected|refused|unavailable, detail, live_scene, since_ms, instance}
    applied:   {id, scene, ok, error, at_ms}    the last `wanted` it carried out (or OBS refused)
    refreshed: {id, ok, error, at_ms}           the last overlay refresh
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from livecompanion.clock import now_ms
from livecompanion.obs.client import ObsRefused, ObsSession, ObsUnreachable
from livecompanion.scripts.obs_section import ObsSection

log = logging.getLogger(__name__)

RETRY_MIN = 0.5
RETRY_MAX = 5.0
REQUEST_TIMEOUT = 3.0
REFRESH_FRESH_MS = 60_000  # an overlay refresh asked for longer ago than this is not done any more
REFRESH_BUTTON = "refreshnocache"  # the browser source's "Refresh cache of current page" button

Publish = Callable[[list[dict[str, Any]]], Awaitable[None]]


class ObsLink:
    def __init__(self, stream_id: str, config: ObsSection, publish: Publish, instance: str, *,
                 password: str | None, problem: str | None = None,
                 retry_min: float = RETRY_MIN, retry_max: float = RETRY_MAX,
                 timeout: float = REQUEST_TIMEOUT) -> None:
        self.stream_id = stream_id
        self.config = config
        self.publish = publish
        self.instance = instance
        self.password = password
        self.problem = problem  # set: nothing to try (extra missing, password variable unset)
        self.retry_min, self.retry_max, self.timeout = retry_min, retry_max, timeout
        self.link: dict[str, Any] = {"status": "disconnected", "detail": "not connected yet",
                                     "live_scene": None, "since_ms": now_ms(), "instance": instance}
        self.wanted: dict[str, Any] | None = None
        self.done_wanted: str | None = None  # id of the last wanted carried out (or refused for good)
        self.refresh: dict[str, Any] | None = None
        self.done_refresh: str | None = None
        self._wake = asyncio.Event()
        self._session: ObsSession | None = None
        self._lost = False  # a connection was lost since the last one: put the wanted scene back

    # ---- what the show wants (from the document) ----

    def show_wants(self, section: dict[str, Any]) -> None:
        """Take `obs.wanted` / `obs.refresh` as the document has them now."""
        wanted, applied = section.get("wanted"), section.get("applied")
        if isinstance(applied, dict) and self.done_wanted is None:
            self.done_wanted = applied.get("id")  # done by an earlier holder
        if isinstance(wanted, dict) and wanted.get("id") != (self.wanted or {}).get("id"):
            self.wanted = wanted
            self._wake.set()
        refresh, refreshed = section.get("refresh"), section.get("refreshed")
        if isinstance(refreshed, dict) and self.done_refresh is None:
            self.done_refresh = refreshed.get("id")
        if isinstance(refresh, dict) and refresh.get("id") != (self.refresh or {}).get("id"):
            self.refresh = refresh
            self._wake.set()

    async def republish(self) -> None:
        """Put the link's state back (the document was rebuilt from the record without it)."""
        await self._publish([{"op": "set", "path": ["obs", "link"], "value": dict(self.link)}])

    # ---- the connection ----

    async def run(self) -> None:
        if self.problem:
            await self._report("unavailable", self.problem)
            await asyncio.Event().wait()  # nothing will change until the service is restarted
        delay = self.retry_min
        while True:
            try:
                session = await ObsSession.open(self.config.address, self.password, timeout=self.timeout,
                                                on_program_scene=self._live_scene_changed)
            except ObsRefused as exc:
                await self._report("refused", str(exc))
            except ObsUnreachable as exc:
                await self._report("disconnected", str(exc))
            else:
                delay = self.retry_min
                self._session = session
                try:
                    await self._serve(session)
                except ObsRefused as exc:  # refused mid-session: report, then start again
                    await self._report("refused", str(exc))
                except ObsUnreachable as exc:
                    await self._report("disconnected", str(exc))
                finally:
                    self._session = None
                    await session.close()
                self._lost = True
                if self.link["status"] == "connected":
                    await self._report("disconnected", "OBS closed the connection")
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.retry_max)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _serve(self, session: ObsSession) -> None:
        live = await session.program_scene()
        self.link["live_scene"] = live
        await self._report("connected", f"OBS at {self.config.address}")
        wanted = self.wanted
        if self._lost and wanted and wanted.get("scene") and live != wanted["scene"] \
                and wanted.get("id") == self.done_wanted:
            self.done_wanted = None  # OBS came back on another scene: follow the show again
        self._lost = False
        while True:
            self._wake.clear()
            await self._do_wanted(session)
            await self._do_refresh(session)
            woken = asyncio.ensure_future(self._wake.wait())
            closed = asyncio.ensure_future(session.wait_closed())
            try:
                await asyncio.wait({woken, closed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                woken.cancel()
                closed.cancel()
            if not session.open_now:
                return

    async def _do_wanted(self, session: ObsSession) -> None:
        wanted = self.wanted
        if not wanted or wanted.get("id") == self.done_wanted or not wanted.get("scene"):
            return
        scene = str(wanted["scene"])
        try:
            await session.set_program_scene(scene)
        except ObsRefused as exc:  # e.g. no such scene: OBS will not do it however often we ask
            self.done_wanted = wanted["id"]
            await self._publish([_set("applied", {"id": wanted["id"], "scene": scene, "ok": False,
                                                  "error": str(exc), "at_ms": now_ms()})])
            return
        self.done_wanted = wanted["id"]
        self.link["live_scene"] = scene
        await self._publish([_set("applied", {"id": wanted["id"], "scene": scene, "ok": True, "error": None,
                                              "at_ms": now_ms()}),
                             _set("link", dict(self.link))])

    async def _do_refresh(self, session: ObsSession) -> None:
        refresh = self.refresh
        if not refresh or refresh.get("id") == self.done_refresh:
            return
        self.done_refresh = refresh.get("id")
        if now_ms() - int(refresh.get("at_ms") or 0) > REFRESH_FRESH_MS:
            return
        source = self.config.overlay_source
        error = None
        if not source:
            error = "the script's obs section names no overlay_source"
        else:
            try:
                await session.press_button(source, REFRESH_BUTTON)
            except ObsRefused as exc:
                error = str(exc)
        await self._publish([_set("refreshed", {"id": refresh.get("id"), "ok": error is None, "error": error,
                                                "source": source, "at_ms": now_ms()})])

    async def _live_scene_changed(self, scene: str) -> None:
        if scene != self.link.get("live_scene"):
            self.link["live_scene"] = scene
            await self._publish([_set("link", dict(self.link))])

    async def _report(self, status: str, detail: str) -> None:
        changed = (status, detail) != (self.link["status"], self.link["detail"])
        if status != "connected":
            self.link["live_scene"] = None
        if status != self.link["status"]:
            self.link["since_ms"] = now_ms()
            log.info("OBS for stream %s: %s (%s)", self.stream_id, status, detail)
        self.link.update(status=status, detail=detail)
        if changed or status == "connected":
            await self._publish([_set("link", dict(self.link))])

    async def _publish(self, ops: list[dict[str, Any]]) -> None:
        try:
            await self.publish(ops)
        except Exception as exc:  # noqa: BLE001 - the screens catch up on the next change
            log.warning("OBS for stream %s: could not update the screens: %s", self.stream_id, exc)


def _set(name: str, value: Any) -> dict[str, Any]:
    return {"op": "set", "path": ["obs", name], "value": value}
