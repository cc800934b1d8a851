"""Reading an event log file: NDJSON (one event a line) or a JSON array.

Bad events are skipped and reported one by one through `on_error(line, reason)`, line 1-based.
For a JSON array, the line is that of the element's first character.

NDJSON is mapped into memory (or, for a pipe, read in blocks) and decoded a piece of whole lines
(about `PIECE` bytes) at a time by `decode.decode_piece`, so memory holds the events' compact
records, not the file, and the decoded values of one piece at a time.
"""

from __future__ import annotations

import io
import mmap
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from livecompanion.analytics.collect import Collector, EventTable, OnError, gc_paused
from livecompanion.analytics.decode import decode_piece

OnProgress = Callable[[int], None]  # bytes read so far
BLOCK = 4 << 20
PIECE = 16_000
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
            collector.add_batches(decoded_pieces(f, on_progress), on_error, 1)
        return collector.finish()


def line_blocks(f: BinaryIO, on_progress: OnProgress | None = None) -> Iterator[list[bytes]]:
    """The file's lines (without the newline) in lists, one list per block read: the plain way,
    which the report's own reading (`decoded_pieces`) is checked and measured against."""
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


def decoded_pieces(f: BinaryIO, on_progress: OnProgress | None = None) -> Iterator[list[Any]]:
    """The value of each line of the file (`NotJSON` for a blank or broken line), a list per piece.
    The file is mapped into memory when it can be (no copy of it is read), else read in blocks."""
    try:
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError, io.UnsupportedOperation):  # empty, a pipe, not a file
        for block, start, end in _line_spans(f, on_progress):
            yield from _pieces(block, start, end)
        return
    with data:
        pos = len(_BOM) if data[:len(_BOM)] == _BOM else 0
        if pos == len(data):
            return
        end = len(data) - 1 if data[-1:] == b"\n" else len(data)  # no line after a final newline
        while True:  # spans of about BLOCK bytes, for the progress report
            stop = data.find(b"\n", pos + BLOCK, end) if pos + BLOCK < end else -1
            if stop < 0:
                stop = end
            yield from _pieces(data, pos, stop)
            if on_progress is not None:
                on_progress(stop + 1 if stop < end else len(data))
            if stop == end:
                break
            pos = stop + 1


def _pieces(data: Any, start: int, end: int) -> Iterator[list[Any]]:
    """The decoded lines of data[start:end] (whole lines joined by newlines), a list per piece."""
    pos = start
    while True:
        cut = data.find(b"\n", pos + PIECE, end) if pos + PIECE < end else -1
        if cut < 0:
            cut = end
        yield decode_piece(data[pos:cut])
        if cut == end:
            break
        pos = cut + 1


def _line_spans(f: BinaryIO, on_progress: OnProgress | None) -> Iterator[tuple[bytes, int, int]]:
    """(data, start, end): data[start:end] is whole lines joined by newlines, one span per block."""
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
        data = rest + block
        end = data.rfind(b"\n")
        if end < 0:
            rest = data
        else:
            rest = data[end + 1:]
            yield data, 0, end
        if on_progress is not None:
            on_progress(done)
    if rest:
        yield rest, 0, len(rest)


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
