"""What both event stores share: the order step of a write, and what a write returns.

The new `order` events of a batch are folded per order and applied to `orders` (see `orders.py`
for the rules): the rows are locked first (`SELECT ... FOR UPDATE`, in order_id order so two
writers cannot deadlock on them), new orders are inserted with `ON CONFLICT DO NOTHING` (one that
another writer inserted meanwhile is then locked and merged), and only rows that changed are
updated. Each backend (store_pg.py, store_sqlite.py) supplies the three primitives.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from typing import Any

from livecompanion.ingest.orders import FoldedOrder, OrderChange, OrderState, fold, merge
from livecompanion.ingest.rows import EventRecord, StreamCommit

OrderKey = tuple[str, str]  # (stream_id, order_id)


class OrderUpserts(ABC):
    """The order step, shared by both stores; the primitives are backend-specific. A flush holds
    several rooms' orders: each primitive takes them all at once (PostgreSQL: one statement for
    every stream, where a statement a stream made a ten-room flush ~30 sequential round trips)."""

    @abstractmethod
    async def _lock_orders(self, conn: Any, keys: list[OrderKey]) -> dict[OrderKey, OrderState]:
        """The stored state of those of `keys` that exist, their rows locked to the transaction in
        (stream_id, order_id) order."""

    @abstractmethod
    async def _insert_orders(self, conn: Any, states: dict[OrderKey, OrderState]) -> set[OrderKey]:
        """Insert new orders unless they exist (DO NOTHING); the keys really inserted."""

    @abstractmethod
    async def _update_orders(self, conn: Any, states: dict[OrderKey, OrderState]) -> None:
        """Write the merged state of existing (locked) orders."""

    async def upsert_orders(self, conn: Any, new_records: list[EventRecord]) -> dict[str, list[OrderChange]]:
        pairs = [(r.stream_id, r.event) for r in new_records if r.type == "order"]
        if not pairs:
            return {}
        folded: dict[OrderKey, FoldedOrder] = fold(pairs)  # type: ignore[arg-type]
        keys = sorted(folded)
        existing = await self._lock_orders(conn, keys)
        missing = {key: folded[key].state for key in keys if key not in existing}
        inserted: set[OrderKey] = set()
        if missing:
            inserted = await self._insert_orders(conn, missing)
            raced = sorted(set(missing) - inserted)  # another writer inserted these meanwhile
            if raced:
                existing.update(await self._lock_orders(conn, raced))
        updates: dict[OrderKey, OrderState] = {}
        changes: dict[str, list[OrderChange]] = defaultdict(list)
        for key in keys:
            stream_id, oid = key
            one = folded[key]
            if key in inserted:
                changes[stream_id].append(OrderChange(oid, None, one.state, one.nickname))
                continue
            before = existing[key]
            after = merge(before, one.state)
            if after != before:
                updates[key] = after
            changes[stream_id].append(OrderChange(oid, before, after, one.nickname))
        if updates:
            await self._update_orders(conn, updates)
        return dict(changes)


def new_ones(records: list[EventRecord], new: set[int]) -> list[EventRecord]:
    return records if len(new) == len(records) else [records[i] for i in sorted(new)]


def commits_of(
    records: list[EventRecord], new: set[int], order_changes: dict[str, list[OrderChange]]
) -> list[StreamCommit]:
    commits: dict[str, StreamCommit] = {}
    streams = {r.stream_id for r in records}
    if len(new) == len(records) and len(streams) == 1:  # the usual case: all new, one stream
        commits[records[0].stream_id] = StreamCommit(records[0].stream_id, list(records))
    else:
        for i in sorted(new):
            record = records[i]
            commit = commits.get(record.stream_id)
            if commit is None:
                commit = commits[record.stream_id] = StreamCommit(record.stream_id)
            commit.events.append(record)
    for stream_id, changes in order_changes.items():
        commits[stream_id].order_changes = changes
    return list(commits.values())
