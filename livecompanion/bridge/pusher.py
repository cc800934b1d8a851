"""Pushes a bridge's events to the service over the ingest WebSocket (contract section 5), and
keeps them until the service acknowledges them.

Events are gathered into batches: a batch goes out `batch_ms` (100 ms by default, at most 250 ms)
after its first event, or as soon as it holds `batch_events`. Each batch is one message `{"seq": N, "events": [...]}`;
up to `window` batches are in flight at once, and the service answers each with an ack (committed)
or an error (503: wait `retry_after` and send again). A batch is forgotten only once acknowledged.
When the connection drops, every batch in flight goes back to the front of the backlog and is sent
again after reconnecting (events carry stable ids, so a batch the service had committed just before
the drop comes back as duplicates, never as doubles). Reconnects back off exponentially (0.5 s
doubling to 30 s) with full jitter, so a hundred bridges do not hammer a restarting service in step.

Besides events the pusher sends `{"type": "source", ...}` on every connect (platform, room, client
library and version) and `{"type": "heartbeat", ...}` every `heartbeat_s` with its counters, which
the service shows as the stream's sources (livecompanion/ingest/sources.py).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson
import websockets
from websockets.asyncio.client import ClientConnection, connect

from livecompanion.bridge.backlog import Backlog, Batch
from livecompanion.ingest.answers import IngestCounts
from livecompanion.tasks import wait_event

MAX_BATCH_EVENTS = 5_000  # well under the service's 10,000 events / 1 MB a message
MAX_BATCH_BYTES = 900_000


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def encode_batches(events: list[dict[str, Any]], first_read_ms: int, refused: list[str] | None = None) -> list[Batch]:
    """`events` as batches of at most MAX_BATCH_BYTES: one `orjson.dumps` of the whole list, halved
    (and each half encoded again) only in the rare case it is over the bound. A value JSON has no
    type for (a Decimal from a program's own mapper) goes as its text rather than failing a batch;
    an event JSON cannot carry at all (an integer past 64 bits) is left out and its reason added
    to `refused`, so one bad value never stops the others."""
    try:
        body = orjson.dumps(events, default=str)[1:-1]
    except orjson.JSONEncodeError:
        kept = []
        for event in events:
            try:
                orjson.dumps(event, default=str)
            except orjson.JSONEncodeError as exc:
                if refused is not None:
                    refused.append(f"event {event.get('id', '')!s:.80}: cannot be sent as JSON: {exc}")
                continue
            kept.append(event)
        return encode_batches(kept, first_read_ms, refused) if kept else []
    if len(body) <= MAX_BATCH_BYTES or len(events) == 1:
        return [Batch(body, len(events), first_read_ms)]
    half = len(events) // 2
    return encode_batches(events[:half], first_read_ms, refused) + encode_batches(events[half:], first_read_ms, refused)


def backoff_delays(first: float = 0.5, cap: float = 30.0) -> Any:
    """Exponential backoff with full jitter: uniform(0, min(cap, first * 2**n))."""
    attempt = 0
    while True:
        yield random.uniform(0, min(cap, first * 2**attempt))
        attempt += 1


@dataclass
class PushStats(IngestCounts):
    """The service's answers (`sent` counts events sent, again after a reconnect), and the pusher's
    own state for the status line."""

    REASON_CHARS = 200  # a bridge runs for hours: reasons are cut before they are counted

    acked_events: int = 0
    reconnects: int = 0
    connected: bool = False
    last_error: str = ""
    latencies_ms: deque[int] = field(default_factory=lambda: deque(maxlen=200_000))


@dataclass
class Pusher:
    url: str  # ws(s)://host:port of the service
    stream: str
    token: str | None
    backlog: Backlog
    source: dict[str, Any]
    batch_ms: int = 100
    batch_events: int = 2_000
    window: int = 8
    heartbeat_s: float = 5.0
    stats: PushStats = field(default_factory=PushStats)
    _pending: list[dict[str, Any]] = field(default_factory=list)
    _pending_since: int = 0
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _inflight: dict[int, Batch] = field(default_factory=dict)
    _seq: int = 0
    _closing: bool = False
    _closed: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.batch_ms = min(self.batch_ms, 250)
        self.batch_events = min(self.batch_events, MAX_BATCH_EVENTS)

    # -- producer side ---------------------------------------------------------------------
    def add(self, events: list[dict[str, Any]], read_ms: int) -> None:
        """Queue the events one message mapped to (read at `read_ms`). They stay dicts until the
        batch is cut and are then encoded in one `orjson.dumps` call (a call per event cost about 17
        times the CPU in a micro-benchmark on the bench's events: BENCHMARKS.md, Bridges)."""
        if not self._pending:
            self._pending_since = read_ms
        self._pending.extend(events)
        if len(self._pending) >= self.batch_events:
            self._cut()

    def _cut(self) -> None:
        if self._pending:
            refused: list[str] = []
            for batch in encode_batches(self._pending, self._pending_since, refused):
                self.backlog.push(batch)
            for reason in refused:  # counted with what the service refuses (status line: rej)
                self.stats.rejected += 1
                self.stats.last_error = self.stats.count_reason(reason)
            self._pending = []
            self._wake.set()

    @property
    def waiting(self) -> int:
        """Events read and not yet acknowledged."""
        inflight = sum(b.count for b in self._inflight.values())
        return len(self._pending) + self.backlog.events + inflight

    # -- the connection --------------------------------------------------------------------
    def _socket_url(self) -> str:
        base = self.url.rstrip("/")
        if base.startswith("http"):
            base = "ws" + base[4:]
        url = f"{base}/ws/streams/{quote(self.stream, safe='')}/ingest"
        return f"{url}?token={quote(self.token, safe='')}" if self.token else url

    def _done(self, stop: asyncio.Event) -> bool:
        return self._closing or (stop.is_set() and self.waiting == 0)

    async def run(self, stop: asyncio.Event) -> None:
        """Push until `stop` is set and everything read was acknowledged, or until `finish()`.
        Reconnects with backoff and jitter while the service is away."""
        ticker = asyncio.create_task(self._ticker(stop))
        delays = backoff_delays()
        try:
            while not self._done(stop):
                try:
                    async with connect(self._socket_url(), max_size=2**22, open_timeout=5) as ws:
                        self.stats.connected = True
                        delays = backoff_delays()
                        await ws.send(orjson.dumps({"type": "source", **self.source}).decode())
                        await self._session(ws, stop)
                except (TimeoutError, OSError, websockets.exceptions.WebSocketException) as exc:
                    self.stats.last_error = f"{exc.__class__.__name__}: {exc}"[:200]
                self.stats.connected = False
                self._requeue()
                if self._done(stop):
                    return
                self.stats.reconnects += 1
                self._closed.clear()
                await wait_event(self._closed, next(delays))  # the backoff, cut short by finish()
        finally:
            self.stats.connected = False
            ticker.cancel()
            self._requeue()

    def _requeue(self) -> None:
        if self._inflight:
            self.backlog.push_front([self._inflight[s] for s in sorted(self._inflight)])
            self._inflight.clear()

    async def _ticker(self, stop: asyncio.Event) -> None:
        # Cuts the pending batch batch_ms (+ at most 20 ms) after its first event.
        while True:
            await asyncio.sleep(0.02)
            if self._pending and (now_ms() - self._pending_since >= self.batch_ms or stop.is_set()):
                self._cut()

    async def _session(self, ws: ClientConnection, stop: asyncio.Event) -> None:
        reader = asyncio.create_task(self._read_acks(ws))
        beat = asyncio.create_task(self._heartbeats(ws))
        try:
            while True:
                if reader.done():
                    reader.result()  # raises what ended the connection
                    raise websockets.exceptions.ConnectionClosedError(None, None)
                if self._done(stop):
                    return
                if len(self._inflight) < self.window:
                    batch = self.backlog.pop()
                    if batch is not None:
                        self._seq += 1
                        self._inflight[self._seq] = batch
                        body = b'{"seq":%d,"events":[%s]}' % (self._seq, batch.body)
                        await ws.send(body)  # binary frame: no decode, the service takes both
                        self.stats.sent += batch.count
                        continue
                self._wake.clear()
                await wait_event(self._wake, 0.1)
        finally:
            beat.cancel()
            reader.cancel()

    async def _read_acks(self, ws: ClientConnection) -> None:
        async for raw in ws:
            message = orjson.loads(raw)
            kind = message.get("type")
            seq = message.get("seq")
            if kind == "ack" and seq in self._inflight:
                batch = self._inflight.pop(seq)
                self.stats.acked_events += batch.count
                self.stats.add(message)
                self.stats.latencies_ms.append(now_ms() - batch.first_read_ms)
                self._wake.set()
            elif kind == "error" and seq in self._inflight:
                # 503: saturated or shutting down; anything else: not stored. Send it again.
                self.stats.last_error = f"{message.get('status')}: {message.get('detail')}"[:200]
                retry = float(message.get("retry_after") or 1.0)
                self.backlog.push_front([self._inflight.pop(seq)])
                await asyncio.sleep(min(retry, 30.0))
                self._wake.set()
            elif kind == "error":
                # Not about a batch: the stream is unknown (404) or the service refused us.
                self.stats.last_error = f"{message.get('status')}: {message.get('detail')}"[:200]

    async def _heartbeats(self, ws: ClientConnection) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            beat = {"type": "heartbeat", "waiting": self.waiting, "acked_events": self.stats.acked_events}
            await ws.send(orjson.dumps(beat).decode())

    def finish(self) -> None:
        """Stop waiting for the service: what is not acknowledged stays in the backlog (and goes to
        disk with `backlog.close()`)."""
        self._cut()
        self._closing = True
        self._closed.set()
        self._wake.set()
