"""Ingest as the routers see it: validate, write through the group-commit writer, then tell the show.

    ingest = IngestService(services); await ingest.start()      # at service start (api/ingest.py)
    await ingest.ensure_stream(stream_id)                        # LookupError: unknown stream (404)
    result = await ingest.ingest_body(stream_id, body, content_type)   # HTTP batch
    result = await ingest.ingest_values(stream_id, values, errors)     # WS message, decoded
    result = await ingest.ingest_events(stream_id, dicts)               # a bridge's mapped events

Each returns `IngestResult` (accepted, duplicates, rejected with index and reason) once the new
events are COMMITTED. Raises `TooLarge` (413), `Overloaded` (503 + Retry-After), `WriterClosed`.

What happens after a commit, in this order, before the caller is answered (for every stream the
write touched):
 1. `livecompanion.sales.service.on_orders(services, stream_id, orders)`: the new `order` events
    (arrival order). A cancelled order releases its claimed units; paid after release is flagged.
 2. `livecompanion.lottery.service.on_comments(services, stream_id, comments)`: the new `comment`
    events; comments holding a running lottery's keyword enter their authors.
 3. Live numbers (`live.py`): metrics, questions, ticker; published coalesced.
Each step sees only events that were new (duplicates changed nothing). A step that fails is
logged and does not stop the others or the answer: the events are stored either way. Steps 1 and
2 are looked up once at start and skipped while those packages do not provide them.
"""

from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from livecompanion.events import EventError
from livecompanion.events.batch import decode_body
from livecompanion.ingest.counters import LiveCounters, MemoryCounters, RedisCounters
from livecompanion.ingest.live import LiveNumbers, instance_id
from livecompanion.ingest.pacing import MemoryGate, PublishGate, RedisGate
from livecompanion.ingest.records import StreamCommit, records_of_values
from livecompanion.ingest.store import make_store
from livecompanion.ingest.writer import GroupCommitWriter, Overloaded, WriterClosed

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 5 * 1024 * 1024  # one HTTP request
MAX_EVENTS = 10_000  # one HTTP request or WS message
MAX_WS_MESSAGE = 1024 * 1024  # one WS message
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines")

__all__ = ["IngestResult", "IngestService", "Overloaded", "TooLarge", "WriterClosed", "now_ms"]

Hook = Callable[[Any, str, list[Any]], Awaitable[None]]


class TooLarge(Exception):
    """A request or message over the limits (HTTP 413)."""


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}


def _rejection(error: EventError) -> dict[str, Any]:
    out: dict[str, Any] = {"index": error.index, "reason": error.reason}
    if error.line is not None:
        out["line"] = error.line
    return out


def is_ndjson(content_type: str | None) -> bool | None:
    """True for an NDJSON content type; None (sniff the body) otherwise."""
    if content_type and content_type.split(";")[0].strip().lower() in NDJSON_TYPES:
        return True
    return None


def _hook(module: str, name: str) -> Hook | None:
    try:
        found = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return None  # that package is not there (yet): the step is skipped
        raise
    return getattr(found, name, None)


def make_live(services: Any) -> tuple[LiveCounters, PublishGate]:
    """Tallies and publish gate in Redis when the hub is shared through Redis (several instances),
    else in this process's memory."""
    client = getattr(services.hub, "redis", None)
    if client is not None:
        prefix = getattr(services.hub, "prefix", "livecompanion:")
        return RedisCounters(client, prefix, instance_id()), RedisGate(client, prefix)
    return MemoryCounters(), MemoryGate()


