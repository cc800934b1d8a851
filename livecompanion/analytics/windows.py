"""Everything contract section 4 counts, per window and per minute, from an `EventTable`.

Windows partition the stream's time line: window 0 runs from the stream's start to the first
`segment` event (often empty), then one window per segment event, the last to the stream's end.
A window is half-open, [start, next start), so an event at exactly a segment's start belongs to
that segment; the last one also holds the events at the stream's end. Whole-stream figures are
merged from the windows (sums, unions of user sets, the largest peak), so they cannot disagree.

Each event column is sorted by ts, so a window's events are a slice found by bisection, and most
figures are C-speed set/sum over slices. Only stays and orders need a Python loop.

Stays are half-open too, [enter, leave): a user is in the room at instant t when a stay has
start <= t < end. Several events can share a millisecond and their input order decides the stays,
so "users in the room" (peaks, users at a minute's start) is the state after all enters and leaves
of a millisecond; it holds until the next one.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from livecompanion.analytics.collect import EventTable

MINUTE_MS = 60_000
# A stream longer than this (about 35 days) almost surely holds an event with a wrong ts; its
# per-minute table is left out rather than filling memory with empty minutes.
MAX_MINUTES = 50_000
_TS, _USER, _THIRD = itemgetter(0), itemgetter(1), itemgetter(2)


@dataclass(slots=True)
class Window:
    start: int
    end: int
    segment: str | None = None  # the segment id; None for the time before the first segment
    exposure: set = field(default_factory=set)
    viewers: set = field(default_factory=set)
    product_exposure: set = field(default_factory=set)
    clickers: set = field(default_factory=set)
    buyers: set = field(default_factory=set)
    interacting: set = field(default_factory=set)
    followers: set = field(default_factory=set)
    views: int = 0
    comments: int = 0
    likes: int = 0
    watch_ms: int = 0
    peak: int = 0
    orders: int = 0
    gmv_cents: int = 0
    items_sold: int = 0
    refund_cents: int = 0


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
    viewers: list[int]  # users in the room at the minute's start
    comments: list[int]
    likes: list[int]
    views: list[int]
    orders: list[int]
    gmv_cents: list[int]
    online: list[int | None]  # the platform's last viewer_count in the minute


@dataclass(slots=True)
class Scan:
    start: int | None
    end: int | None
    windows: list[Window]
    minutes: Minutes
    paid: list[PaidOrder]
    comment_counts: Counter  # text -> comments with exactly that text
    comments: list[tuple[int, str, str]]  # (ts, user, text), for details of the questions
    sku_exposure: dict[str, set]
    sku_clickers: dict[str, set]

    def window_at(self, ts: int) -> int:
        return bisect_right([w.start for w in self.windows], ts) - 1


def _cuts(column: list, bounds: list[int]) -> list[int]:
    """Slice positions of a ts-sorted column at the bounds: [0, cut at bounds[0], ..., len]."""
    return [0, *(bisect_left(column, b, key=_TS) for b in bounds), len(column)]


def _users(column: list, a: int, b: int) -> set:
    return set(map(_USER, column[a:b]))


def _empty_scan() -> Scan:
    return Scan(None, None, [], Minutes(0, [], [], [], [], [], [], []), [], Counter(), [], {}, {})


def scan(t: EventTable) -> Scan:
    span = t.span()
    if span is None:
        return _empty_scan()
    start, end = span
    starts = [start, *(ts for ts, _ in t.segments)]
    ends = [*starts[1:], end]
    windows = [Window(starts[0], ends[0])]
    windows += [Window(s, e, seg_id) for s, e, (_, seg_id) in zip(starts[1:], ends[1:], t.segments)]
    bounds = starts[1:]

    cut = {name: _cuts(getattr(t, name), bounds) for name in (
        "impressions", "stays", "comments", "likes", "shares", "follows", "product_impressions",
        "product_clicks")}
    for j, w in enumerate(windows):
        def part(name: str) -> tuple[list, int, int]:
            return getattr(t, name), cut[name][j], cut[name][j + 1]

        w.exposure = _users(*part("impressions"))
        w.product_exposure = _users(*part("product_impressions"))
        w.clickers = _users(*part("product_clicks"))
        w.followers = _users(*part("follows"))
        comments, a, b = part("comments")
        w.comments = b - a
        w.interacting = _users(comments, a, b)
        likes, la, lb = part("likes")
        w.likes = sum(map(_THIRD, likes[la:lb]))
        w.interacting.update(map(_USER, likes[la:lb]))
        w.interacting.update(map(_USER, t.shares[cut["shares"][j]:cut["shares"][j + 1]]))
        w.interacting |= w.followers
        stays, sa, sb = part("stays")
        w.views = sum(map(_THIRD, stays[sa:sb]))  # True for an enter

    n_min = max(1, -(-(end - start) // MINUTE_MS))
    if n_min > MAX_MINUTES:
        n_min = 0
    minute_viewers = _stays(t.stays, windows, starts, ends, start, end, n_min)
    paid = _orders(t.orders, windows, starts, start, n_min)

    m_bounds = [start + k * MINUTE_MS for k in range(1, n_min)]
    c_cut = _cuts(t.comments, m_bounds)
    l_cut = _cuts(t.likes, m_bounds)
    s_cut = _cuts(t.stays, m_bounds)
    v_cut = _cuts(t.viewer_counts, m_bounds)
    m_orders, m_gmv = [0] * n_min, [0] * n_min
    for p in paid if n_min else ():
        m_orders[p.minute] += 1
        m_gmv[p.minute] += p.cents
    minutes = Minutes(
        n_min, minute_viewers,
        [c_cut[k + 1] - c_cut[k] for k in range(n_min)],
        [sum(map(_THIRD, t.likes[l_cut[k]:l_cut[k + 1]])) for k in range(n_min)],
        [sum(map(_THIRD, t.stays[s_cut[k]:s_cut[k + 1]])) for k in range(n_min)],
        m_orders, m_gmv,
        [t.viewer_counts[v_cut[k + 1] - 1][1] if v_cut[k + 1] > v_cut[k] else None for k in range(n_min)],
    )

    sku_exposure: dict[str, set] = {}
    for _, user, sku in t.product_impressions:
        sku_exposure.setdefault(sku, set()).add(user)
    sku_clickers: dict[str, set] = {}
    for _, user, sku in t.product_clicks:
        sku_clickers.setdefault(sku, set()).add(user)
    return Scan(start, end, windows, minutes, paid, Counter(map(_THIRD, t.comments)), t.comments,
                sku_exposure, sku_clickers)


def _stays(stays: list, windows: list[Window], starts: list[int], ends: list[int], start: int, end: int,
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
    for ts, user, entered in stays:
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


def _orders(orders: list, windows: list[Window], starts: list[int], start: int, n_min: int
            ) -> list[PaidOrder]:
    """Each order's latest status and first paid event; the paid ones counted in their window."""
    state: dict[str, list[Any]] = {}  # order_id -> [latest status, paid event or None]
    for rec in orders:
        order_id, status = rec[2], rec[6]
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
        ts, user, _, sku, qty, cents, _ = rec
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
