"""RoomWatch keeps its audience answers up to date as events arrive (the window's peak count, the
latest point, the last minute's comments); these tests hold it to the look over the whole window
it replaced (`LookingWatch`, the code before), event by event, on random rooms."""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import pytest

from livecompanion.alerts.rules import Alert, RoomWatch, where, winding_down
from livecompanion.scripts.models import AlertSettings
from tests.alerts.test_rules import T0, live_doc


@dataclass
class LookingWatch:
    """RoomWatch's audience rules as they were: every call looks over the whole window."""

    stream_ts: int | None = None
    viewers: deque[tuple[int, int]] = field(default_factory=deque)
    comments: deque[int] = field(default_factory=deque)
    comments_since: int | None = None
    quiet_until: int = 0

    def see(self, kind: str, ts: int, data: dict[str, Any], rules: AlertSettings) -> None:
        if self.stream_ts is None or ts > self.stream_ts:
            self.stream_ts = ts
        if kind == "viewer_count":
            self.viewers.append((ts, int(data["count"])))
        elif kind == "comment":
            self.comments.append(ts)
            if self.comments_since is None or ts < self.comments_since:
                self.comments_since = ts

    def viewers_drop(self, rules: AlertSettings, doc: dict[str, Any]) -> Alert | None:
        if not self.viewers or winding_down(doc):
            return None
        last_ts, last = max(self.viewers)
        window = rules.viewers_drop_seconds * 1000
        while self.viewers and self.viewers[0][0] < last_ts - window:
            self.viewers.popleft()
        peak_ts, peak = max(self.viewers, key=lambda p: (p[1], -p[0]))
        if peak < rules.viewers_min or peak_ts >= last_ts or last > peak * (1 - rules.viewers_drop_percent / 100):
            return None
        self.viewers = deque(p for p in self.viewers if p[0] >= last_ts)
        seg, title = where(doc)
        drop = round(100 * (peak - last) / peak)
        text = (f"在線人數 {(last_ts - peak_ts) / 1000:.0f} 秒內從 {peak} 跌到 {last}（-{drop}%），"
                f"正在{title}：檢查畫面與話術，考慮上福利留人")
        return Alert(f"viewers_drop/{peak_ts}", "viewers_drop", "error", text, seg, last_ts)

    def comments_collapse(self, rules: AlertSettings, doc: dict[str, Any]) -> Alert | None:
        now = self.stream_ts
        if now is None or self.comments_since is None or now - self.comments_since < 120_000 or winding_down(doc):
            return None
        while self.comments and self.comments[0] <= now - 120_000:
            self.comments.popleft()
        current = sum(1 for t in self.comments if t > now - 60_000)
        before = len(self.comments) - current
        if now < self.quiet_until or before < rules.comments_min_per_min:
            return None
        if current > before * (1 - rules.comments_collapse_percent / 100):
            return None
        self.quiet_until = now + 120_000
        seg, title = where(doc)
        text = f"彈幕驟降：每分鐘從 {before} 條降到 {current} 條，正在{title}：拋個問題或福利帶動互動"
        return Alert(f"comments_collapse/{now}", "comments_collapse", "warn", text, seg, now)


def random_room(seed: int) -> list[tuple[str, Any]]:
    """Commits of a room whose audience swings: viewer counts that climb, fall and repeat
    (equal counts and equal times too), comments whose rate collapses and recovers, both with
    times out of order; now and then the wrap-up segment. (A stream's rules stay what they were
    while the service watches it: AlertService keeps them with the watch.)"""
    rng = random.Random(seed)
    steps: list[tuple[str, Any]] = []
    ts, viewers, rate = T0, 1000, 20
    for _ in range(1500):
        ts += rng.choice((0, 200, 500, 1000, 1000, 3000))
        if rng.random() < 0.05:
            viewers = max(40, int(viewers * rng.uniform(0.4, 1.5)))
        if rng.random() < 0.03:
            rate = rng.choice((0, 1, 5, 20, 40))
        events = []
        for _ in range(rng.randrange(0, 4)):
            events.append(("viewer_count", ts - rng.choice((0, 0, 0, 700, 5000)),
                           {"count": max(0, viewers + rng.choice((-30, 0, 0, 30)))}))
        for _ in range(rng.randrange(0, rate + 1)):
            events.append(("comment", ts - rng.choice((0, 0, 0, 300, 61_000, 130_000)), {}))
        rng.shuffle(events)
        steps.append(("events", events))
        steps.append(("check", rng.random() < 0.1))  # True: the wrap-up segment is live
    return steps


