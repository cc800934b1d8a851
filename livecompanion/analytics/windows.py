"""Everything contract section 4 counts, per window and per minute, from an `EventTable`.

Windows partition the stream's time line: window 0 runs from the stream's start to the first
`segment` event (often empty), then one window per segment event, the last to the stream's end.
A window is half-open, [start, next start), so an event at exactly a segment's start belongs to
that segment; the last one also holds the events at the stream's end. Whole-stream figures are
merged from the windows (sums, unions of user sets, the largest peak), so they cannot disagree.

Each event column (`records.Column`) is sorted by ts, so a window's events are a slice found by
bisection, and most figures are C-speed set/sum over slices of its users or values. Only stays and
orders need a Python loop.

Stays are half-open too, [enter, leave): a user is in the room at instant t when a stay has
start <= t < end. Several events can share a millisecond and their input order decides the stays,
so "users in the room" (peaks, users at a minute's start) is the state after all enters and leaves
of a millisecond; it holds until the next one.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from livecompanion.analytics.columns import Column, EventTable
from livecompanion.analytics.online import Held, Steps

MINUTE_MS = 60_000
# A stream longer than this (about 35 days) almost surely holds an event with a wrong ts; its
# per-minute table is left out rather than filling memory with empty minutes.
MAX_MINUTES = 50_000
# The events that put their user in the room, when presence is counted by activity (no `leave`).
ACTIVITY_COLUMNS = ("stays", "comments", "likes", "shares", "follows", "product_impressions", "product_clicks")


@dataclass(slots=True)
class Window:
    start: int
    end: int
    segment: str | None = None  # the segment id; None for the time before the first segment
    exposure: set[str] = field(default_factory=set)
    viewers: set[str] = field(default_factory=set)
    product_exposure: set[str] = field(default_factory=set)
    clickers: set[str] = field(default_factory=set)
    buyers: set[str] = field(default_factory=set)
    interacting: set[str] = field(default_factory=set)
    followers: set[str] = field(default_factory=set)
    views: int = 0
    comments: int = 0
    likes: int = 0
    watch_ms: int = 0
    peak: int = 0
    orders: int = 0
    gmv_cents: int = 0
    items_sold: int = 0
    refund_cents: int = 0
    product_clicks: int = 0
    online: Held = field(default_factory=Held)  # the platform count on the window


@dataclass(slots=True)
class PaidOrder:
    order_id: str
    ts: int  # of the first event with status paid
    window: int
    minute: int
    user: str
    sku: str
    qty: int
    cents: int
    status: str  # the latest status


@dataclass(slots=True)
class Minutes:
    count: int
    viewers: list[int]  # users in the room at the minute's start (by activity: users present in it)
    comments: list[int]
    likes: list[int]
    views: list[int]
    orders: list[int]
    gmv_cents: list[int]
    online: list[int | None]  # the platform count holding at the minute's start


@dataclass(slots=True)
class Scan:
    start: int | None
    end: int | None
    windows: list[Window]
    minutes: Minutes
    paid: list[PaidOrder]
    comment_counts: Counter[str]  # text -> comments with exactly that text
    comments: Rows  # (ts, user, text), for details of the questions
    sku_exposure: dict[str, set[str]]
    sku_clickers: dict[str, set[str]]
    # "stays" when the log holds a `leave` event, else "activity" (see `present_by_activity`)
    presence: str = "stays"
    steps: Steps | None = None  # the platform count
    columns: dict[str, Column] = field(default_factory=dict)  # the table's, for the rarer views

    def window_at(self, ts: int) -> int:
        return bisect_right([w.start for w in self.windows], ts) - 1


def _cuts(ts: Sequence[int], bounds: list[int]) -> list[int]:
    """Slice positions of a sorted ts column at the bounds: [0, cut at bounds[0], ..., len]."""
    return [0, *(bisect_left(ts, b) for b in bounds), len(ts)]


def _users(column: Column) -> list[str]:
    """The users of a column whose event type has them (`records.VALUES`)."""
    users = column.users
    assert users is not None, "an event type without users"
    return users


class Rows:
    """The comments as (ts, user, text) tuples, made while iterating, not stored."""

    __slots__ = ("column",)

    def __init__(self, column: Column) -> None:
        self.column = column

    def __iter__(self) -> Iterator[tuple[int, str, str]]:
        c = self.column
        return zip(c.ts, _users(c), c.values)

    def __len__(self) -> int:
        return len(self.column)


def _empty_scan() -> Scan:
    return Scan(None, None, [], Minutes(0, [], [], [], [], [], [], []), [], Counter(), Rows(Column("comments")),
                {}, {}, "activity")


def scan(t: EventTable) -> Scan:
    span = t.span()
    if span is None:
        return _empty_scan()
    start, end = span
    c = t.columns
    segments = c["segments"]
    starts = [start, *segments.ts]
    ends = [*starts[1:], end]
    windows = [Window(starts[0], ends[0])]
    windows += [Window(s, e, seg_id) for s, e, seg_id in zip(starts[1:], ends[1:], segments.values)]
    bounds = starts[1:]

    # Per column, each window's slice of its users or values.
    def parts(name: str, of: str = "users") -> list[Any]:
        column = c[name]
        cut = _cuts(column.ts, bounds)
        seq = getattr(column, of)
        return [seq[a:b] for a, b in pairwise(cut)]

    exposure, product_exposure = parts("impressions"), parts("product_impressions")
    clickers, followers = parts("product_clicks"), parts("follows")
    commenters, likers, sharers = parts("comments"), parts("likes"), parts("shares")
    like_counts, enters = parts("likes", "values"), parts("stays", "values")
    for j, w in enumerate(windows):
        w.exposure = set(exposure[j])
        w.product_exposure = set(product_exposure[j])
        w.clickers = set(clickers[j])
        w.followers = set(followers[j])
        w.comments = len(commenters[j])
        w.interacting = set(commenters[j])
        w.interacting.update(likers[j], sharers[j], w.followers)
        w.likes = sum(like_counts[j])
        w.views = sum(enters[j])  # 1 for an enter
        w.product_clicks = len(clickers[j])

    n_min = max(1, -(-(end - start) // MINUTE_MS))
    if n_min > MAX_MINUTES:
        n_min = 0
    stays, likes, viewer_counts = c["stays"], c["likes"], c["viewer_counts"]
    minute_viewers = _stays(stays, windows, starts, ends, start, end, n_min)
    steps = Steps(viewer_counts.ts, viewer_counts.values, end)
    last = len(windows) - 1
    for j, w in enumerate(windows):
        w.online = steps.on(w.start, w.end, j == last)
    leaves = 0 in stays.values
    if not leaves:
        minute_viewers = present_by_activity(c, windows, parts("stays"), start, n_min)
    paid = _orders(c["orders"], windows, starts, start, n_min)

    m_bounds = [start + k * MINUTE_MS for k in range(1, n_min)]
    c_cut = _cuts(c["comments"].ts, m_bounds)
    l_cut = _cuts(likes.ts, m_bounds)
    s_cut = _cuts(stays.ts, m_bounds)
    m_orders, m_gmv = [0] * n_min, [0] * n_min
    for p in paid if n_min else ():
        m_orders[p.minute] += 1
        m_gmv[p.minute] += p.cents
    minutes = Minutes(
        n_min, minute_viewers,
        [c_cut[k + 1] - c_cut[k] for k in range(n_min)],
        [sum(likes.values[l_cut[k]:l_cut[k + 1]]) for k in range(n_min)],
        [sum(stays.values[s_cut[k]:s_cut[k + 1]]) for k in range(n_min)],
        m_orders, m_gmv,
        [steps.at(start + k * MINUTE_MS) for k in range(n_min)],
    )

    sku_exposure: dict[str, set[str]] = {}
    for user, sku in zip(_users(c["product_impressions"]), c["product_impressions"].values):
        sku_exposure.setdefault(sku, set()).add(user)
    sku_clickers: dict[str, set[str]] = {}
    for user, sku in zip(_users(c["product_clicks"]), c["product_clicks"].values):
        sku_clickers.setdefault(sku, set()).add(user)
    comments = c["comments"]
    return Scan(start, end, windows, minutes, paid, Counter(comments.values), Rows(comments),
                sku_exposure, sku_clickers, "stays" if leaves else "activity", steps, c)


def present_by_activity(c: dict[str, Column], windows: list[Window], entered: list[Any], start: int,
                        n_min: int) -> list[int]:
    """A log without `leave` events (docs/report.md, "Presence without leave"): a user is in the room
    during a window or a minute when they entered or did something only a viewer in the room can do
    in it (comment, like, share, follow, see or click a product card). Replaces each window's
    viewers; returns the users present in each minute."""
    for j, w in enumerate(windows):
        present = set(entered[j])
        present |= w.interacting
        present |= w.product_exposure
        present |= w.clickers
        w.viewers = present
    if not n_min:
        return []
    bounds = [start + k * MINUTE_MS for k in range(1, n_min)]
    per_minute: list[set[str]] = [set() for _ in range(n_min)]
    for name in ACTIVITY_COLUMNS:
        column = c[name]
        cut = _cuts(column.ts, bounds)
        users = _users(column)
        for k in range(n_min):
            if cut[k + 1] > cut[k]:
                per_minute[k].update(users[cut[k]:cut[k + 1]])
    return [len(p) for p in per_minute]


def _stays(stays: Column, windows: list[Window], starts: list[int], ends: list[int], start: int, end: int,
           n_min: int) -> list[int]:
    """Viewers, watch time and peaks of every window; returns the users in the room at each minute's
    start."""
    n_w = len(windows)
    in_room: dict[str, int] = {}  # user -> start of the open stay
    snaps: list[int] = []
    next_snap = start if n_min else end + 1  # the next minute start to take a count at
    wi = bisect_right(starts, start) - 1  # the window holding prev_t
    prev_t = start

    def hold(count: int, until: int) -> None:
        """`count` users are in the room on [prev_t, until)."""
        nonlocal next_snap
        j = wi
        if count > windows[j].peak and prev_t < ends[j]:
            windows[j].peak = count
        while j + 1 < n_w and starts[j + 1] < until:
            j += 1
            if count > windows[j].peak and starts[j] < ends[j]:
                windows[j].peak = count
        while next_snap < until and len(snaps) < n_min:
            snaps.append(count)
            next_snap += MINUTE_MS

    def close(user: str, s: int, e: int, cur: int) -> None:
        """A stay [s, e) ends in window `cur`: it counts where it starts and where it overlaps."""
        first = bisect_right(starts, s) - 1
        if first == cur:
            w = windows[cur]
            w.viewers.add(user)
            w.watch_ms += e - s
            return
        for j in range(first, cur + 1):
            w = windows[j]
            lo, hi = max(s, w.start), min(e, w.end)
            if lo < hi:  # it started in `first` or overlaps a later window (not an empty one)
                w.viewers.add(user)
                w.watch_ms += hi - lo

    # The current window's figures live in locals; `hold` and `close` handle the rarer cases (a
    # window or minute starting before the next change, a stay begun in an earlier window).
    w = windows[wi]
    w_start, viewers_add, peak, watch = w.start, w.viewers.add, w.peak, 0
    next_b = starts[wi + 1] if wi + 1 < n_w else end + 1
    for ts, user, entered in zip(stays.ts, _users(stays), stays.values):
        if ts != prev_t:
            if ts < next_b and ts <= next_snap:
                count = len(in_room)  # holds on [prev_t, ts), all inside window wi
                if count > peak:
                    peak = count
            else:
                w.peak, w.watch_ms = peak, w.watch_ms + watch
                hold(len(in_room), ts)
                while wi + 1 < n_w and starts[wi + 1] <= ts:
                    wi += 1
                w = windows[wi]
                w_start, viewers_add, peak, watch = w.start, w.viewers.add, w.peak, 0
                next_b = starts[wi + 1] if wi + 1 < n_w else end + 1
            prev_t = ts
        if entered:
            if user not in in_room:
                in_room[user] = ts
        else:
            s = in_room.pop(user, None)
            if s is not None:
                if s >= w_start:
                    viewers_add(user)
                    watch += ts - s
                else:
                    close(user, s, ts, wi)
    w.peak, w.watch_ms = peak, w.watch_ms + watch
    if prev_t < end:
        hold(len(in_room), end)
    last = n_w - 1
    for user, s in in_room.items():  # stays still open end with the stream
        close(user, s, end, last)
    # Only a stream of a single millisecond has a minute start left: nobody is in the room then.
    snaps.extend([0] * (n_min - len(snaps)))
    return snaps


def _orders(orders: Column, windows: list[Window], starts: list[int], start: int, n_min: int
            ) -> list[PaidOrder]:
    """Each order's latest status and first paid event; the paid ones counted in their window."""
    state: dict[str, list[Any]] = {}  # order_id -> [latest status, paid event or None]
    for rec in zip(orders.ts, _users(orders), orders.values):
        order_id, status = rec[2][0], rec[2][4]
        o = state.get(order_id)
        if o is None:
            state[order_id] = [status, rec if status == "paid" else None]
        else:
            o[0] = status
            if status == "paid" and o[1] is None:
                o[1] = rec
    paid = []
    for order_id, (status, rec) in state.items():
        if rec is None:
            continue
        ts, user, (_, sku, qty, cents, _) = rec
        wi = bisect_right(starts, ts) - 1
        minute = min((ts - start) // MINUTE_MS, max(n_min - 1, 0))
        paid.append(PaidOrder(order_id, ts, wi, minute, user, sku, qty, cents, status))
        w = windows[wi]
        w.orders += 1
        w.gmv_cents += cents
        w.items_sold += qty
        w.buyers.add(user)
        if status == "refunded":
            w.refund_cents += cents
    paid.sort(key=lambda p: p.ts)
    return paid
