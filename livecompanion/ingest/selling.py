"""Whether a stream's room sells, as its live document says, for its comment triage on every
instance (issue 18: 扣1 / 想要 / 冲 during a flash sale are buying intent).

A flash sale is started and stopped by whichever instance the operator reached, sells out on the
one that took the last claim and ends on every instance's sale timer; a 講解 is started and stopped
from any console. Each is a change to the stream's live document (`flash_sales.<id>.status`,
`explaining`), which the instances already share: RedisHub keeps it in Redis and fans every change
out to every instance over its one pub/sub pattern; MemoryHub is the one process. So the live
numbers follow those two sections of each stream they hold with a hub `Watch` (called as the hub
fans a change out: no task and no polling of its own) and tell the stream's `CommentTriage`:

- `sales(running)`: the sales whose status is `live` and whose `ends_at` has not come. A level,
  not an edge: a sale sold out, stopped or over leaves the set, one whose units came back (a claim
  released) returns to it. Its end is also checked on each commit of the stream's events
  (`expire`): a document whose `ended` never came (every instance down at the sale's end, the
  document kept in Redis) still ends it.
- `selling(on, EXPLAIN)` when `explaining` changes between nothing and a product. An edge: the
  first read starts a 講解 the document shows, but ends none that ingest's own `product_explain`
  events started (the document knows only the console's).

A resync (the document loaded whole, or this instance's pub/sub link back after a loss), a gap in
the revisions, or a change that does not apply to what is held, re-reads the two sections from a
snapshot (`SellingContexts.refresh`, run by the live numbers' task); a snapshot older than a change
already seen is read again.

Before any document exists (a restart on one instance) the record says what ran when:
`sale_window` and `running_at`, which `seed.py` replays comments with.

Cost (BENCHMARKS.md, scripts/bench_watch.py): with Redis, an instance now decodes every change of
every stream it holds, not only of those a screen on it watches: 16 µs a metrics patch against
0.3 µs to drop it (load 9.2 on the shared 2-core box); at the publish gate's 4 patches a second a
stream, 200 streams cost 1.3% of a core. The comment path is unchanged (1.01x, eval_comments.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from livecompanion.clock import now_ms
from livecompanion.ingest.comments import CommentTriage
from livecompanion.ingest.comments.triage import EXPLAIN
from livecompanion.realtime import Hub, PatchError, Watch, apply_ops

log = logging.getLogger(__name__)

WATCHED = ("flash_sales", "explaining")

SaleWindow = tuple[str, int, int]  # sale id, started_ms, until_ms (exclusive)


def sale_window(sale_id: str, started_ms: int, ends_ms: int, stopped_ms: int | None,
                sold_out_ms: int | None, sold: int, stock: int) -> SaleWindow:
    """When a recorded sale made the room sell: from its start to its stop, its end, or its first
    sell-out when it is sold out still (units that came back since mean it sold on)."""
    until = ends_ms
    if stopped_ms is not None:
        until = min(until, stopped_ms)
    if sold_out_ms is not None and sold >= stock:
        until = min(until, sold_out_ms)
    return sale_id, started_ms, until


def running_at(windows: Iterable[SaleWindow], ts_ms: int) -> frozenset[str]:
    return frozenset(sale_id for sale_id, start, until in windows if start <= ts_ms < until)


class DocumentContext:
    """The two watched sections of one stream's document, and the triage they feed (pure)."""

    __slots__ = ("_doc", "_explaining", "next_end", "rev", "seen_rev", "triage")

    def __init__(self, triage: CommentTriage) -> None:
        self.triage = triage
        self.rev = 0  # the revision the held sections are at (0: not read yet)
        self.seen_rev = 0  # the latest revision a change was seen at
        self._doc: dict[str, Any] = {}
        self._explaining = False
        self.next_end: int | None = None  # when the first running sale's time is up

    def read(self, rev: int, doc: dict[str, Any], now: int) -> bool:
        """The sections from a snapshot at `rev`; False when a later change was seen already (so
        the snapshot misses it: read again)."""
        self._doc = {name: doc[name] for name in WATCHED if name in doc}
        self.rev = rev
        self._tell(now)
        return rev >= self.seen_rev

    def expire(self, now: int) -> None:
        """End the sales whose time is up by `now` (epoch ms)."""
        if self.next_end is not None and now >= self.next_end:
            self._tell(now)

    def patch(self, rev: int, ops: list[dict[str, Any]], now: int) -> bool:
        """A change at `rev`; False when it cannot be followed (a revision missed, or a change
        that does not apply to what is held): read a snapshot then."""
        self.seen_rev = max(self.seen_rev, rev)
        if rev <= self.rev:
            return True  # the snapshot read had it already
        gap = self.rev != 0 and rev != self.rev + 1
        self.rev = rev
        ours = [op for op in ops if op["path"][0] in WATCHED]
        if ours:
            try:
                self._doc = apply_ops(self._doc, ours)
            except PatchError:
                return False
            self._tell(now)
        return not gap

    def _tell(self, now: int) -> None:
        sales = self._doc.get("flash_sales")
        running, self.next_end = [], None
        for sale_id, sale in (sales.items() if isinstance(sales, dict) else ()):
            if not isinstance(sale, dict) or sale.get("status") != "live":
                continue
            ends = sale.get("ends_at")
            if isinstance(ends, int):
                if ends <= now:
                    continue
                self.next_end = ends if self.next_end is None else min(self.next_end, ends)
            running.append(sale_id)
        self.triage.sales(running)
        explaining = self._doc.get("explaining") is not None
        if explaining != self._explaining:
            self._explaining = explaining
            self.triage.selling(explaining, EXPLAIN)


