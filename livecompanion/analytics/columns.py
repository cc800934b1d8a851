"""A stream's accepted events as columns: per event type, parallel sequences with one entry per event.

    ts      array of epoch ms
    users   list of user ids (shared string objects; None for the types without a user)
    values  the type's own value (a list, or a bytearray of 0/1 for stays), None for types without

Columns instead of a small tuple per event: a million events are then a few arrays and lists of
references to shared strings, not a million tuples and ts integers that must each be made, kept
and freed again. `rows()` gives the tuple view (tests, debugging); the report reads the columns.

While collecting, a column also holds each event's input position (`seq`) for de-duplication, and
keeps itself in ts order as events arrive (see `Column.insert`).
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterator
from operator import itemgetter
from typing import Any

# name -> (has users, kind of values): "list" any objects, "flag" a bytearray of 0/1, None no values.
VALUES: dict[str, tuple[bool, str | None]] = {
    "impressions": (True, None),
    "stays": (True, "flag"),  # enter (1) and leave (0), in one column: their order matters
    "viewer_counts": (False, "list"),  # the platform's count (unbounded integer)
    "comments": (True, "list"),  # text
    "likes": (True, "list"),  # count, 1..1,000,000
    "shares": (True, None),
    "follows": (True, None),
    "product_impressions": (True, "list"),  # sku
    "product_clicks": (True, "list"),  # sku
    "orders": (True, "list"),  # (order_id, sku, qty, amount in cents, status)
    "segments": (False, "list"),  # segment id
    "explains": (True, "list"),  # (sku, action): product_explain, 講解 start or stop
    "alerts": (False, "list"),  # (key, kind, level, text, acked): 場控 alerts, marked, never counted
}
KINDS = tuple(VALUES)
# Columns that mark the stream (the service's alerts) without being its events: not counted, and
# they neither start nor end it, so a log with them reports the same figures as one without.
MARKS = frozenset({"alerts"})
COLUMN_OF = {  # event type -> its column
    "impression": "impressions", "enter": "stays", "leave": "stays", "viewer_count": "viewer_counts",
    "comment": "comments", "like": "likes", "share": "shares", "follow": "follows",
    "product_impression": "product_impressions", "product_click": "product_clicks",
    "order": "orders", "segment": "segments", "product_explain": "explains", "alert": "alerts",
}
# An event that would move more rows than this to be inserted in place is put aside and merged in
# at the end (moving them costs a memory copy per part of the column).
MAX_SHIFT = 512
_TS = itemgetter(0)


def _empty_values(kind: str | None) -> Any:
    if kind == "list":
        return []
    if kind == "flag":
        return bytearray()
    return None


def _picked(seq: Any, order: list[int]) -> Any:
    """seq[i] for i in order, in a sequence of the same type."""
    picked = map(seq.__getitem__, order)
    if type(seq) is array:
        return array(seq.typecode, picked)
    return bytearray(picked) if type(seq) is bytearray else list(picked)


def _without(seq: Any, rows: list[int]) -> Any:
    """seq without the items at `rows` (sorted), copied in slices between them."""
    out = seq[:rows[0]]
    for a, b in zip(rows, [*rows[1:], len(seq)]):
        out += seq[a + 1:b]
    return out


class Column:
    """The events of one type, kept in ts order (ties: arrival order)."""

    __slots__ = ("flag", "late", "seq", "spread", "ts", "unsorted", "users", "values")

    def __init__(self, name: str) -> None:
        has_users, values = VALUES[name]
        self.ts = array("q")
        self.users: list[str] | None = [] if has_users else None
        self.values: Any = _empty_values(values)
        self.flag = values == "flag"
        self.spread = name == "orders"  # rows() spreads the value tuple
        self.seq = array("q")  # input position of each event (while collecting)
        # Events that came too late to be inserted in place cheaply: (ts, seq, user, value), merged
        # in by `merge_late`.
        self.late: list[tuple[int, int, Any, Any]] = []
        self.unsorted = False

    def __len__(self) -> int:
        return len(self.ts)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Column) and self.ts == other.ts and self.users == other.users
                and self.values == other.values)

    def rows(self) -> list[tuple[Any, ...]]:
        """The events as tuples: (ts, user, value), without the parts the type has not; orders
        spread out as (ts, user, order_id, sku, qty, cents, status), stays' flag as a bool."""
        parts: list[Any] = [self.ts]
        if self.users is not None:
            parts.append(self.users)
        if self.values is not None:
            parts.append(map(bool, self.values) if self.flag else self.values)
        rows = list(zip(*parts))
        return [(t, u, *v) for t, u, v in rows] if self.spread else rows

    def add(self, ts: int, user: str | None, value: Any, seq: int) -> None:
        """One more event, in its ts place."""
        ts_col = self.ts
        if not ts_col or ts >= ts_col[-1]:
            ts_col.append(ts)
            if self.users is not None:  # then the type has users: `user` is a str
                self.users.append(user)  # type: ignore[arg-type]
            if self.values is not None:
                self.values.append(value)
            self.seq.append(seq)
        else:
            self.insert(ts, user, value, seq)

    def insert(self, ts: int, user: str | None, value: Any, seq: int) -> bool:
        """An event older than the newest one: in place (after the events of the same ts, which came
        before it) if that moves few rows, else put aside for `merge_late`. When many come late (a
        log far from sorted), the column stops keeping order and is sorted once, at the end: True
        from then on (the caller may then append to it as it likes)."""
        if not self.unsorted:
            pos = bisect_right(self.ts, ts)
            if len(self.ts) - pos <= MAX_SHIFT:
                self._put(pos, ts, user, value, seq)
                return False
            late = self.late
            late.append((ts, seq, user, value))
            if len(late) <= 1000 or len(late) * 8 <= len(self.ts):
                return False
            self.unsorted = True
            self.late = []
            for row in late:
                self._put(len(self.ts), row[0], row[2], row[3], row[1])
            return True
        self._put(len(self.ts), ts, user, value, seq)
        return True

    def _put(self, pos: int, ts: int, user: str | None, value: Any, seq: int) -> None:
        self.ts.insert(pos, ts)
        if self.users is not None:  # then the type has users: `user` is a str
            self.users.insert(pos, user)  # type: ignore[arg-type]
        if self.values is not None:
            self.values.insert(pos, value)
        self.seq.insert(pos, seq)

    def merge_late(self) -> None:
        """The events put aside, each into its place: after the rows of the same ts. (They came after
        those rows: an event of that ts arriving later would have been put aside too, as the rows
        of a later ts only grow in number.) A column that stopped keeping order is sorted."""
        names = ("ts", "seq", "users", "values")
        if self.unsorted:
            by_input = sorted(range(len(self.seq)), key=self.seq.__getitem__)
            order = sorted(by_input, key=self.ts.__getitem__)  # stable: ties in input order
            for name in names:
                part = getattr(self, name)
                if part is not None:
                    setattr(self, name, _picked(part, order))
            self.unsorted = False
        if not self.late:
            return
        late = sorted(self.late, key=_TS)  # stable: ties stay in input order
        self.late = []
        places = [bisect_right(self.ts, row[0]) for row in late]
        for i, name in enumerate(names):
            part = getattr(self, name)
            if part is not None:
                merged = part[:0]
                for start, end, row in zip([0, *places], places, late):
                    merged += part[start:end]
                    merged.append(row[i])
                merged += part[places[-1]:]
                setattr(self, name, merged)

    def settle(self, dropped: set[int]) -> None:
        """Collecting is over: forget input positions, and leave out the events at `dropped`."""
        self.seq = array("q")
        if dropped:
            rows = sorted(dropped)
            for name in ("ts", "users", "values"):
                part = getattr(self, name)
                if part is not None:
                    setattr(self, name, _without(part, rows))


