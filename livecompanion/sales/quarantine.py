"""A log entry the record cannot hold never blocks a sale: it is set aside, its units go back.

Issue 13 item 2: one claim whose `user_id` held a NUL byte was granted by Redis, then refused by
PostgreSQL on every drain pass; the sale's position never moved, so every later claim waited for a
record that never came (503 forever) while Redis went on selling, and the retries slowed the drain
of every other sale from ~20 ms to ~700 ms a pass. (The text rule now refuses such a claim at the
door; this is the second line, for whatever else a backend may refuse.)

When a batch fails for a reason that is not Redis or the record being away, the drainer writes its
entries one at a time. An entry that fails alone, while the record answers a read, is poison:

- the record's position moves past it (nothing else of it is written),
- a claim's units go back to stock and to its user's limit (`release.lua`, which logs the release,
  so the record's `sold` follows),
- the entry is kept in the Redis hash `<prefix>fs:quarantine` ("<sale> <entry id>" -> raw entry,
  with the error) for the operator, and an ERROR is logged ("OPERATOR ALERT"),
- the claim waiting on it is answered "not recorded" (503), never 201.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import orjson

from livecompanion.sales.store_redis import REDIS_ERRORS, SaleKeys, lua

if TYPE_CHECKING:
    from livecompanion.sales.drain import Drainer, Entry

log = logging.getLogger(__name__)


def _s(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


async def write_one_by_one(drainer: Drainer, keys: SaleKeys, sale_id: str, stock: int, old: str | None,
                           epoch: str, entries: list[Entry]) -> bool:
    """Write `entries` one per transaction, setting aside those the record refuses; False if another
    drainer moved the position first (as `Drainer._write`)."""
    at = old
    for entry in entries:
        new = f"{epoch}/{_s(entry[0])}"
        try:
            moved = await drainer.write(sale_id, stock, at, new, [entry])
        except REDIS_ERRORS:
            raise
        except Exception as exc:  # noqa: BLE001 - the entry, or the record being away: told apart below
            await drainer.writer.position(sale_id)  # raises if the record is away: not the entry's fault
            moved = await drainer.write(sale_id, stock, at, new, [])  # past it, nothing of it written
            if moved:
                await set_aside(drainer, keys, sale_id, epoch, entry, exc)
        if not moved:
            return False
        at = new
    return True


async def set_aside(drainer: Drainer, keys: SaleKeys, sale_id: str, epoch: str, entry: Entry,
                    error: BaseException) -> None:
    entry_id = _s(entry[0])
    ((kind, value),) = entry[1].items()
    released = None
    if _s(kind) == "c":  # "rank qty bonus t sold next len(order) order user"
        rank, qty, _bonus, _t, _sold, _next, olen, rest = value.split(b" ", 7)
        n = int(olen)
        order_id, user = rest[:n], rest[n + 1:]
        released = await drainer.redis.eval(
            lua("release.lua"), 4, keys.meta, keys.held, keys.orders, keys.log, rank, qty, user, order_id)
    await drainer.redis.hset(f"{drainer.store.prefix}fs:quarantine", f"{sale_id} {entry_id}",
                             orjson.dumps({"entry": _s(value), "kind": _s(kind), "error": repr(error)[:500]}))
    drainer.quarantined.add((sale_id, epoch, entry_id))
    log.error("OPERATOR ALERT: flash sale %s: log entry %s (%s) cannot be recorded (%r); set aside in "
              "%sfs:quarantine%s, the other claims go on", sale_id, entry_id, _s(kind), error,
              drainer.store.prefix, "" if released is None else f", its units released (sold now {released})")
