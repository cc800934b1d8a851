"""The one runner under every bridge: platform messages in, the service's acknowledgements out.

    raw message -> (--record: one NDJSON line) -> room guard -> mapper -> Pusher -> service

A source is an async iterator of raw messages (one decoded JSON value each, exactly what
`--record` writes and `--from` reads); it reconnects to its platform itself (`reconnecting`).
The runner maps each message with the platform's mapper (livecompanion/ingest/bridges), drops
messages of another room (saying so once per room), says once per distinct reason why a message
could not be used (then counts), and hands the events to the Pusher, which batches, acknowledges,
resends and spools to disk (livecompanion/bridge/pusher.py, backlog.py).

Ctrl-C (or the end of a `--from` file): the runner stops reading, gives the service `drain_s`
(default 30 s) to acknowledge what was read, saves the rest to the spool directory, and exits 0.

The status line (stderr; redrawn in place on a terminal, a line every 10 s otherwise):
    twitch #shop -> stream s1 | service up | 812 ev/s | last event 0.3 s ago | backlog 0 (disk 0) | dup 0 rej 0
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from livecompanion.bridge.pusher import Pusher, backoff_delays, now_ms
from livecompanion.bridge.sources import SourceEnded
from livecompanion.ingest.bridges.recorded import PLATFORMS, RoomGuard
from livecompanion.ndjson import NotJSON, decode_piece

Source = AsyncIterator[Any]
MAX_SAME_REASON = 3  # lines on stderr per distinct reason before only counting


@dataclass
class Skips:
    """Messages that gave no event, by reason: the first few of each reason are told."""

    out: IO[str]
    counts: dict[str, int] = field(default_factory=dict)
    total: int = 0

    def tell(self, reason: str, where: str = "") -> None:
        self.total += 1
        key = reason.split(":", 1)[0] if len(reason) > 80 else reason
        seen = self.counts.get(key, 0) + 1
        self.counts[key] = seen
        if seen <= MAX_SAME_REASON:
            suffix = " (further messages with this reason are only counted)" if seen == MAX_SAME_REASON else ""
            print(f"{where}{reason}{suffix}", file=self.out, flush=True)


@dataclass
class Runner:
    platform: str
    source: Source
    pusher: Pusher | None
    label: str  # "twitch #shop", for the status line
    room: str | None = None
    record: IO[bytes] | None = None
    drain_s: float = 30.0
    err: IO[str] = field(default_factory=lambda: sys.stderr)
    status_every_s: float = 1.0
    messages: int = 0
    events: int = 0
    last_event_ms: int = 0
    _guard: RoomGuard = field(init=False)
    _guard_off: bool = field(init=False)
    _interrupted: bool = False
    _skips: Skips = field(init=False)
    _rate: list[tuple[float, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._guard = RoomGuard(room=self.room)
        self._guard_off = self.room == "off"
        self._skips = Skips(self.err)

    def handle(self, message: Any, read_ms: int) -> list[dict[str, Any]]:
        """Map one raw message (recording it first); [] when it gives nothing or is refused."""
        self.messages += 1
        if self.record is not None:
            self.record.write(orjson.dumps(message) + b"\n")
        platform = PLATFORMS[self.platform]
        if not self._guard_off and not self._guard.admit(platform.room(message)):
            if self._guard.notice:
                print(self._guard.notice, file=self.err, flush=True)
            return []
        try:
            events = platform.events(message)
        except ValueError as exc:
            self._skips.tell(str(exc), f"message {self.messages}: ")
            return []
        if events:
            self.events += len(events)
            self.last_event_ms = read_ms
        return events

    async def run(self) -> int:
        assert self.pusher is not None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        reader: asyncio.Task[None] | None = None

        def on_signal() -> None:
            self._interrupted = True
            stop.set()
            if reader is not None:
                reader.cancel()

        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, on_signal)
            except (NotImplementedError, RuntimeError):
                pass
        pushing = asyncio.create_task(self.pusher.run(stop))
        status = asyncio.create_task(self._status(stop))
        reader = asyncio.create_task(self._read())
        try:
            await asyncio.wait([reader])  # ends with the source, or cancelled by Ctrl-C
            if not reader.cancelled() and reader.exception() is not None:
                print(f"reading stopped: {reader.exception()}", file=self.err, flush=True)
            stop.set()
            await self._drain(pushing)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                try:
                    loop.remove_signal_handler(sig)
                except (NotImplementedError, RuntimeError):
                    pass
            status.cancel()
            waiting = self.pusher.waiting
            self._print_status(final=True)
            self.pusher.backlog.close()
            if self.record is not None:
                self.record.flush()
        latencies = sorted(self.pusher.stats.latencies_ms)
        if latencies:
            def pct(q: float) -> int:
                return latencies[min(len(latencies) - 1, int(q * len(latencies)))]

            print(f"{self.messages:,} messages read, {self.events:,} events; push latency (read to "
                  f"acknowledged, per batch) p50 {pct(0.5)} ms, p99 {pct(0.99)} ms, max {latencies[-1]} ms",
                  file=self.err)  # fmt: skip
        if waiting:
            print(f"{waiting:,} events not yet acknowledged are saved in {self.pusher.backlog.directory}; "
                  "the next run with the same --spool sends them first", file=self.err)  # fmt: skip
        return 0

    async def _drain(self, pushing: asyncio.Task[None]) -> None:
        """Give the service up to `drain_s` to acknowledge what was read; after Ctrl-C, stop waiting
        early when it has been unreachable for 3 s (what is left goes to the spool)."""
        assert self.pusher is not None
        deadline = time.monotonic() + self.drain_s
        down_since: float | None = None
        while not pushing.done() and time.monotonic() < deadline:
            if self.pusher.stats.connected:
                down_since = None
            elif down_since is None:
                down_since = time.monotonic()
            elif self._interrupted and time.monotonic() - down_since > 3:
                break
            await asyncio.wait([pushing], timeout=0.1)
        if not pushing.done():
            self.pusher.finish()
            await pushing

    async def _read(self) -> None:
        assert self.pusher is not None
        async for message in self.source:
            read_ms = now_ms()
            events = self.handle(message, read_ms)
            if events:
                self.pusher.add(events, read_ms)
            if self.messages % 512 == 0:
                await asyncio.sleep(0)  # a fast replay must not starve the pusher

    # -- status line -------------------------------------------------------------------------
    def status_line(self) -> str:
        assert self.pusher is not None
        now = time.monotonic()
        self._rate.append((now, self.events))
        while len(self._rate) > 2 and now - self._rate[0][0] > 5:
            self._rate.pop(0)
        (t0, e0), (t1, e1) = self._rate[0], self._rate[-1]
        rate = (e1 - e0) / (t1 - t0) if t1 > t0 else 0.0
        age = f"{(now_ms() - self.last_event_ms) / 1000:.1f} s ago" if self.last_event_ms else "none yet"
        stats = self.pusher.stats
        up = "service up" if stats.connected else f"service down ({stats.last_error or 'connecting'})"
        backlog = self.pusher.backlog
        dropped = f" | dropped {backlog.dropped_events:,}" if backlog.dropped_events else ""
        other_room = f" | other room {self._guard.dropped:,}" if self._guard.dropped else ""
        return (
            f"{self.label} -> stream {self.pusher.stream} | {up} | {rate:,.0f} ev/s | last event {age} | "
            f"backlog {self.pusher.waiting:,} (disk {backlog.on_disk:,}) | dup {stats.duplicates:,} "
            f"rej {stats.rejected:,} | skipped {self._skips.total:,}{other_room}{dropped}"
        )

    def _print_status(self, final: bool = False) -> None:
        line = self.status_line()
        if self.err.isatty() and not final:
            print("\r\x1b[2K" + line[:200], end="", file=self.err, flush=True)
        else:
            print(("\n" if self.err.isatty() else "") + line, file=self.err, flush=True)

    async def _status(self, stop: asyncio.Event) -> None:
        every = self.status_every_s if self.err.isatty() else max(self.status_every_s, 10.0)
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.5)
            if self.record is not None:
                self.record.flush()  # a recording is readable while the bridge runs
            if time.monotonic() - last >= every:
                last = time.monotonic()
                self._print_status()


async def reconnecting(
    connect_once: Callable[[], AsyncIterator[Any]],
    err: IO[str],
    name: str,
    should_stop: Callable[[], bool] = lambda: False,
) -> AsyncIterator[Any]:
    """Yield from `connect_once()` forever, reconnecting with backoff and jitter when it ends or
    fails; a session that delivered messages resets the backoff."""
    delays = backoff_delays(first=1.0, cap=60.0)
    while not should_stop():
        delivered = False
        try:
            async for message in connect_once():
                delivered = True
                yield message
            reason = "the connection ended"
        except SourceEnded:
            raise  # the platform says nothing more will come: stop reading (the runner says why)
        except (TimeoutError, OSError, ConnectionError, ValueError) as exc:
            reason = f"{exc.__class__.__name__}: {exc}"
        except Exception as exc:  # noqa: BLE001 - a client library's own error: reconnect, say why
            reason = f"{exc.__class__.__name__}: {exc}"
        if delivered:
            delays = backoff_delays(first=1.0, cap=60.0)
        wait = next(delays)
        print(f"{name}: {reason}; reconnecting in {wait:.1f} s", file=err, flush=True)
        await asyncio.sleep(wait)


async def read_recording(path: Path, err: IO[str], rate: float | None = None) -> AsyncIterator[Any]:
    """The messages of a recording (`--from`): one JSON value a line, at most `rate` a second
    when given (else as fast as they are taken); a line that is not JSON is told on `err`.

    Read a piece of lines (about 1 MB) at a time and decoded with `decode_piece` (one `orjson.loads`
    for many lines where that is exact, livecompanion/ndjson.py): about 30% less CPU than
    a call per line."""
    started = time.monotonic()
    sent = 0
    number = 0
    with path.open("rb") as handle:
        while True:
            piece = handle.read(PIECE_BYTES)
            if not piece:
                break
            if not piece.endswith(b"\n"):
                piece += handle.readline()  # up to the end of the line the piece stopped in
            lines = piece[:-1] if piece.endswith(b"\n") else piece
            for value in decode_piece(lines):
                number += 1
                if isinstance(value, NotJSON):
                    if value.reason is not None:
                        print(f"line {number}: {value.reason}", file=err, flush=True)
                    continue
                if rate:
                    sent += 1
                    ahead = sent / rate - (time.monotonic() - started)
                    if ahead > 0.005:
                        await asyncio.sleep(ahead)
                yield value


PIECE_BYTES = 1 << 20


class BadLine(ValueError):
    pass


def line_value(line: bytes, number: int) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise BadLine(f"line {number}: not JSON: {exc}") from None


def print_recording(
    platform: str, lines: IO[bytes], out: IO[str], err: IO[str], room: str | None = None
) -> int:
    """`bridge PLATFORM --from FILE --print`: the events each recorded message maps to, as NDJSON;
    one line on stderr for every line that gives no event because it cannot be used. Messages of
    another room than `room` (default: the first room named) are left out, as a live bridge
    would, and said so; `room="off"` keeps them."""
    spec = PLATFORMS[platform]
    guard = None if room == "off" else RoomGuard(room=room)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            message = line_value(line, number)
            if guard is not None and not guard.admit(spec.room(message)):
                print(f"line {number}: of room {spec.room(message)}, not {guard.room} (--room-guard off keeps it)",
                      file=err)  # fmt: skip
                continue
            events = spec.events(message)
        except ValueError as exc:
            text = str(exc)
            print(text if text.startswith("line ") else f"line {number}: {text}", file=err)
            continue
        for event in events:
            out.write(orjson.dumps(event).decode() + "\n")
    out.flush()
    return 0

