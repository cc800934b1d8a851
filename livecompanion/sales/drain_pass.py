"""One drain pass over every due sale at once: one Redis round trip, one statement, one publish.

Issue 20's evening (ten rooms, 2,000 claims a minute a sale, two instances) spreads each instance's
~165 claims a second over ten sales, so nearly every claim had a pass to itself, and a pass over
several sales was a loop of single-sale passes: each sale's log read with the lease (a script call),
its batch written (a statement), its position published and its log trimmed (a pipeline). Now a pass
takes every due sale together:

1. the record's positions the drainer does not know yet: one query for all of them;
2. every sale's log read: `drain.lua` once a sale, all in ONE pipeline (per-sale calls, not one
   script over all the sales: a sale's keys share a stream's cluster slot, several streams' do not).
   The same call trims what the record already holds (it used to be one more command per batch);
3. every batch written in ONE statement (`drain_write.py`, `write_many`), each sale's batch still
   guarded by its own `drained IS NOT DISTINCT FROM :old`: a sale whose guard fails writes nothing and
   the others are written all the same; that sale is read again from the record's position;
4. positions published only for the sales another instance asked about (a wake: claim.lua's grant or
   replay there, or drain.lua finding our lease while claims wait there), in one pipeline. Nobody else
   waits on the others; an instance whose wake was lost still reads the record every 50 ms.

If the statement fails for another reason than Redis or the record being away, each sale's batch is
written alone, and a batch that fails alone entry by entry (quarantine.py): one sale's bad entry
never holds up the others.

Measured (`scripts/bench_drain.py`, one run against the code before, 2026-12-06): a pass over ten
sales with a new claim each 7,460-7,862 -> 685-809 us of CPU (69-81 us a sale above the pass), one sale
with one claim 766-780 -> 324-365 us, an idle pass 182-212 -> 62-74 us (these with storage/redis_link.py's link).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from redis.exceptions import NoScriptError

from livecompanion.sales.base import StoreUnavailable
from livecompanion.sales.drain_write import fold
from livecompanion.sales.quarantine import write_one_by_one
from livecompanion.sales.store_redis import REDIS_ERRORS, SaleKeys, lua

if TYPE_CHECKING:
    from livecompanion.sales.drain import Drainer, Entry

log = logging.getLogger(__name__)

BATCH = 2000  # log entries a sale in one pass
DRAIN_LUA = lua("drain.lua")


def position(text: str | None) -> tuple[str, tuple[int, int]] | None:
    """"<epoch>/<ms>-<seq>" -> (epoch, (ms, seq)); None for no position or a load under way."""
    epoch, _, entry = (text or "").partition("/")
    ms, dash, seq = entry.partition("-")
    if not dash or not ms.isdigit() or not seq.isdigit():
        return None
    return epoch, (int(ms), int(seq))


@dataclass(slots=True)
class LogRead:
    """One sale's part of a pass."""

    sale_id: str
    stream_id: str
    keys: SaleKeys
    drained: str | None  # the record's position as known here
    stock: int
    wake_holder: bool  # claims wait here: a held lease wakes its holder


@dataclass(slots=True)
class Batch:
    read: LogRead
    epoch: str
    new: str  # "<epoch>/<last entry id>"
    entries: list[Entry]


def parse_log(raw: bytes) -> int | tuple[str | None, list[Entry]]:
    """drain.lua's reply: the ms until another's lease may lapse, or (epoch, entries)."""
    if raw.startswith(b"held "):
        return max(1, int(raw[5:]))  # -1 / -2: no TTL, gone since: look again soon
    head, _, body = raw.partition(b"\n")
    if not head:
        return None, []
    entries = []
    at, size = 0, len(body)
    while at < size:  # "<id> <field> <length> <value>" back to back
        id_end = body.index(b" ", at)
        field_end = body.index(b" ", id_end + 1)
        length_end = body.index(b" ", field_end + 1)
        value_at = length_end + 1
        value_end = value_at + int(body[field_end + 1:length_end])
        entries.append((body[at:id_end], {body[id_end + 1:field_end]: body[value_at:value_end]}))
        at = value_end
    return head.decode(), entries


async def pipeline(d: Drainer, commands: list[tuple[Any, ...]]) -> list[Any]:
    """Replies of `commands` sent at once (through the store's lean link where it has one); an
    error reply as an exception value."""
    if d.store.link is not None:
        return await d.store.link.pipeline(commands)
    async with d.redis.pipeline(transaction=False) as pipe:
        for command in commands:
            pipe.execute_command(*command)
        return list(await pipe.execute(raise_on_error=False))