class EventTable:
    """A stream's accepted events: `columns[name]` for each name of `KINDS`, each sorted by ts
    (ties in input order), and how many repeated events were left out."""

    __slots__ = ("columns", "duplicates", "sources")

    def __init__(self) -> None:
        self.columns: dict[str, Column] = {name: Column(name) for name in KINDS}
        self.duplicates = 0
        self.sources: Any = None  # `sources.SourceTally` of the collector, when it made the table

    def __len__(self) -> int:
        return sum(len(c) for name, c in self.columns.items() if name not in MARKS)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, EventTable) and self.columns == other.columns
                and self.duplicates == other.duplicates)

    def __iter__(self) -> Iterator[Column]:
        return iter(self.columns.values())

    def span(self) -> tuple[int, int] | None:
        """(first ts, last ts) of the stream, None without events."""
        cols = [c.ts for name, c in self.columns.items() if len(c) and name not in MARKS]
        if not cols:
            return None
        return min(ts[0] for ts in cols), max(ts[-1] for ts in cols)

    # The tuple views, by the column names: table.comments -> [(ts, user, text), ...].
    impressions = property(lambda self: self.columns["impressions"].rows())
    stays = property(lambda self: self.columns["stays"].rows())
    viewer_counts = property(lambda self: self.columns["viewer_counts"].rows())
    comments = property(lambda self: self.columns["comments"].rows())
    likes = property(lambda self: self.columns["likes"].rows())
    shares = property(lambda self: self.columns["shares"].rows())
    follows = property(lambda self: self.columns["follows"].rows())
    product_impressions = property(lambda self: self.columns["product_impressions"].rows())
    product_clicks = property(lambda self: self.columns["product_clicks"].rows())
    orders = property(lambda self: self.columns["orders"].rows())
    segments = property(lambda self: self.columns["segments"].rows())
    explains = property(lambda self: self.columns["explains"].rows())
    alerts = property(lambda self: self.columns["alerts"].rows())
