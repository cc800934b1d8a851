"""Events collected for the report: validated, de-duplicated, in per-type columns sorted by ts.

A report reads millions of events, so they go straight into the columns of an `EventTable` (see
`columns`): arrays and lists of shared strings, not an object per event. User ids, skus and common
comment texts are shared string objects, so a viewer's thousand events hold one copy of their id.

Acceptance is exactly that of `livecompanion.events.parse_event` (the ingest rules). The loop below
accepts the plain common shapes itself (string ids without surrounding blanks, integer epoch-ms `ts`,
integer counts, orders with a plain amount); everything else (ISO `ts`, numeric ids, segments, odd
values) goes to `parse_event`, which also words the reason for a rejection.
tests/analytics/test_collect.py and test_fast_paths.py check the two agree. The text rule
(livecompanion/text.py) costs one `str.isprintable()` (C, about 40 ns) per id, nickname and platform,
and per user, text and sku the first time each is seen; a string it is not sure of (a control
character, but also a line break or U+3000) goes the slow way, where parse_event decides.

Order: logs are nearly sorted, so each column stays sorted as events come in: an event older than
its column's newest is inserted in place, or, if it came very late, put aside and merged in at the
end (`records.Column.insert`); nothing is sorted.

Duplicates (see `dedupe`): an event with the id of the last event the loop took and no earlier ts
is dropped at once (usually a bridge sending it again); the rest are settled in `finish()`, from the
id of every input position and the input position of every row.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any

from livecompanion.analytics.columns import COLUMN_OF, MARKS, EventTable
from livecompanion.analytics.decode import NotJSON, decode_line, plain_cents
from livecompanion.analytics.dedupe import copies_to_drop, repeated_values
from livecompanion.analytics.sources import SourceTally
from livecompanion.events import parse_event
from livecompanion.events.limits import (
    MAX_COUNT,
    MAX_ID,
    MAX_NICKNAME,
    MAX_PLATFORM,
    MAX_SKU,
    MAX_TEXT,
    MAX_TS,
    MAX_VIEWERS,
    ORDER_STATUSES,
)

__all__ = ["Collector", "EventTable", "NotJSON", "OnError", "decode_line", "gc_paused", "repeated_values"]

OnError = Callable[[int, str], None]  # (position, reason): line number or item index

BATCH = 4096  # values handed to the loop at a time by `add_values` and `add_lines`
_NO_TS = "ts: required in an event log (there is no receive time to fall back on)"
_TEXT_CACHE = 200_000  # distinct comment texts remembered as valid (and shared)
(_IMPRESSION, _ENTER, _LEAVE, _VIEWER_COUNT, _COMMENT, _LIKE, _SHARE, _FOLLOW,
 _PRODUCT_IMPRESSION, _PRODUCT_CLICK, _ORDER) = range(11)
_FAST = {"impression": _IMPRESSION, "enter": _ENTER, "leave": _LEAVE, "viewer_count": _VIEWER_COUNT,
         "comment": _COMMENT, "like": _LIKE, "share": _SHARE, "follow": _FOLLOW,
         "product_impression": _PRODUCT_IMPRESSION, "product_click": _PRODUCT_CLICK, "order": _ORDER}
_NAMES = tuple(_FAST)  # code -> event type
_STATUSES = frozenset(ORDER_STATUSES)
_MARK_TYPES = frozenset(t for t, column in COLUMN_OF.items() if column in MARKS)  # alert
# The columns the loop fills itself, in the order of its local "newest ts" variables.
_FAST_COLUMNS = ("impressions", "stays", "viewer_counts", "comments", "likes", "shares", "follows",
                 "product_impressions", "product_clicks")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cycle collector while millions of objects are made: they hold no cycles, and every
    full collection would walk all of them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def batches(values: Iterable[Any], size: int = BATCH) -> Iterator[list[Any]]:
    """The values in lists of `size`."""
    it = iter(values)
    while batch := list(islice(it, size)):
        yield batch


class Collector:
    """Feed events in input order (`add_lines`, `add_values`, `add_batches`; several calls in a row
    are one input), then `finish()` for the table.

    `received_ms` stands in for a missing `ts`, as at ingest; None (an event log read after the
    fact, where the reading time means nothing) rejects an event without `ts`.
    """

    def __init__(self, received_ms: int | None = None) -> None:
        self.received_ms = received_ms
        self.table = EventTable()
        self._seq = 0  # items seen so far, over all calls
        self._event_ids: list[str | None] = []  # at each input position (None: no id, or no event)
        self._last: tuple[str | None, int] = (None, 0)  # id and ts of the last event the loop took
        self._resent = 0  # events the loop dropped at once (see `again`)
        self._users: dict[str, str] = {}
        self._texts: dict[str, str] = {}
        self._skus: dict[str, str] = {}
        self.sources = SourceTally()  # per platform, for the report's data_quality

    def add_lines(self, lines: Iterable[bytes], on_error: OnError, first_line: int = 1) -> None:
        """NDJSON lines (bytes, each one event or blank); positions are line numbers."""
        self.add_batches(batches(map(decode_line, lines)), on_error, first_line)

    def add_values(self, values: Iterable[Any], on_error: OnError, first_index: int = 0) -> None:
        """Decoded JSON values or typed events of `livecompanion.events`; positions are indexes."""
        self.add_batches(batches(values), on_error, first_index)

    def add_event(self, event: Any, seq: int | None = None) -> str:
        """A typed event of `livecompanion.events` (already validated); `seq` its input position.
        Returns the name of its column."""
        if seq is None:
            seq = self._seq
            self._seq += 1
        kind = event.type
        user = event.user_id
        if user is not None:
            user = self._users.setdefault(user, user)
        if kind == "order":
            # amount has at most two decimal places (validated), so cents are exact integers.
            value: Any = (event.order_id, event.sku, event.qty, int(event.amount * 100), event.status)
        elif kind == "segment":
            value = event.segment
        elif kind == "alert":
            value = (event.key, event.kind, event.level, event.text, event.acked)
        elif kind == "comment":
            value = event.text
        elif kind in ("like", "viewer_count"):
            value = event.count
        elif kind in ("enter", "leave"):
            value = int(kind == "enter")
        elif kind in ("product_impression", "product_click"):
            value = self._skus.setdefault(event.sku, event.sku)
        elif kind == "product_explain":
            value = (self._skus.setdefault(event.sku, event.sku), event.action)
        else:
            value = None
        name = COLUMN_OF[kind]
        self.table.columns[name].add(event.ts, user, value, seq)
        self._event_ids.append(event.id)
        return name

    def _slow(self, raw: Any, seq: int, pos: int, on_error: OnError) -> bool:
        """`raw` through parse_event (a typed event as it is); True if the event went to a column the
        loop fills itself."""
        if type(raw) is NotJSON:
            event, reason = None, raw.reason
        elif type(raw) is not dict and hasattr(raw, "type") and hasattr(raw, "ts"):
            event, reason = raw, None
        else:
            event, reason = self._parsed(raw)
        if event is None:
            self._event_ids.append(None)  # no event at this input position
            self.sources.no_event += 1
            if reason:
                on_error(pos, reason)
                platform = raw.get("platform") if type(raw) is dict else None
                self.sources.reject(platform if type(platform) is str else None)
            return False
        if event.type in _MARK_TYPES:  # the service's alerts mark the stream: no source sent them
            self.sources.marks_without_id += event.id is None
        elif event.platform != self.sources.main:
            self.sources.other(seq, event.type, event.ts, event.id is None, event.platform)
        return self.add_event(event, seq) in _FAST_COLUMNS

    def _parsed(self, raw: Any) -> tuple[Any, str | None]:
        """(the event, None) or (None, why not)."""
        received = self.received_ms
        no_ts = received is None and type(raw) is dict and raw.get("ts") is None
        try:
            event = parse_event(raw, received if received is not None else 0)
        except ValueError as exc:
            return None, f"{exc}; {_NO_TS}" if no_ts else str(exc)
        return (None, _NO_TS) if no_ts else (event, None)

    def _newest(self) -> tuple[int, ...]:
        """The newest ts of each column the loop fills, in `_FAST_COLUMNS` order (-1: empty, or no
        longer kept in order, so anything may be appended)."""
        cols = self.table.columns
        return tuple(-1 if cols[name].unsorted or not len(cols[name]) else cols[name].ts[-1]
                     for name in _FAST_COLUMNS)

    def add_batches(self, batches: Iterable[list[Any]], on_error: OnError, first: int = 0) -> None:
        """Lists of decoded values (`NotJSON` for a line that was not JSON), in input order; the
        positions of the values count from `first`."""
        # The report's hottest loop (a million events take about 0.8 microseconds each here): all
        # names are locals, the common shapes are checked inline, one boolean test for the fields
        # all types share, then straight onto the column. Anything unusual falls to `_slow`, i.e.
        # to parse_event. `seq` counts items over all calls; the caller's position is seq - shift.
        received = self.received_ms
        users = self._users
        users_get = users.get
        texts = self._texts
        texts_get = texts.get
        skus = self._skus
        skus_get = skus.get
        fast_get = _FAST.get
        slow = self._slow
        cols = self.table.columns

        def appends(name: str) -> tuple[Any, ...]:
            c = cols[name]
            return (c.insert, c.ts.append, c.users.append if c.users is not None else None,
                    c.values.append if c.values is not None else None, c.seq.append)

        im_late, im_ts, im_user, _, im_seq = appends("impressions")
        st_late, st_ts, st_user, st_flag, st_seq = appends("stays")
        vc_late, vc_ts, _, vc_count, vc_seq = appends("viewer_counts")
        cm_late, cm_ts, cm_user, cm_text, cm_seq = appends("comments")
        lk_late, lk_ts, lk_user, lk_count, lk_seq = appends("likes")
        sh_late, sh_ts, sh_user, _, sh_seq = appends("shares")
        fo_late, fo_ts, fo_user, _, fo_seq = appends("follows")
        pi_late, pi_ts, pi_user, pi_sku, pi_seq = appends("product_impressions")
        pc_late, pc_ts, pc_user, pc_sku, pc_seq = appends("product_clicks")
        add_order = cols["orders"].add
        # Each column's newest ts: an event at least as new is appended, an older one goes to the
        # column's `insert` (which says when the column stopped keeping order: then -1, append all).
        im_new, st_new, vc_new, cm_new, lk_new, sh_new, fo_new, pi_new, pc_new = self._newest()
        # The field limits (events/limits.py) as locals: no global lookup per event.
        max_ts, max_id, max_nick, max_platform = MAX_TS, MAX_ID, MAX_NICKNAME, MAX_PLATFORM
        max_text, max_sku, max_count = MAX_TEXT, MAX_SKU, MAX_COUNT
        last_id, last_ts = self._last
        resent = 0
        seq = self._seq - 1
        shift = self._seq - first
        event_ids = self._event_ids
        event_id = event_ids.append
        sources = self.sources
        other = sources.other
        for batch in batches:
            main = sources.main_of(batch)  # the usual platform: others are tallied one by one
            for raw in batch:
                seq += 1
                try:
                    kind = fast_get(raw.get("type"))
                    ts = raw.get("ts")
                    eid = raw.get("id")
                    user = raw.get("user_id")
                    nick = raw.get("nickname")
                    platform = raw.get("platform")
                    known = users_get(user)
                except (AttributeError, TypeError):  # not an object, or a list where a name should be
                    kind = None
                    platform = main
                else:
                    if ts is None and received is not None:
                        ts = received
                    if (kind is not None and type(ts) is int and 0 <= ts < max_ts
                            and (eid is None
                                 or (type(eid) is str and eid.strip() is eid and 0 < len(eid) <= max_id
                                     and eid.isprintable()))
                            and (nick is None or (type(nick) is str and len(nick) <= max_nick and nick.isprintable()))
                            and (platform is None or (type(platform) is str and len(platform) <= max_platform
                                                      and platform.isprintable()))):
                        if known is not None:
                            user = known
                        elif (type(user) is str and user.strip() is user and 0 < len(user) <= max_id
                              and user.isprintable()):
                            users[user] = user
                        elif user is not None or kind != _VIEWER_COUNT:
                            kind = None
                        # The last event the loop took had this id and no later ts: this one goes
                        # (the first in ts order stays). Usually it is the same event sent again.
                        again = eid == last_id and eid is not None and ts >= last_ts
                    else:
                        kind = None
                # Each type: its own fields checked (else kind = None), then onto its column, at the end
                # (the common case) or in its ts place; nothing if it is here `again`.
                if kind == _COMMENT:
                    text = raw.get("text")
                    known = texts_get(text) if type(text) is str else None
                    if known is None:
                        if (type(text) is str and text.strip() is text and 0 < len(text) <= max_text
                                and text.isprintable()):
                            known = text
                            if len(texts) < _TEXT_CACHE:
                                texts[text] = text
                        else:
                            kind = None
                    if kind is None or again:
                        pass
                    elif ts >= cm_new:
                        cm_new = ts
                        cm_ts(ts)
                        cm_user(user)
                        cm_text(known)
                        cm_seq(seq)
                    else:
                        if cm_late(ts, user, known, seq):
                            cm_new = -1
                elif kind == _LIKE:
                    count = raw.get("count", 1)
                    if not (type(count) is int and 1 <= count <= max_count):
                        kind = None
                    elif again:
                        pass
                    elif ts >= lk_new:
                        lk_new = ts
                        lk_ts(ts)
                        lk_user(user)
                        lk_count(count)
                        lk_seq(seq)
                    else:
                        if lk_late(ts, user, count, seq):
                            lk_new = -1
                elif kind == _IMPRESSION:
                    if again:
                        pass
                    elif ts >= im_new:
                        im_new = ts
                        im_ts(ts)
                        im_user(user)
                        im_seq(seq)
                    else:
                        if im_late(ts, user, None, seq):
                            im_new = -1
                elif kind == _ENTER or kind == _LEAVE:
                    entered = 1 if kind == _ENTER else 0
                    if again:
                        pass
                    elif ts >= st_new:
                        st_new = ts
                        st_ts(ts)
                        st_user(user)
                        st_flag(entered)
                        st_seq(seq)
                    else:
                        if st_late(ts, user, entered, seq):
                            st_new = -1
                elif kind == _PRODUCT_IMPRESSION or kind == _PRODUCT_CLICK:
                    sku = raw.get("sku")
                    known = skus_get(sku) if type(sku) is str else None
                    if known is None:
                        if type(sku) is str and sku.strip() is sku and 0 < len(sku) <= max_sku and sku.isprintable():
                            known = skus[sku] = sku
                        else:
                            kind = None
                    if kind is None or again:
                        pass
                    elif kind == _PRODUCT_CLICK:
                        if ts >= pc_new:
                            pc_new = ts
                            pc_ts(ts)
                            pc_user(user)
                            pc_sku(known)
                            pc_seq(seq)
                        else:
                            if pc_late(ts, user, known, seq):
                                pc_new = -1
                    elif ts >= pi_new:
                        pi_new = ts
                        pi_ts(ts)
                        pi_user(user)
                        pi_sku(known)
                        pi_seq(seq)
                    else:
                        if pi_late(ts, user, known, seq):
                            pi_new = -1
                elif kind == _SHARE:
                    if again:
                        pass
                    elif ts >= sh_new:
                        sh_new = ts
                        sh_ts(ts)
                        sh_user(user)
                        sh_seq(seq)
                    else:
                        if sh_late(ts, user, None, seq):
                            sh_new = -1
                elif kind == _FOLLOW:
                    if again:
                        pass
                    elif ts >= fo_new:
                        fo_new = ts
                        fo_ts(ts)
                        fo_user(user)
                        fo_seq(seq)
                    else:
                        if fo_late(ts, user, None, seq):
                            fo_new = -1
                elif kind == _VIEWER_COUNT:
                    count = raw.get("count")
                    if not (type(count) is int and 0 <= count <= MAX_VIEWERS):
                        kind = None
                    elif again:
                        pass
                    elif ts >= vc_new:
                        vc_new = ts
                        vc_ts(ts)
                        vc_count(count)
                        vc_seq(seq)
                    else:
                        if vc_late(ts, None, count, seq):
                            vc_new = -1
                elif kind == _ORDER:
                    order_id = raw.get("order_id")
                    sku = raw.get("sku")
                    qty = raw.get("qty")
                    status = raw.get("status")
                    cents = plain_cents(raw.get("amount"))
                    if not (cents is not None
                            and type(order_id) is str and order_id.strip() is order_id
                            and 0 < len(order_id) <= max_id and order_id.isprintable()
                            and type(sku) is str and sku.strip() is sku and 0 < len(sku) <= max_sku
                            and sku.isprintable()
                            and type(qty) is int and 1 <= qty <= max_count
                            and type(status) is str and status in _STATUSES):
                        kind = None
                    elif not again:
                        add_order(ts, user, (order_id, sku, qty, cents, status), seq)
                if kind is None:
                    if slow(raw, seq, seq - shift, on_error):
                        # parse_event's event may be newer than a column's newest the loop knows of.
                        (im_new, st_new, vc_new, cm_new, lk_new, sh_new, fo_new, pi_new,
                         pc_new) = self._newest()
                elif again:
                    resent += 1  # the first one stays
                    event_id(None)
                    sources.resent(platform if type(platform) is str else None)
                else:
                    event_id(eid)
                    last_id, last_ts = eid, ts
                    if platform != main:
                        other(seq, _NAMES[kind], ts, eid is None, platform)
        self._seq = seq + 1
        self._last = (last_id, last_ts)
        self._resent += resent
        sources.no_event += resent

    def finish(self) -> EventTable:
        """The table, sorted and without repeated events; the collector is spent."""
        t = self.table
        for column in t:
            column.merge_late()
        ids, self._event_ids = self._event_ids, []
        if len(ids) != self._seq:
            raise AssertionError(f"{len(ids)} ids for {self._seq} input positions")
        dropped = copies_to_drop(t.columns, ids)
        self.sources.settle(t, ids, dropped)
        del ids
        t.duplicates = self._resent + sum(map(len, dropped.values()))
        for name, column in t.columns.items():
            column.settle(dropped.get(name, set()))
        t.sources = self.sources
        return t
