"""The revisioned live state document: ops, their checks and how they apply (pure, no I/O).

A stream's live state is one JSON document plus a revision number `rev`. It changes only by lists
of ops, each list one change that bumps `rev` by exactly 1:

    {"op": "set", "path": ["countdowns", "c1"], "value": {"label": "...", "ends_at": 1712345678901}}
    {"op": "del", "path": ["pinned"]}

A path is a non-empty list of dict keys (strings). Lists are values like any other: replaced whole,
never addressed inside. `set` creates missing dicts on the way down; walking through something that
is not a dict (null, a list, a number) is an error and the whole change is refused. `del` of a path
that is not there changes nothing (but still counts as a change: rev still moves).

The same rules are implemented three times and must stay the same: here (MemoryHub), in the Lua
script of RedisHub, and in `web/static/live.js` (every page applies patches itself).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

MAX_PATH_DEPTH = 8
MAX_OPS_PER_CHANGE = 1000


class PatchError(ValueError):
    """A change that cannot apply: malformed op, or a path through something that is not a dict."""


def _default(value: Any) -> Any:
    # Money comes from the record as Decimal; on screens it is a number (the record keeps the exact one).
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def dumps(value: Any) -> bytes:
    """JSON bytes of a state value (Decimal becomes a number; anything else non-JSON is refused)."""
    try:
        return orjson.dumps(value, default=_default)
    except TypeError as exc:
        raise PatchError(f"not a JSON value: {exc}") from None


def json_copy(value: Any) -> Any:
    """A deep copy made of plain JSON types, so nobody shares mutable parts with the document."""
    return orjson.loads(dumps(value))


def check_ops(ops: Any) -> list[dict[str, Any]]:
    """Validate a change; return the ops with values copied to plain JSON. Raises PatchError."""
    if not isinstance(ops, list):
        raise PatchError(f"ops must be a list, not {type(ops).__name__}")
    if len(ops) > MAX_OPS_PER_CHANGE:
        raise PatchError(f"at most {MAX_OPS_PER_CHANGE} ops in one change, got {len(ops)}")
    checked = []
    for i, op in enumerate(ops):
        where = f"ops[{i}]"
        if not isinstance(op, dict):
            raise PatchError(f"{where}: an op is an object, not {type(op).__name__}")
        kind = op.get("op")
        if kind not in ("set", "del"):
            raise PatchError(f"{where}: 'op' must be 'set' or 'del', not {kind!r}")
        path = op.get("path")
        if not isinstance(path, list) or not path:
            raise PatchError(f"{where}: 'path' must be a non-empty list of keys")
        if len(path) > MAX_PATH_DEPTH:
            raise PatchError(f"{where}: 'path' deeper than {MAX_PATH_DEPTH}")
        for key in path:
            if not isinstance(key, str) or not key:
                raise PatchError(f"{where}: every key of 'path' must be a non-empty string, got {key!r}")
        extra = set(op) - {"op", "path", "value"}
        if extra:
            raise PatchError(f"{where}: unknown field(s) {sorted(extra)}")
        if kind == "set":
            if "value" not in op:
                raise PatchError(f"{where}: 'set' needs a 'value'")
            checked.append({"op": "set", "path": list(path), "value": json_copy(op["value"])})
        else:
            if "value" in op:
                raise PatchError(f"{where}: 'del' takes no 'value'")
            checked.append({"op": "del", "path": list(path)})
    return checked


def _apply_one(doc: dict[str, Any], op: dict[str, Any], where: str) -> None:
    path = op["path"]
    node = doc
    for depth, key in enumerate(path[:-1]):
        child = node.get(key)
        if child is None and key not in node:
            if op["op"] == "del":
                return  # nothing there to delete
            child = node[key] = {}
        elif not isinstance(child, dict):
            at = "/".join(path[: depth + 1])
            raise PatchError(f"{where}: '{at}' is {_kind(child)}, not an object, so it has no keys")
        node = child
    if op["op"] == "set":
        node[path[-1]] = op["value"]
    else:
        node.pop(path[-1], None)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def apply_ops(doc: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply checked ops; return a new document and leave `doc` as it was (all or nothing).

    Only the top-level sections the ops touch are copied, so a change to `metrics` does not copy
    the whole run sheet.
    """
    touched = {op["path"][0] for op in ops}
    new = dict(doc)
    for name in touched:
        if name in new:
            new[name] = json_copy(new[name])
    for i, op in enumerate(ops):
        _apply_one(new, op, f"ops[{i}]")
    return new


def set_op(path: list[str], value: Any) -> dict[str, Any]:
    return {"op": "set", "path": path, "value": value}


def del_op(path: list[str]) -> dict[str, Any]:
    return {"op": "del", "path": path}