async def read_logs(d: Drainer, reads: list[LogRead]) -> list[bytes]:
    """drain.lua for each sale, in one pipeline (EVALSHA; the script loaded once if Redis lacks it)."""
    commands = []
    for r in reads:
        at = position(r.drained)
        start, epoch = (f"{at[1][0]}-{at[1][1]}", at[0]) if at else ("-", "")
        commands.append(("EVALSHA", d.drain_sha, 3, r.keys.lease, r.keys.meta, r.keys.log, d.instance,
                         d.lease_ms, start, BATCH, epoch, d.store.wake_prefix if r.wake_holder else "",
                         r.sale_id, r.stream_id))
    replies = await pipeline(d, commands)
    if any(isinstance(reply, NoScriptError) for reply in replies):
        await pipeline(d, [("SCRIPT", "LOAD", DRAIN_LUA)])
        replies = await pipeline(d, commands)
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    return replies


async def run_pass(d: Drainer, sales: dict[str, str]) -> tuple[int, dict[str, str]]:
    """Write what every sale's log holds past the record's position, once: (entries written, the
    sales to pass over again at once: a full batch, or another drainer moved the position first)."""
    missing = [sale_id for sale_id in sales if sale_id not in d.cursor]
    if missing:
        found = await d.writer.positions_and_stock(missing)
        for sale_id in missing:
            if sale_id in found:
                d.cursor[sale_id] = found[sale_id]
            else:
                log.error("sales drainer: flash sale %s is in Redis but not in the record; not drained", sale_id)
    wanted = d.wanted & sales.keys()  # asked before the read: their answer is in this pass
    d.wanted -= wanted
    reads = []
    for sale_id, stream_id in sales.items():
        if sale_id not in d.cursor:
            continue
        drained, stock = d.cursor[sale_id]
        d.resolve(sale_id, drained)
        if drained is not None and drained.endswith("/loading"):
            del d.cursor[sale_id]  # a load from the record is under way; next pass
            continue
        reads.append(LogRead(sale_id, stream_id, d.store.keys(stream_id, sale_id), drained, stock,
                             sale_id in d.waiters))
    if not reads:
        return 0, {}
    batches = []
    now = asyncio.get_running_loop().time()
    for r, raw in zip(reads, await d.read_logs(reads), strict=True):
        reply = parse_log(raw)
        if isinstance(reply, int):  # another instance drains it: read again when its lease may lapse
            d.lease_free_at[r.sale_id] = now + reply / 1000
            wanted.discard(r.sale_id)
            continue
        epoch, entries = reply
        if epoch is not None and entries:
            new = f"{epoch}/{entries[-1][0].decode()}"
            d.reading[r.sale_id] = position(new)  # type: ignore[assignment]
            batches.append(Batch(r, epoch, new, entries))
    moved = await write_batches(d, batches) if batches else set()
    written, again = 0, {}
    for b in batches:
        sale_id = b.read.sale_id
        if sale_id not in moved:
            d.cursor.pop(sale_id, None)  # another drainer was first: read the record again
            again[sale_id] = b.read.stream_id
            continue
        d.cursor[sale_id] = (b.new, b.read.stock)
        written += len(b.entries)
        d.resolve(sale_id, b.new)
        if len(b.entries) >= BATCH:
            again[sale_id] = b.read.stream_id
    d.wanted |= wanted & again.keys()  # told after their next round
    told = [(sale_id, d.cursor[sale_id][0]) for sale_id in wanted - again.keys() if d.cursor.get(sale_id, (None,))[0]]
    if told:  # for other instances' waiting claims (also when nothing was new: it may be written already)
        await pipeline(d, [("PUBLISH", d.channel, f"{sale_id} {drained}") for sale_id, drained in told])
    return written, again


async def write_batches(d: Drainer, batches: list[Batch]) -> set[str]:
    """Every batch in one statement; the sales whose batch the record took. If the statement fails
    (not for Redis or the record being away), each sale's batch alone, then entry by entry."""
    try:
        return await d.writer.write_many(
            [(b.read.sale_id, b.read.drained, b.new, fold(b.read.sale_id, b.read.stock, b.entries))
             for b in batches])
    except (StoreUnavailable, *REDIS_ERRORS):
        raise
    except Exception as exc:  # a bad entry somewhere, or the record: told apart below (quarantine.py)
        if len(batches) == 1:
            return await entry_by_entry(d, batches[0], exc)
        log.warning("sales drainer: a pass over %d sales failed; writing each sale alone", len(batches),
                    exc_info=True)
    moved = set()
    for b in batches:
        r = b.read
        try:
            done = await d.write(r.sale_id, r.stock, r.drained, b.new, b.entries)
        except (StoreUnavailable, *REDIS_ERRORS):
            raise
        except Exception as exc:  # noqa: BLE001 - as above
            done = bool(await entry_by_entry(d, b, exc))
        if done:
            moved.add(r.sale_id)
    return moved


async def entry_by_entry(d: Drainer, b: Batch, error: Exception) -> set[str]:
    r = b.read
    log.warning("sales drainer: a batch of sale %s failed; writing it entry by entry", r.sale_id, exc_info=error)
    done = await write_one_by_one(d, r.keys, r.sale_id, r.stock, r.drained, b.epoch, b.entries)
    return {r.sale_id} if done else set()
