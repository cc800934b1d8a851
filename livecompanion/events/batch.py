"""Batches of events: a JSON array, a single object, or NDJSON (one object a line)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class EventError:
    index: int  # 0-based position in the batch (NDJSON: the line's index among non-blank lines)
    reason: str
    line: int | None = None  # 1-based line in the body, for NDJSON


def _decode_ndjson(body: bytes) -> tuple[list[tuple[int, Any]], list[EventError]]:
    values: list[tuple[int, Any]] = []
    errors: list[EventError] = []
    index = 0
    for lineno, line in enumerate(body.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            values.append((index, orjson.loads(line)))
        except orjson.JSONDecodeError as exc:
            errors.append(EventError(index, f"line {lineno}: not JSON: {exc}", lineno))
        index += 1
    return values, errors


def decode_body(body: bytes, ndjson: bool | None = None) -> tuple[list[tuple[int, Any]], list[EventError]]:
    """Split a request body into (index, decoded value) pairs and per-item decode errors.

    With `ndjson=None` the shape is guessed: a body starting with `[` is an array, a body with one
    line is one object (or an array), anything else is NDJSON.
    """
    stripped = body.lstrip()
    if ndjson is None:
        ndjson = not stripped.startswith(b"[") and b"\n" in body.strip()
    if ndjson:
        return _decode_ndjson(body)
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        # A whole-body JSON error may still be NDJSON with a bad line: fall back to line by line.
        if b"\n" in body.strip():
            return _decode_ndjson(body)
        return [], [EventError(0, f"not JSON: {exc}")]
    if isinstance(value, list):
        return list(enumerate(value)), []
    return [(0, value)], []
