"""The stream's sources: which bridges are connected, and when each last sent an event.

A bridge announces itself on the ingest socket with `{"type": "source", "platform", "room",
"library"}` and then sends `{"type": "heartbeat", ...}` every few seconds (livecompanion/bridge/
pusher.py). Neither is an event: the socket hands them here and acknowledges nothing for them.

The live document's `sources` section holds one entry per connected (or recently gone) bridge:

    sources.<key> = {"platform", "room", "library", "connected", "since_ms", "last_seen_ms",
                     "last_event_ms", "events"}

`last_event_ms` is when this instance last committed an event from that connection; a screen
shows its age, and a source whose last event is older than 30 s while the show is live is silent.
Each instance writes only the keys of its own connections (`set_op(["sources", key])`), so several
instances behind a load balancer do not overwrite each other. An entry is published when a source
connects or goes, and at most once per heartbeat while events flow.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

log = logging.getLogger(__name__)
Publish = Callable[[str, str, dict[str, Any] | None], Awaitable[None]]
SILENT_AFTER_MS = 30_000
_TEXT_LIMIT = 120


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def is_control(value: Any) -> bool:
    """A socket message that talks about the connection rather than carrying events."""
    return type(value) is dict and value.get("type") in ("source", "heartbeat")


def _text(value: Any) -> str:
    return value.strip()[:_TEXT_LIMIT] if isinstance(value, str) else ""


@dataclass
class SourceEntry:
    platform: str
    room: str
    library: str
    connected: bool = True
    since_ms: int = field(default_factory=now_ms)
    last_seen_ms: int = field(default_factory=now_ms)
    last_event_ms: int | None = None
    events: int = 0


@dataclass
class SourceSession:
    """One ingest connection's view of its source; `publish(stream, key, entry or None)`."""

    stream_id: str
    publish: Publish
    key: str = field(default_factory=lambda: secrets.token_hex(4))
    entry: SourceEntry | None = None
    _published_ms: int = 0

    async def control(self, value: dict[str, Any]) -> None:
        if value.get("type") == "source":
            self.entry = SourceEntry(
                platform=_text(value.get("platform")) or "unknown",
                room=_text(value.get("room")),
                library=_text(value.get("library")),
            )
            await self._send()
        elif self.entry is not None:
            self.entry.last_seen_ms = now_ms()
            await self._send()

    async def committed(self, accepted: int, duplicates: int) -> None:
        """A message of this connection was committed (new events and duplicates alike are news
        that the source is alive; only new ones count as events)."""
        if self.entry is None or not (accepted or duplicates):
            return
        now = now_ms()
        self.entry.last_seen_ms = now
        if accepted:
            self.entry.last_event_ms = now
            self.entry.events += accepted
        if now - self._published_ms >= 5_000:
            await self._send()

    async def closed(self) -> None:
        if self.entry is not None:
            self.entry.connected = False
            self.entry.last_seen_ms = now_ms()
            await self._send()

    async def _send(self) -> None:
        assert self.entry is not None
        self._published_ms = now_ms()
        try:
            await self.publish(self.stream_id, self.key, asdict(self.entry))
        except Exception:
            log.exception("publishing source %s of stream %s failed", self.key, self.stream_id)


def silent_sources(sources: dict[str, Any], now: int, after_ms: int = SILENT_AFTER_MS) -> list[str]:
    """Keys of connected sources with no event for `after_ms` (since connecting, if none yet)."""
    silent = []
    for key, entry in sources.items():
        if not isinstance(entry, dict) or not entry.get("connected"):
            continue
        last = entry.get("last_event_ms") or entry.get("since_ms") or now
        if now - int(last) > after_ms:
            silent.append(key)
    return silent