class SellingContexts:
    """The `DocumentContext` of each stream the live numbers hold, with its watch on the hub."""

    def __init__(self, hub: Hub, wake: Callable[[], None]) -> None:
        self.hub = hub
        self.due: set[str] = set()  # streams to read from a snapshot (`refresh`)
        self._wake = wake
        self._contexts: dict[str, DocumentContext] = {}
        self._watches: dict[str, Watch] = {}

    def __contains__(self, stream_id: object) -> bool:
        return stream_id in self._contexts

    def streams(self) -> set[str]:
        return set(self._contexts)

    async def follow(self, stream_id: str, triage: CommentTriage) -> None:
        """Follow the stream's document from now on, starting with what it holds now. Never
        raises: with the hub's link down the stream is read again by `refresh`."""
        if stream_id in self._contexts:
            return
        self._contexts[stream_id] = DocumentContext(triage)
        try:
            await self._read(stream_id)
        except Exception as exc:  # noqa: BLE001 - comments go on; the selling context follows later
            log.warning("stream %s: cannot follow its document for the selling context yet: %s",
                        stream_id, exc)
            self.due.add(stream_id)

    async def refresh(self) -> None:
        """Read the due streams' sections from a snapshot (a failure is tried again next time)."""
        for stream_id in list(self.due):
            self.due.discard(stream_id)
            if stream_id not in self._contexts:
                continue
            try:
                await self._read(stream_id)
            except Exception as exc:  # noqa: BLE001
                log.warning("stream %s: reading its document for the selling context failed: %s",
                            stream_id, exc)
                self.due.add(stream_id)

    def expire(self, stream_id: str, now: int) -> None:
        """End the stream's sales whose time is up (the live numbers call this on each commit)."""
        context = self._contexts.get(stream_id)
        if context is not None:
            context.expire(now)

    def forget(self, stream_id: str) -> None:
        self._contexts.pop(stream_id, None)
        self.due.discard(stream_id)
        watch = self._watches.pop(stream_id, None)
        if watch is not None:
            watch.close()

    def close(self) -> None:
        for stream_id in list(self._contexts):
            self.forget(stream_id)

    async def _read(self, stream_id: str) -> None:
        if stream_id not in self._watches:  # first the watch, so no change slips past the snapshot
            self._watches[stream_id] = await self.hub.watch(stream_id, partial(self._on_message, stream_id))
        snap = await self.hub.snapshot(stream_id)
        context = self._contexts.get(stream_id)
        # No document yet: the record's view stands (seed.py); loading one resyncs the watch.
        if snap is not None and context is not None and not context.read(*snap, now_ms()):
            self._due(stream_id)

    def _on_message(self, stream_id: str, message: dict[str, Any]) -> None:
        context = self._contexts.get(stream_id)
        if context is None:
            return
        if message.get("type") != "patch" or not context.patch(message["rev"], message["ops"], now_ms()):
            self._due(stream_id)

    def _due(self, stream_id: str) -> None:
        self.due.add(stream_id)
        self._wake()
