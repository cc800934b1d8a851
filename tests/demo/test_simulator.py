"""The simulated audience: seeded, valid contract events, realistic shape, and fast."""

from __future__ import annotations

import collections
import hashlib
import itertools
import re
from functools import cache

import orjson
import pytest

from livecompanion.demo import load_script
from livecompanion.demo import phrases as P
from livecompanion.demo.simulator import Simulator, flash_sale_of
from livecompanion.demo.timeline import plan_timeline
from livecompanion.events import parse_event
from livecompanion.scripts.models import Script
from livecompanion.textnorm import fold, to_simplified

ROOM = 300


@cache
def script():
    return load_script()


@cache
def show(seed: int = 7, room: int = ROOM) -> tuple[dict, ...]:
    return tuple(Simulator(script(), seed=seed, room_size=room).events())


def digest(events) -> str:
    h = hashlib.sha256()
    for event in events:
        h.update(orjson.dumps(event))
    return h.hexdigest()


def test_same_seed_same_events_other_seed_other_events():
    again = list(Simulator(script(), seed=7, room_size=ROOM).events())
    assert digest(again) == digest(show(7))
    assert digest(show(8)) != digest(show(7))
    # A Simulator can be run twice and starts over each time.
    sim = Simulator(script(), seed=3, room_size=100)
    assert digest(sim.events()) == digest(sim.events())


def test_every_event_is_a_valid_contract_event_in_time_order_with_unique_ids():
    events = show()
    ids = set()
    last_ts = 0
    for raw in events:
        event = parse_event(dict(raw), received_ms=0)
        assert event.ts == raw["ts"]
        assert raw["id"] not in ids
        ids.add(raw["id"])
        assert raw["ts"] >= last_ts
        last_ts = raw["ts"]
    assert set(collections.Counter(e["type"] for e in events)) == {
        "segment", "impression", "enter", "leave", "viewer_count", "comment", "like", "share", "follow",
        "product_impression", "product_click", "order",
    }


def test_segments_follow_the_script_timeline():
    timeline = plan_timeline(script())
    segments = [e for e in show() if e["type"] == "segment"]
    assert [e["segment"] for e in segments] == [s.id for s in timeline.segments]
    start = segments[0]["ts"]
    assert [e["ts"] - start for e in segments] == [s.start_ms for s in timeline.segments]
    # The sample runs 2-3 hours of show: 2-3 minutes at 60x.
    assert 120 * 60_000 <= timeline.length_ms <= 180 * 60_000


def test_stays_open_and_close_and_everyone_leaves_at_the_end():
    in_room: set[str] = set()
    for e in show():
        if e["type"] == "enter":
            assert e["user_id"] not in in_room
            in_room.add(e["user_id"])
        elif e["type"] == "leave":
            in_room.remove(e["user_id"])
        elif e["type"] in ("comment", "like", "product_click", "follow", "share"):
            assert e["user_id"] in in_room, e
    assert not in_room
    counts = [e["count"] for e in show() if e["type"] == "viewer_count"]
    assert counts[-1] == 0
    assert 0.7 * ROOM <= max(counts) <= 1.3 * ROOM


def test_funnel_proportions_are_realistic():
    users = collections.defaultdict(set)
    enters = 0
    for e in show():
        if "user_id" in e:
            users[e["type"]].add(e["user_id"])
        enters += e["type"] == "enter"
    paid = {e["user_id"] for e in show() if e["type"] == "order" and e["status"] == "paid"}
    exposure, viewers = len(users["impression"]), len(users["enter"])
    assert 0.15 <= viewers / exposure <= 0.35  # 曝光-觀看率
    assert enters > viewers  # some come back
    assert len(users["product_impression"]) < viewers
    assert 0.05 <= len(users["product_click"]) / len(users["product_impression"]) <= 0.4
    assert 0 < len(paid) < len(users["product_click"])
    assert 0.01 <= len(paid) / viewers <= 0.1  # 觀看-成交
    assert len(users["follow"]) / viewers < 0.1


