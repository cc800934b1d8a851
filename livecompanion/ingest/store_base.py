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


class OrderUpserts(ABC):
    """The order step, shared by both stores; the primitives are backend-specific."""

    @abstractmethod
    async def _lock_orders(self, conn: Any, stream_id: str, order_ids: list[str]) -> dict[str, OrderState]:
        """The stored state of those of `order_ids` that exist, their rows locked to the transaction."""

    @abstractmethod
    async def _insert_orders(self, conn: Any, stream_id: str, states: dict[str, OrderState]) -> set[str]:
        """Insert new orders unless they exist (DO NOTHING); the ids really inserted."""

    @abstractmethod
    async def _update_orders(self, conn: Any, stream_id: str, states: dict[str, OrderState]) -> None:
        """Write the merged state of existing (locked) orders."""

    async def upsert_orders(self, conn: Any, new_records: list[EventRecord]) -> dict[str, list[OrderChange]]:
        pairs = [(r.stream_id, r.event) for r in new_records if r.type == "order"]
        if not pairs:
            return {}
        by_stream: dict[str, dict[str, FoldedOrder]] = defaultdict(dict)
        for (stream_id, order_id), folded in fold(pairs).items():  # type: ignore[arg-type]
            by_stream[stream_id][order_id] = folded
        changes: dict[str, list[OrderChange]] = {}
        for stream_id in sorted(by_stream):
            group = by_stream[stream_id]
            ids = sorted(group)
            existing = await self._lock_orders(conn, stream_id, ids)
            missing = {oid: group[oid].state for oid in ids if oid not in existing}
            inserted: set[str] = set()
            if missing:
                inserted = await self._insert_orders(conn, stream_id, missing)
                raced = sorted(set(missing) - inserted)  # another writer inserted these meanwhile
                if raced:
                    existing.update(await self._lock_orders(conn, stream_id, raced))
            updates: dict[str, OrderState] = {}
            stream_changes = []
            for oid in ids:
                folded = group[oid]
                if oid in inserted:
                    stream_changes.append(OrderChange(oid, None, folded.state, folded.nickname))
                    continue
                before = existing[oid]
                after = merge(before, folded.state)
                if after != before:
                    updates[oid] = after
                stream_changes.append(OrderChange(oid, before, after, folded.nickname))
            if updates:
                await self._update_orders(conn, stream_id, updates)
            changes[stream_id] = stream_changes
        return changes


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