class IngestService:
    def __init__(self, services: Any, *, writer_options: dict[str, Any] | None = None) -> None:
        self.services = services
        hours = getattr(getattr(services, "settings", None), "max_ts_skew_hours", 24.0)
        self.max_ts_skew_ms: int | None = int(hours * 3_600_000) if hours and hours > 0 else None
        counters, gate = make_live(services)
        self.live = LiveNumbers(services, counters, gate=gate)
        self.writer = GroupCommitWriter(
            make_store(services.db),
            after_commit=self._after_commit,
            before_write=self.live.prepare,
            **(writer_options or {}),
        )
        self.on_orders = _hook("livecompanion.sales.service", "on_orders")
        self.on_comments = _hook("livecompanion.lottery.service", "on_comments")
        self._known: set[str] = set()

    async def start(self) -> None:
        await self.writer.start()
        await self.live.start()

    async def close(self) -> None:
        await self.writer.close()  # everything admitted is written and answered first
        await self.live.close()

    async def ensure_stream(self, stream_id: str) -> None:
        """Raise LookupError unless the stream exists (known ones are remembered: streams stay)."""
        if stream_id in self._known:
            return
        from sqlalchemy import select

        from livecompanion.storage.tables import StreamRow

        async with self.services.db.session() as session:
            found = await session.scalar(select(StreamRow.id).where(StreamRow.id == stream_id))
        if found is None:
            raise LookupError(f"no stream '{stream_id}'")
        self._known.add(stream_id)

    # --- the ways in ------------------------------------------------------------------------------

    async def ingest_body(self, stream_id: str, body: bytes, content_type: str | None = None) -> IngestResult:
        """An HTTP batch: a JSON array, one object, or NDJSON (by content type, or sniffed)."""
        if len(body) > MAX_BODY_BYTES:
            raise TooLarge(f"a request may carry at most {MAX_BODY_BYTES:,} bytes")
        values, errors = decode_body(body, is_ndjson(content_type))
        return await self.ingest_values(stream_id, values, errors)

    async def ingest_values(
        self, stream_id: str, values: list[tuple[int, Any]], errors: list[EventError] | None = None
    ) -> IngestResult:
        """Decoded values with their batch index; `errors` are the ones that did not even decode."""
        errors = list(errors or [])
        if len(values) + len(errors) > MAX_EVENTS:
            raise TooLarge(
                f"at most {MAX_EVENTS:,} events in one request or message, got {len(values) + len(errors):,}"
            )
        records = records_of_values(stream_id, values, now_ms(), errors, self.max_ts_skew_ms)
        errors.sort(key=lambda e: e.index)
        written = await self.writer.submit(records)
        return IngestResult(written.accepted, written.duplicates, [_rejection(e) for e in errors])

    async def ingest_events(self, stream_id: str, events: list[dict[str, Any]]) -> IngestResult:
        """Event dicts from a bridge mapper (contract section 2), validated like any other."""
        return await self.ingest_values(stream_id, list(enumerate(events)))

    # --- after the commit -------------------------------------------------------------------------

    async def _after_commit(self, commits: list[StreamCommit]) -> None:
        for commit in commits:
            stream_id = commit.stream_id
            orders, comments = [], []
            for r in commit.events:
                if r.type == "comment":
                    comments.append(r)
                elif r.type == "order":
                    orders.append(r.event)
            if self.on_orders is not None and orders:
                await self._step("sales.on_orders", self.on_orders, stream_id, orders)
            if self.on_comments is not None and comments:
                # Typed only if a lottery is open to read them (the hook looks first).
                typed = (r.event for r in comments)
                await self._step("lottery.on_comments", self.on_comments, stream_id, typed)
            try:
                await self.live.record(commit)
            except Exception:  # noqa: BLE001
                log.exception("live numbers of stream %s: recording a commit failed", stream_id)

    async def _step(self, name: str, hook: Hook, stream_id: str, events: list[Any]) -> None:
        try:
            await hook(self.services, stream_id, events)
        except Exception:  # noqa: BLE001 - stored is stored; the show catches up on the next event
            log.exception("after-commit step %s failed for stream %s", name, stream_id)


def ingest_of(services: Any) -> IngestService:
    found = services.extras.get("ingest")
    if found is None:
        raise WriterClosed("ingest is not running")
    return found
