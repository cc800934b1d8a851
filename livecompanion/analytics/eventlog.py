"""Reading an event log file: NDJSON (one event a line) or a JSON array.

Bad events are skipped and reported one by one through `on_error(line, reason)`, line 1-based.
For a JSON array, the line is that of the element's first character.
The file is read in blocks, so memory holds the events' compact records, not the file.
"""

from __future__ import annotations

import re
from itertools import chain
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import orjson

from livecompanion.analytics.collect import Collector, EventTable, OnError, gc_paused

OnProgress = Callable[[int], None]  # bytes read so far
BLOCK = 4 << 20
_BOM = b"\xef\xbb\xbf"


def read_event_log(path: Path, on_error: OnError, on_progress: OnProgress | None = None) -> EventTable:
    """Every valid event of the file, collected (see `collect`)."""
    collector = Collector(received_ms=None)  # a log has no receive time for events without ts
    with path.open("rb") as f, gc_paused():
        head = f.read(4096).removeprefix(_BOM).lstrip(b" \t\r\n")
        f.seek(0)
        if head.startswith(b"["):
            data = f.read()
            if on_progress:
                on_progress(len(data))
            _read_array(data, collector, on_error)
        else:
            collector.add_lines(chain.from_iterable(line_blocks(f, on_progress)), on_error)
        return collector.finish()


def line_blocks(f: BinaryIO, on_progress: OnProgress | None = None) -> Iterator[list[bytes]]:
    """The file's lines (without the newline) in lists, one list per block read."""
    rest = b""
    done = 0
    first = True
    while True:
        block = f.read(BLOCK)
        if not block:
            break
        done += len(block)
        if first:
            block = block.removeprefix(_BOM)
            first = False
        lines = (rest + block).split(b"\n")
        rest = lines.pop()
        yield lines
        if on_progress is not None:
            on_progress(done)
    if rest:
        yield [rest]


def _read_array(data: bytes, collector: Collector, on_error: OnError) -> None:
    try:
        values = orjson.loads(data.removeprefix(_BOM))
    except orjson.JSONDecodeError as exc:
        on_error(exc.lineno or 1, f"not JSON: {exc.msg} at column {exc.colno}")
        return
    if not isinstance(values, list):
        on_error(1, "a JSON array of events was expected")
        return
    bad: list[tuple[int, str]] = []
    collector.add_values(values, lambda i, reason: bad.append((i, reason)))
    if bad:
        lines = element_lines(data)
        for index, reason in bad:
            on_error(lines[index] if index < len(lines) else 1, f"item {index}: {reason}")


_TOKEN = re.compile(rb'"(?:[^"\\\n]|\\.)*"|[\[\]{},]|\n|[^\s"\[\]{},]+')


def element_lines(data: bytes) -> list[int]:
    """The 1-based line where each element of a top-level JSON array starts (run only when some
    element is bad, so its cost does not matter)."""
    lines: list[int] = []
    depth = 0
    line = 1
    expecting = False
    for m in _TOKEN.finditer(data):
        tok = m.group()
        if tok == b"\n":
            line += 1
            continue
        if depth == 1 and expecting and tok not in (b"]", b","):
            lines.append(line)
            expecting = False
        if tok in (b"[", b"{"):
            depth += 1
            if depth == 1:
                expecting = True
        elif tok in (b"]", b"}"):
            depth -= 1
        elif tok == b"," and depth == 1:
            expecting = True
    return lines
