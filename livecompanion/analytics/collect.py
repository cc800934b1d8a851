"""Events collected for the report: validated, de-duplicated, in per-type columns sorted by ts.

A report reads millions of events, so each is kept as a small tuple in the list of its type, not as
a dict or a pydantic object (see `EventTable` for the shapes). User ids, skus and common comment
texts are shared string objects, so a viewer's thousand events hold one copy of their id.

Acceptance is exactly that of `livecompanion.events.parse_event` (the ingest rules). The loop below
accepts the plain common shapes itself (string ids without surrounding blanks, integer epoch-ms `ts`,
integer counts); everything else (ISO `ts`, numeric ids, orders, segments, odd values) goes to
`parse_event`, which also words the reason for a rejection. tests/analytics/test_collect.py checks
the two agree.

Duplicates: of the events sharing an `id`, the one first in ts order (ties: input order) is kept.
"""

from __future__ import annotations

import gc
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import compress
from operator import itemgetter
from typing import Any, Callable, Iterable, Iterator

import orjson

from livecompanion.events import parse_event
from livecompanion.events.models import MAX_TEXT

OnError = Callable[[int, str], None]  # (position, reason): line number or item index

_MAX_TS = 10**14
_NO_TS = "ts: required in an event log (there is no receive time to fall back on)"
_TEXT_CACHE = 200_000  # distinct comment texts remembered as valid (and shared)
_TS = itemgetter(0)
(_IMPRESSION, _ENTER, _LEAVE, _VIEWER_COUNT, _COMMENT, _LIKE, _SHARE, _FOLLOW,
 _PRODUCT_IMPRESSION, _PRODUCT_CLICK) = range(10)
_FAST = {"impression": _IMPRESSION, "enter": _ENTER, "leave": _LEAVE, "viewer_count": _VIEWER_COUNT,
         "comment": _COMMENT, "like": _LIKE, "share": _SHARE, "follow": _FOLLOW,
         "product_impression": _PRODUCT_IMPRESSION, "product_click": _PRODUCT_CLICK}


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cycle collector while millions of small records are made: they hold no cycles,
    and every full collection would walk all of them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(slots=True)
class EventTable:
    """A stream's accepted events by type, each list sorted by ts (ties in input order)."""
    impressions: list[tuple[int, str]] = field(default_factory=list)  # (ts, user)
    stays: list[tuple[int, str, bool]] = field(default_factory=list)  # enter/leave: (ts, user, entered)
    viewer_counts: list[tuple[int, int]] = field(default_factory=list)  # (ts, count)
    comments: list[tuple[int, str, str]] = field(default_factory=list)  # (ts, user, text)
    likes: list[tuple[int, str, int]] = field(default_factory=list)  # (ts, user, count)
    shares: list[tuple[int, str]] = field(default_factory=list)
    follows: list[tuple[int, str]] = field(default_factory=list)
    product_impressions: list[tuple[int, str, str]] = field(default_factory=list)  # (ts, user, sku)
    product_clicks: list[tuple[int, str, str]] = field(default_factory=list)
    # (ts, user, order_id, sku, qty, amount in cents, status)
    orders: list[tuple[int, str, str, str, int, int, str]] = field(default_factory=list)
    segments: list[tuple[int, str]] = field(default_factory=list)  # (ts, segment id)
    duplicates: int = 0

    def columns(self) -> list[list[tuple]]:
        return [self.impressions, self.stays, self.viewer_counts, self.comments, self.likes, self.shares,
                self.follows, self.product_impressions, self.product_clicks, self.orders, self.segments]

    def __len__(self) -> int:
        return sum(len(c) for c in self.columns())

    def span(self) -> tuple[int, int] | None:
        """(first ts, last ts) of the stream, None without events."""
        cols = [c for c in self.columns() if c]
        if not cols:
            return None
        return min(c[0][0] for c in cols), max(c[-1][0] for c in cols)