def test_orders_move_created_then_paid_or_cancelled_and_some_paid_are_refunded():
    history = collections.defaultdict(list)
    for e in show():
        if e["type"] == "order":
            history[e["order_id"]].append(e["status"])
    statuses = collections.Counter(tuple(h) for h in history.values())
    assert set(statuses) <= {("created",), ("created", "paid"), ("created", "cancelled"),
                             ("created", "paid", "refunded")}
    paid = sum(n for h, n in statuses.items() if "paid" in h)
    assert statuses[("created", "cancelled")] > 0
    assert 0 < statuses[("created", "paid", "refunded")] < 0.15 * paid


def test_comment_mix_scripts_and_spam():
    texts = [e["text"] for e in show() if e["type"] == "comment"]
    n = len(texts)

    def share(phrases):
        forms = {f for pair in zip(*phrases) for f in pair}
        return sum(any(t.startswith(f) for f in forms) for t in texts) / n

    questions = sum(t.rstrip("".join(P.EMOJI)).endswith(("嗎", "吗", "？", "?", "多少錢", "多少钱", "怎麼買",
                                                        "怎么买", "怎麼用", "怎么用", "哪款", "多久", "幾次",
                                                        "几次", "多大容量", "開始", "开始", "怎麼辦", "怎么办"))
                    for t in texts) / n
    assert 0.12 <= questions <= 0.45, questions
    assert 0.15 <= share(P.INTENT_BOTH) <= 0.5
    assert 0.2 <= share(P.CHAT_BOTH) <= 0.65
    assert 0.01 <= share(P.SPAM_BOTH) <= 0.08
    assert any(re.search(r"1[3-9]\d{9}", t) for t in texts) and any("http" in t for t in texts)
    assert any("這款面膜" in t for t in texts) and any("这款面膜" in t for t in texts)
    assert any(t.endswith(P.EMOJI) for t in texts)
    # A few viewers do most of the talking.
    per_user = collections.Counter(e["user_id"] for e in show() if e["type"] == "comment")
    top = sum(c for _, c in per_user.most_common(len(per_user) // 5))
    assert top / n > 0.5


def _per_second(events, kind, start_ms, end_ms):
    return sum(1 for e in events if e["type"] == kind and start_ms <= e["ts"] < end_ms) / ((end_ms - start_ms) / 1000)


def _held(events, planned):
    """Peak units of a sale held by buyers (a cancel during the sale gives them back), overall and by one buyer."""
    end = events[0]["ts"] + planned.end_ms
    held, per_user, peak, peak_user = 0, collections.Counter(), 0, 0
    for e in events:
        if e["type"] != "order" or flash_sale_of(e["order_id"]) != planned.sale_index:
            continue
        if e["status"] == "created":
            held += e["qty"]
            per_user[e["user_id"]] += e["qty"]
        elif e["status"] == "cancelled" and e["ts"] < end:
            held -= e["qty"]
            per_user[e["user_id"]] -= e["qty"]
        peak, peak_user = max(peak, held), max(peak_user, per_user[e["user_id"]])
    return peak, peak_user


def test_flash_sales_draw_a_crowd_and_never_oversell():
    events, timeline = show(), plan_timeline(script())
    start = events[0]["ts"]
    for planned in timeline.flash_sales():
        cue, at = planned.cue, start + planned.at_ms
        before = _per_second(events, "comment", at - 120_000, at)
        during = _per_second(events, "comment", at, at + 60_000)
        assert during > 2 * before, (planned.key, before, during)
        created = [e for e in events if e["type"] == "order" and e["status"] == "created"
                   and flash_sale_of(e["order_id"]) == planned.sale_index]
        assert created and all(e["sku"] == cue.sku for e in created)
        assert all(at <= e["ts"] < at + cue.duration_seconds * 1000 for e in created)
        assert all(e["amount"] == float(cue.price * e["qty"]) for e in created)
        held, per_user = _held(events, planned)
        assert held <= cue.stock
        assert per_user <= cue.per_user_limit


def test_flash_sales_sell_out_in_the_demo_room_and_late_buyers_are_told():
    missed = []
    events = list(Simulator(script(), seed=7, room_size=600, on_missed=missed.append).events())
    timeline = plan_timeline(script())
    for planned in timeline.flash_sales():
        held, _ = _held(events, planned)
        assert held == planned.cue.stock, planned.key
    assert {m["why"] for m in missed} >= {"sold_out", "ended"}
    assert {m["sale"] for m in missed} == {p.sale_index for p in timeline.flash_sales()}
    complaints = {t for pair in zip(*P.SOLD_OUT_BOTH) for t in pair}
    assert any(e["type"] == "comment" and e["text"] in complaints for e in events)
    # The same show with or without someone listening.
    assert digest(events) == digest(show(7, 600))


def test_lottery_keyword_fills_the_chat_while_the_lottery_runs():
    events, timeline = show(), plan_timeline(script())
    start = events[0]["ts"]
    for planned in timeline.lotteries():
        cue, at = planned.cue, start + planned.at_ms
        end = at + cue.duration_seconds * 1000
        during = [e for e in events if e["type"] == "comment" and at <= e["ts"] < end]
        with_keyword = [e for e in during if fold(cue.keyword) in fold(e["text"])]
        assert any(cue.keyword in e["text"] for e in with_keyword)
        assert any(to_simplified(cue.keyword) in e["text"] for e in with_keyword)
        assert len(with_keyword) > 0.4 * len(during)
        assert len({e["user_id"] for e in with_keyword}) > 20


def test_speed_compresses_time_but_not_the_show():
    slow = list(itertools.islice(Simulator(script(), seed=5, room_size=100, start_ms=0).events(), 3000))
    fast = list(itertools.islice(Simulator(script(), seed=5, room_size=100, start_ms=0, speed=60).events(), 3000))
    assert [e["type"] for e in slow] == [e["type"] for e in fast]
    assert all(abs(f["ts"] - s["ts"] / 60) <= 1 for s, f in zip(slow, fast))


@pytest.mark.parametrize("room", [100, 50_000])
def test_room_size_sets_the_peak(room):
    short = Script.model_validate({"title": "t", "products": [{"sku": "A", "name": "面膜", "live_price": 9}],
                                   "segments": [{"kind": "closing", "target": "150s", "product": "A"}]})
    counts = [e["count"] for e in Simulator(short, seed=1, room_size=room).events() if e["type"] == "viewer_count"]
    assert 0.7 * room <= max(counts) <= 1.1 * room


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match="room_size"):
        Simulator(script(), room_size=5)
    with pytest.raises(ValueError, match="speed"):
        Simulator(script(), speed=0)


def test_a_big_room_makes_as_many_events_as_asked() -> None:
    # Its speed is measured by scripts/bench_simulator.py, not here.
    n = 20_000
    events = list(itertools.islice(Simulator(script(), seed=2, room_size=50_000).events(), n))
    assert len(events) == n
    for e in events[:2000]:
        parse_event(e, e["ts"])  # each a valid event (raises ValueError otherwise)


def test_platform_like_mode_is_the_same_room_as_a_platform_sends_it() -> None:
    from livecompanion.analytics.pseudonym import Pseudonymizer
    from livecompanion.analytics.report import compute_report
    from livecompanion.demo import SAMPLE_SCRIPT, load_script
    from livecompanion.demo.simulator import simulate

    script = load_script(SAMPLE_SCRIPT)
    plain = list(simulate(script, seed=5, room_size=200))
    platform = list(simulate(script, seed=5, room_size=200, platform_like=True))
    assert not any(e["type"] == "leave" for e in platform) and any(e["type"] == "leave" for e in plain)

    def room(events: list[dict]) -> list[tuple]:
        return [(e["type"], e.get("user_id"), e["ts"]) for e in events if e["type"] not in ("leave", "viewer_count")]

    assert room(platform) == room(plain)  # who came, did what and when: unchanged
    counts = [e["ts"] for e in platform if e["type"] == "viewer_count"]
    gaps = {b - a for a, b in itertools.pairwise(counts)}
    assert len(gaps) > 10 and min(gaps) >= 1_000  # irregular, seconds apart
    assert len({e["id"] for e in platform}) == len(platform)
    alias = Pseudonymizer("k")
    assert compute_report(plain, script, pseudonymizer=alias)["avg_watch_method"] == "stays"
    by_platform = compute_report(platform, script, pseudonymizer=alias)
    assert by_platform["avg_watch_method"] == "online_count" and by_platform["pcu"] > 0