@pytest.mark.parametrize("seed", range(12))
def test_the_watch_answers_as_the_look_over_the_window_did(seed: int) -> None:
    rng = random.Random(1000 + seed)
    rules_choices = [
        AlertSettings(),
        AlertSettings(viewers_drop_seconds=5, viewers_drop_percent=5, viewers_min=0, comments_min_per_min=1,
                      comments_collapse_percent=10),
        AlertSettings(viewers_drop_seconds=30, viewers_drop_percent=30, viewers_min=100),
    ]
    rules = rules_choices[seed % 3]
    kept, looking = RoomWatch(), LookingWatch()
    raised = 0
    for what, step in random_room(seed):
        if what == "events":
            for kind, ts, data in step:
                kept.see(kind, ts, data, rules)
                looking.see(kind, ts, data, rules)
            if rng.random() < 0.5:  # the service asks first whether to read the document at all
                kept.may_raise(rules)
            continue
        doc = live_doc(segment={"id": "w", "title": "收尾", "kind": "wrapup"}) if step else live_doc()
        could = kept.may_raise(rules)
        found = [kept.viewers_drop(rules, doc), kept.comments_collapse(rules, doc)]
        expected = [looking.viewers_drop(rules, doc), looking.comments_collapse(rules, doc)]
        assert found == expected
        assert could or found == [None, None]  # the service skips the document only when nothing can come
        if not step:  # both trimmed their windows now (the looking one does not while winding down)
            assert kept.viewers == looking.viewers and kept.comments == looking.comments
        raised += sum(a is not None for a in found)
    assert raised > 0  # the rooms do swing: alerts were compared, not only silences


def test_a_long_busy_room_keeps_each_check_cheap() -> None:
    """Forty thousand comments and 1,500 viewer counts in the windows: each check handles only what
    arrived since the last one, whatever the windows hold."""
    watch = RoomWatch()
    rules = AlertSettings()
    doc = live_doc()
    ts = T0
    for i in range(200_000):  # ~330 comments a second for ten minutes, 25 viewer counts a second
        ts = T0 + i * 3
        watch.see("comment", ts, {}, rules)
        if i % 13 == 0:
            watch.see("viewer_count", ts, {"count": 5000 + i % 7}, rules)
    assert watch.viewers_drop(rules, doc) is None and watch.comments_collapse(rules, doc) is None
    assert len(watch.comments) > 39_000 and len(watch.viewers) > 1_500
    calls = 0

    class Counting(deque):  # type: ignore[type-arg]
        def __iter__(self) -> Any:
            nonlocal calls
            calls += 1
            return super().__iter__()

    watch.viewers, watch.comments = Counting(watch.viewers), Counting(watch.comments)
    for _ in range(100):
        ts += 30
        watch.see("comment", ts, {}, rules)
        watch.see("viewer_count", ts, {"count": 5000}, rules)
        assert watch.viewers_drop(rules, doc) is None and watch.comments_collapse(rules, doc) is None
    assert calls == 0  # neither window was walked


def test_a_room_at_zero_viewers_raises_no_fall_even_with_no_minimum() -> None:
    """viewers_min=0 and counts of 0 for the whole window: 0 -> 0 is no fall (the wording's percentage
    used to divide by the peak, and the commit listener logged a ZeroDivisionError)."""
    rules = AlertSettings(viewers_drop_seconds=5, viewers_drop_percent=5, viewers_min=0)
    watch = RoomWatch()
    for i in range(4):
        watch.see("viewer_count", T0 + i * 1000, {"count": 0}, rules)
    assert watch.may_raise(rules) is False
    assert watch.viewers_drop(rules, live_doc()) is None
    watch.see("viewer_count", T0 + 5000, {"count": 40}, rules)
    watch.see("viewer_count", T0 + 6000, {"count": 0}, rules)
    alert = watch.viewers_drop(rules, live_doc())  # a real fall from 40 to 0 is still told
    assert alert is not None and "-100%" in alert.text