class Collector:
    """Feed events in input order (`add_lines`, `add_values`, several calls in a row are one input),
    then `finish()` for the table.

    `received_ms` stands in for a missing `ts`, as at ingest; None (an event log read after the
    fact, where the reading time means nothing) rejects an event without `ts`.
    """

    def __init__(self, received_ms: int | None = None) -> None:
        self.received_ms = received_ms
        self.table = EventTable()
        # Each event id beside its record; repeats are found and settled at the end, in bulk. (A
        # lookup in a million-entry set for every event, inside the loop, cost more than the
        # parse itself: memory latency. Block-wise set operations afterwards cost about half.)
        self._ids: list[str] = []
        self._id_records: list[tuple] = []
        self._users: dict[str, str] = {}
        self._texts: dict[str, str] = {}
        self._skus: dict[str, str] = {}

    def add_lines(self, lines: Iterable[bytes], on_error: OnError, first_line: int = 1) -> None:
        """NDJSON lines (bytes, each one event or blank); positions are line numbers."""
        self._ingest(lines, orjson.loads, on_error, first_line)

    def add_values(self, values: Iterable[Any], on_error: OnError, first_index: int = 0) -> None:
        """Decoded JSON values or typed events of `livecompanion.events`; positions are indexes."""
        self._ingest(values, None, on_error, first_index)

    def add_event(self, event: Any) -> None:
        """A typed event of `livecompanion.events` (already validated)."""
        kind = event.type
        ts, user, eid = event.ts, event.user_id, event.id
        if user is not None:
            user = self._users.setdefault(user, user)
        t = self.table
        if kind == "order":
            # amount has at most two decimal places (validated), so cents are exact integers.
            rec: tuple = (ts, user, event.order_id, event.sku, event.qty, int(event.amount * 100), event.status)
            column = t.orders
        elif kind == "segment":
            rec, column = (ts, event.segment), t.segments
        elif kind == "comment":
            rec, column = (ts, user, event.text), t.comments
        elif kind == "like":
            rec, column = (ts, user, event.count), t.likes
        elif kind in ("enter", "leave"):
            rec, column = (ts, user, kind == "enter"), t.stays
        elif kind == "viewer_count":
            rec, column = (ts, event.count), t.viewer_counts
        elif kind in ("product_impression", "product_click"):
            sku = self._skus.setdefault(event.sku, event.sku)
            rec = (ts, user, sku)
            column = t.product_impressions if kind == "product_impression" else t.product_clicks
        else:
            rec = (ts, user)
            column = {"impression": t.impressions, "share": t.shares, "follow": t.follows}[kind]
        column.append(rec)
        if eid is not None:
            self._ids.append(eid)
            self._id_records.append(rec)

    def _slow(self, raw: Any, pos: int, on_error: OnError) -> None:
        if type(raw) is not dict and hasattr(raw, "type") and hasattr(raw, "ts"):
            self.add_event(raw)  # a typed event
            return
        received = self.received_ms
        no_ts = received is None and type(raw) is dict and raw.get("ts") is None
        try:
            event = parse_event(raw, received if received is not None else 0)
        except ValueError as exc:
            on_error(pos, f"{exc}; {_NO_TS}" if no_ts else str(exc))
            return
        if no_ts:
            on_error(pos, _NO_TS)
            return
        self.add_event(event)

    def _ingest(self, items: Iterable[Any], decode: Callable[[Any], Any] | None, on_error: OnError,
                pos: int) -> None:
        # The report's hottest loop (a million events take about a microsecond each here): every
        # name is a local, the common shapes are checked inline, one boolean test for the fields all
        # types share. Anything unusual falls to `_slow`, i.e. to parse_event.
        received = self.received_ms
        ids_append = self._ids.append
        id_records_append = self._id_records.append
        users = self._users
        users_get = users.get
        texts = self._texts
        texts_get = texts.get
        skus = self._skus
        skus_get = skus.get
        fast_get = _FAST.get
        t = self.table
        impressions_append, stays_append = t.impressions.append, t.stays.append
        comments_append, likes_append = t.comments.append, t.likes.append
        shares_append, follows_append = t.shares.append, t.follows.append
        product_impressions_append = t.product_impressions.append
        product_clicks_append = t.product_clicks.append
        viewer_counts_append = t.viewer_counts.append
        decode_error = orjson.JSONDecodeError
        max_ts = _MAX_TS
        pos -= 1
        for item in items:
            pos += 1
            if decode is None:
                raw = item
            else:
                try:
                    raw = decode(item)
                except decode_error as exc:
                    if item.strip():
                        on_error(pos, f"not JSON: {exc.msg} at column {exc.pos + 1}")
                    continue
            try:
                kind = fast_get(raw.get("type"))
                ts = raw.get("ts")
                eid = raw.get("id")
                user = raw.get("user_id")
                nick = raw.get("nickname")
                platform = raw.get("platform")
                known = users_get(user)
            except (AttributeError, TypeError):  # not an object, or a list where a name should be
                self._slow(raw, pos, on_error)
                continue
            if ts is None and received is not None:
                ts = received
            rec = None
            if (kind is not None and type(ts) is int and 0 <= ts < max_ts
                    and (eid is None or (type(eid) is str and eid.strip() is eid and 0 < len(eid) <= 200))
                    and (nick is None or (type(nick) is str and len(nick) <= 200))
                    and (platform is None or (type(platform) is str and len(platform) <= 50))):
                if known is not None:
                    user = known
                elif type(user) is str and user.strip() is user and 0 < len(user) <= 200:
                    users[user] = user
                elif user is not None or kind != _VIEWER_COUNT:
                    kind = None
                if kind == _COMMENT:
                    text = raw.get("text")
                    if type(text) is str:
                        known = texts_get(text)
                        if known is not None:
                            rec = (ts, user, known)
                        elif text.strip() is text and 0 < len(text) <= MAX_TEXT:
                            if len(texts) < _TEXT_CACHE:
                                texts[text] = text
                            rec = (ts, user, text)
                        append = comments_append
                elif kind == _LIKE:
                    count = raw.get("count", 1)
                    if type(count) is int and 1 <= count <= 1_000_000:
                        rec = (ts, user, count)
                        append = likes_append
                elif kind == _IMPRESSION:
                    rec = (ts, user)
                    append = impressions_append
                elif kind == _ENTER:
                    rec = (ts, user, True)
                    append = stays_append
                elif kind == _LEAVE:
                    rec = (ts, user, False)
                    append = stays_append
                elif kind == _PRODUCT_IMPRESSION or kind == _PRODUCT_CLICK:
                    sku = raw.get("sku")
                    if type(sku) is str:
                        known = skus_get(sku)
                        if known is None and sku.strip() is sku and 0 < len(sku) <= 100:
                            known = skus[sku] = sku
                        if known is not None:
                            rec = (ts, user, known)
                            append = (product_impressions_append if kind == _PRODUCT_IMPRESSION
                                      else product_clicks_append)
                elif kind == _SHARE:
                    rec = (ts, user)
                    append = shares_append
                elif kind == _FOLLOW:
                    rec = (ts, user)
                    append = follows_append
                elif kind == _VIEWER_COUNT:
                    count = raw.get("count")
                    if type(count) is int and count >= 0:
                        rec = (ts, count)
                        append = viewer_counts_append
            if rec is None:
                self._slow(raw, pos, on_error)
                continue
            append(rec)
            if eid is not None:
                ids_append(eid)
                id_records_append(rec)

    def finish(self) -> EventTable:
        """The table, sorted and without repeated events; the collector is spent."""
        t = self.table
        dropped = self._copies_to_drop()
        t.duplicates = len(dropped)
        for column in t.columns():
            if dropped:
                column[:] = [r for r in column if id(r) not in dropped]
            column.sort(key=_TS)  # stable: ties keep input order
        self._ids.clear()
        self._id_records.clear()
        return t

    def _copies_to_drop(self) -> set[int]:
        """id() of every record whose event id another record holds first in ts order (ties: input
        order)."""
        ids = self._ids
        repeated = repeated_values(ids)
        if not repeated:
            return set()
        copies: dict[str, list[tuple]] = {}
        records = self._id_records
        for i in compress(range(len(ids)), map(repeated.__contains__, ids)):
            copies.setdefault(ids[i], []).append(records[i])
        dropped = set()
        for recs in copies.values():
            kept = min(recs, key=_TS)  # min keeps the first of equal keys: input order
            dropped.update(id(r) for r in recs if r is not kept)
        return dropped


def repeated_values(values: list[str], block: int = 4096) -> set[str]:
    """The values that occur more than once, with set operations on blocks (C speed)."""
    seen: set[str] = set()
    repeated: set[str] = set()
    for i in range(0, len(values), block):
        chunk = values[i:i + block]
        distinct = set(chunk)
        if len(distinct) != len(chunk):
            repeated.update(v for v, n in Counter(chunk).items() if n > 1)
        repeated |= distinct & seen
        seen |= distinct
    return repeated
