"""NDJSON lines to values, many lines in one `orjson.loads` call where that is exact.

`decode_line` is the rule: a line's value, or `NotJSON` saying why not (a blank line is no
error). `decode_piece` gives the same for many lines at once, mostly by decoding them as one JSON
array: one call instead of a hundred, and no bytes object per line. tests/analytics/
test_fast_paths.py checks it against `decode_line` on lines made to break it.

Used by the report's event log reader (livecompanion/analytics) and the bridge's recording reader
(livecompanion/bridge/runner.py); it lives outside both so a bridge does not import the report.
"""

from __future__ import annotations

from typing import Any

import orjson


class NotJSON:
    """A line that did not decode, in a batch of decoded values: `reason` says why (None for a blank
    line, which is no error)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str | None) -> None:
        self.reason = reason


def decode_line(line: bytes) -> Any:
    """One NDJSON line: its value, or a `NotJSON`."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        return NotJSON(f"not JSON: {exc.msg} at column {exc.pos + 1}" if line.strip() else None)


def decode_piece(piece: bytes) -> list[Any]:
    """The value of each line of `piece` (lines joined by newlines), as `decode_line` gives it.

    The lines between two that hold a `[` are decoded in one call, see `_bracket_free`; a line with
    a `[` is decoded alone."""
    values: list[Any] = []
    pos = 0
    while (i := piece.find(b"[", pos)) >= 0:
        start = piece.rfind(b"\n", pos, i) + 1 or pos  # the start of the line holding the "["
        if start > pos:
            values += _bracket_free(piece[pos:start - 1])
        end = piece.find(b"\n", i)
        if end < 0:
            values.append(decode_line(piece[start:]))
            return values
        values.append(decode_line(piece[start:end]))
        pos = end + 1
    values += _bracket_free(piece[pos:] if pos else piece)
    return values


def _bracket_free(lines: bytes) -> list[Any]:
    """The values of n lines without any `[`: decoded as the array `[line, 0, line, 0, ..., line]`
    (each newline made `,0,` + newline), which must hold 2n - 1 values; the 0s are then dropped.

    That is exact: each added `,0,` stands between two values at the top level of the array, so
    each line is one whole JSON value. A string cannot run across it (the newline after it would be
    in the string, which JSON forbids); there is no array for it to hide in; inside an object, `0`
    cannot follow a comma (a key must). With the count right, no line holds two values. If the call
    fails or the count is wrong, the lines are decoded one by one."""
    body = lines.replace(b"\n", b",0,\n")
    n = (len(body) - len(lines)) // 3 + 1  # each newline became 3 bytes longer
    try:
        values: list[Any] = orjson.loads(b"".join((b"[", body, b"]")))
    except orjson.JSONDecodeError:
        pass
    else:
        if len(values) == 2 * n - 1:
            return values[::2]
    return list(map(decode_line, lines.split(b"\n")))
