"""What a bridge has read but the service has not acknowledged yet: in memory, then on disk.

Batches wait here in order. The newest go to memory until `memory_events` are waiting; past that
(the service is down or slower than the room) they go to segment files in `directory`, one
NDJSON line per batch, and every later batch follows them to disk until the disk part is drained,
so the order is kept. `pop` takes from memory, then loads the oldest segment back. Batches sent
but lost with the connection go back to the front with `push_front`.

Bound: the disk part holds at most `disk_bytes` (default 512 MB, about 2.5 million events of a
busy room). Past it, new batches are dropped and counted in `dropped_events`: a bridge cannot
stop the platform from talking, and a full disk would lose more. `close()` writes what is still
in memory to disk, so Ctrl-C or a crash loses nothing already read: the next run with the same
`--spool` directory sends the saved batches first (`load` on start).

Files: `<directory>/<20-digit number>.ndjson`, sent in number order; new segments take the next
number up, what `close` saves the next number down (it is older than anything on disk). A segment
is deleted once its batches were handed out again (they are then in memory or in flight; `close`
writes those back).
"""

from __future__ import annotations

import os
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import orjson

_ENCODED_HEAD = re.compile(rb'\{"t":-?[0-9]+,"e":\[')


@dataclass
class Batch:
    body: bytes  # the events, JSON-encoded and joined with commas (one exact-size object: a list of
    # orjson's small bytes objects would keep ~4 KB of buffer each)
    count: int
    first_read_ms: int  # when the oldest message in it was read (push latency)

    @staticmethod
    def of(events: list[bytes], first_read_ms: int) -> Batch:
        return Batch(b",".join(events), len(events), first_read_ms)

    def encode(self) -> bytes:
        return b'{"t":%d,"e":[%s]}' % (self.first_read_ms, self.body)

    @staticmethod
    def decode(line: bytes) -> Batch:
        """A line `encode` wrote. The body is taken as it is from the line (the line is decoded once
        only to check it and count its events), not encoded again event by event."""
        value = orjson.loads(line)
        events, first = value["e"], int(value["t"])
        line = line.rstrip()
        head = _ENCODED_HEAD.match(line)
        if head is None or not line.endswith(b"]}"):  # not as `encode` writes it: encode the events again
            return Batch(orjson.dumps(events)[1:-1], len(events), first)
        return Batch(line[head.end() : -2], len(events), first)


@dataclass
class Backlog:
    directory: Path | None = None
    memory_events: int = 100_000
    disk_bytes: int = 512 * 1024 * 1024
    segment_events: int = 20_000
    dropped_events: int = 0
    _memory: deque[Batch] = field(default_factory=deque)
    _memory_count: int = 0
    _segments: deque[Path] = field(default_factory=deque)
    _disk_events: int = 0
    _disk_bytes: int = 0
    _writing: Path | None = None
    _writing_events: int = 0
    _next: int = 10**18  # the newest segment's number
    _first: int = 10**18  # below the oldest segment's number

    def __post_init__(self) -> None:
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self.load()

    # -- sizes --------------------------------------------------------------------------------
    @property
    def events(self) -> int:
        return self._memory_count + self._disk_events

    @property
    def on_disk(self) -> int:
        return self._disk_events

    def __len__(self) -> int:
        return len(self._memory) + len(self._segments)

    # -- in and out ---------------------------------------------------------------------------
    def push(self, batch: Batch) -> None:
        if self._segments or (self._memory_count + batch.count > self.memory_events):
            if self.directory is not None:
                self._to_disk(batch)
                return
            if self._memory_count + batch.count > self.memory_events:
                self.dropped_events += batch.count
                return
        self._memory.append(batch)
        self._memory_count += batch.count

    def push_front(self, batches: list[Batch]) -> None:
        """Put batches (oldest first) back before everything waiting: they were sent, not acked."""
        for batch in reversed(batches):
            self._memory.appendleft(batch)
            self._memory_count += batch.count

    def pop(self) -> Batch | None:
        if not self._memory and self._segments:
            self._load_oldest_segment()
        if not self._memory:
            return None
        batch = self._memory.popleft()
        self._memory_count -= batch.count
        return batch

    # -- disk ---------------------------------------------------------------------------------
    def _segment_path(self) -> Path:
        assert self.directory is not None
        self._next += 1
        return self.directory / f"{self._next:020d}.ndjson"

    def _to_disk(self, batch: Batch) -> None:
        line = batch.encode() + b"\n"
        if self._disk_bytes + len(line) > self.disk_bytes:
            self.dropped_events += batch.count
            return
        if self._writing is None or self._writing_events >= self.segment_events:
            self._writing = self._segment_path()
            self._writing_events = 0
            self._segments.append(self._writing)
        with self._writing.open("ab") as out:
            out.write(line)
        self._writing_events += batch.count
        self._disk_events += batch.count
        self._disk_bytes += len(line)

    def _load_oldest_segment(self) -> None:
        path = self._segments.popleft()
        if path == self._writing:
            self._writing = None
        data = path.read_bytes()
        for line in data.splitlines():
            if line.strip():
                batch = Batch.decode(line)
                self._memory.append(batch)
                self._memory_count += batch.count
                self._disk_events -= batch.count
        self._disk_bytes -= len(data)
        path.unlink()
        if not self._segments:
            self._disk_events = self._disk_bytes = 0

    def load(self) -> None:
        """Pick up the segments a previous run left (oldest first)."""
        assert self.directory is not None
        for path in sorted(self.directory.glob("*.ndjson")):
            data = path.read_bytes()
            count = sum(len(orjson.loads(line)["e"]) for line in data.splitlines() if line.strip())
            self._segments.append(path)
            self._disk_events += count
            self._disk_bytes += len(data)
            if path.stem.isdigit():
                self._next = max(self._next, int(path.stem))
                self._first = min(self._first, int(path.stem) - 1)

    def close(self) -> int:
        """Write what waits in memory to disk, before the disk part (it is older). Returns the
        number of events saved; without a directory they are lost, and that number says how many."""
        if not self._memory:
            return 0
        saved = self._memory_count
        if self.directory is None:
            return saved
        path = self.directory / f"{self._first:020d}.ndjson"
        self._first -= 1
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(b"".join(batch.encode() + b"\n" for batch in self._memory))
        os.replace(tmp, path)
        self._memory.clear()
        self._memory_count = 0
        return saved
