"""Contract section 4, definition by definition, on logs small enough to compute by hand."""

from __future__ import annotations

import pytest

from livecompanion.analytics.metrics import KEYS
from livecompanion.scripts.models import Script
from tests.analytics.helpers import T0, ev, ghost_leave, paid, report, seg, segment


def test_stays_reenter_while_in_room_and_leave_without_enter() -> None:
    r = report([
        seg(0, "s1"),
        ev("enter", 0, "a"),
        ev("enter", 10, "a"),  # already in the room: a view, not a new stay
        ev("leave", 15, "b"),  # never entered: nothing
        ev("leave", 30, "a"),  # stay [0, 30)
        ev("enter", 40, "a"),  # stay [40, end)
        ev("comment", 60, "c", text="hi"),  # the stream's end
    ])
    assert r["views"] == 3
    assert r["viewer_uv"] == 1
    assert r["avg_watch_seconds"] == 50.0  # 30 + 20
    assert r["peak_viewers"] == 1
    assert r["duration_seconds"] == 60.0


def test_same_millisecond_events_keep_their_input_order() -> None:
    leave_then_enter = report([ev("enter", 0, "u"), ev("leave", 10, "u"), ev("enter", 10, "u"),
                               ev("comment", 20, "x", text="end")])
    assert leave_then_enter["avg_watch_seconds"] == 20.0  # [0,10) and [10,20)
    enter_then_leave = report([ev("enter", 0, "u"), ev("enter", 10, "u"), ev("leave", 10, "u"),
                               ev("comment", 20, "x", text="end")])
    assert enter_then_leave["avg_watch_seconds"] == 10.0  # the enter at 10 started no stay
    assert leave_then_enter["views"] == enter_then_leave["views"] == 2


def test_a_stay_of_no_length_is_a_viewer_but_never_in_the_room() -> None:
    r = report([ev("comment", 0, "x", text="start"), ev("enter", 5, "v"), ev("leave", 5, "v"),
                ev("comment", 10, "x", text="end")])
    assert r["viewer_uv"] == 1
    assert r["avg_watch_seconds"] == 0.0
    assert r["peak_viewers"] == 0


def test_duplicates_by_id_the_first_in_ts_order_is_kept() -> None:
    r = report([
        ev("comment", 1, "a", text="first", id="x"),
        ev("like", 2, "a", count=3, id="x"),  # same id: ignored, whatever it says
        ev("comment", 10, "b", text="later ts", id="y"),
        ev("like", 5, "b", count=7, id="y"),  # same id, earlier ts: this copy is the one kept
        ev("comment", 3, "c", text="same ms one", id="z"),
        ev("comment", 3, "c", text="same ms two", id="z"),  # same id and ts: input order decides
        ev("comment", 4, "d", text="no id"),
        ev("comment", 4, "d", text="no id"),  # no id: never a duplicate
    ])
    assert r["duplicates"] == 3
    assert r["events"] == 5
    assert r["comments"] == 4  # x, z, and the two without id
    assert r["likes"] == 7


def test_out_of_order_lines_give_the_same_report_as_sorted_ones() -> None:
    events = [seg(0, "s1"), ev("enter", 1, "a"), ev("comment", 2, "a", text="q?"), seg(50, "s2"),
              ev("leave", 60, "a"), paid(55, "a", "o1", 10), ev("like", 70, "b")]
    shuffled = [events[i] for i in (6, 3, 1, 5, 0, 4, 2)]
    assert report(shuffled) == report(events)


def test_orders_status_and_paid_event() -> None:
    r = report([
        seg(0, "s1"),
        paid(10, "a", "o1", 50, qty=1, status="created"),
        paid(20, "b", "o2", "19.90"),
        paid(30, "b", "o2", "19.90", status="cancelled"),  # reached paid: counted, not a refund
        paid(40, "c", "o3", 5, status="created"),  # never paid: not counted
        paid(50, "b", "o4", 10.05),
        paid(60, "b", "o4", 99, qty=9),  # paid again: the first paid event is the one
        seg(100, "s2"),
        paid(110, "a", "o1", 60, qty=2, sku="B"),  # paid in s2: counted there, with its own amount
        paid(150, "a", "o1", 60, qty=2, sku="B", status="refunded"),
        ev("comment", 200, "x", text="end"),
    ])
    assert r["orders"] == 3
    assert r["gmv"] == pytest.approx(89.95)
    assert r["items_sold"] == 4
    assert r["refund_amount"] == 60.0
    assert r["buyer_uv"] == 2
    assert r["aov"] == pytest.approx(29.98)
    s1, s2 = segment(r, "s1"), segment(r, "s2")
    assert (s1["orders"], s1["gmv"], s1["buyer_uv"], s1["refund_amount"]) == (2, pytest.approx(29.95), 1, 0.0)
    assert (s2["orders"], s2["gmv"], s2["items_sold"], s2["refund_amount"]) == (1, 60.0, 2, 60.0)
    assert [p["sku"] for p in r["products"]] == ["SKU", "B"]


def test_zero_denominators_are_null() -> None:
    r = report([seg(0, "s1"), ev("comment", 0, "a", text="hi"), ev("comment", 60, "a", text="hi"), ghost_leave()])
    for key in ("enter_rate", "product_exposure_rate", "click_rate", "click_conversion_rate",
                "watch_conversion_rate", "gpm", "uv_value", "aov", "avg_watch_seconds", "interaction_rate",
                "follow_rate"):
        assert r[key] is None, key
    assert r["opm"] == 0.0
    assert r["gmv"] == 0.0 and r["comments"] == 2
    single = report([ev("comment", 0, "a", text="only")])
    assert single["opm"] is None  # a window of no length
    assert single["duration_seconds"] == 0.0


def test_funnel_rates() -> None:
    r = report([
        ev("impression", 0, "a"), ev("impression", 1, "a"), ev("impression", 1, "b"), ev("impression", 2, "c"),
        ev("impression", 2, "d"),
        ev("enter", 3, "a"), ev("enter", 3, "b"), ev("enter", 4, "c"),
        ev("product_impression", 5, "a", sku="S"), ev("product_impression", 5, "b", sku="S"),
        ev("product_click", 6, "a", sku="S"), paid(7, "a", "o1", 30),
        ev("comment", 60, "x", text="end"), ghost_leave(),
    ])
    assert (r["exposure_uv"], r["viewer_uv"], r["product_exposure_uv"], r["product_click_uv"], r["buyer_uv"]) \
        == (4, 3, 2, 1, 1)
    assert r["enter_rate"] == 0.75
    assert r["product_exposure_rate"] == pytest.approx(2 / 3, abs=1e-6)
    assert r["click_rate"] == 0.5
    assert r["click_conversion_rate"] == 1.0
    assert r["watch_conversion_rate"] == pytest.approx(1 / 3, abs=1e-6)
    assert r["gpm"] == 10000.0 and r["uv_value"] == 10.0 and r["aov"] == 30.0
    assert r["opm"] == 1.0
    assert r["products"][0] == {"sku": "S", "name": None, "exposure_uv": 2, "click_uv": 1, "buyer_uv": 0,
                                "orders": 0, "items_sold": 0, "gmv": 0.0, "click_rate": 0.5,
                                "click_conversion_rate": 0.0}


def test_interaction_follow_and_likes() -> None:
    r = report([
        ev("enter", 0, "a"), ev("enter", 0, "b"),
        ev("comment", 1, "a", text="hello"), ev("like", 2, "b", count=5), ev("like", 3, "b"),
        ev("share", 4, "c"), ev("follow", 5, "d"), ev("follow", 6, "e"), ev("follow", 7, "e"),
        ev("comment", 10, "a", text="bye"), ghost_leave(),
    ])
    assert r["likes"] == 6
    assert r["interaction_rate"] == 2.5  # a, b, c, d, e over 2 viewers
    assert r["follow_rate"] == 1.0  # d, e over 2 viewers


def test_event_at_exactly_a_segment_start_belongs_to_that_segment() -> None:
    r = report([
        seg(0, "s1"),
        ev("enter", 2, "u"),
        ev("comment", 10, "a", text="at the boundary, listed before the segment event"),
        ev("enter", 10, "v"),
        ev("leave", 10, "u"),  # u's stay [2, 10) ends where s2 starts: not in s2
        seg(10, "s2"),
        ev("comment", 5, "b", text="earlier"),
        ev("comment", 20, "c", text="end"),
    ])
    s1, s2 = segment(r, "s1"), segment(r, "s2")
    assert (s1["comments"], s2["comments"]) == (1, 2)
    assert (s1["views"], s2["views"]) == (1, 1)
    assert (s1["viewer_uv"], s2["viewer_uv"]) == (1, 1)
    assert s1["avg_watch_seconds"] == 8.0 and s2["avg_watch_seconds"] == 10.0
    assert s1["end"] == s2["start"]


def test_last_segment_runs_to_the_stream_end() -> None:
    r = report([seg(0, "s1"), seg(30, "s2"), ev("enter", 40, "u"), ev("comment", 90, "a", text="last"),
                ghost_leave()])
    s2 = segment(r, "s2")
    assert s2["end"] == r["end"]
    assert s2["actual_seconds"] == 60.0
    assert s2["comments"] == 1  # the event at the stream's end is in the last segment
    assert s2["avg_watch_seconds"] == 50.0  # the open stay ends with the stream
    assert r["before_first_segment"] is None


def test_stays_are_clipped_to_windows() -> None:
    r = report([
        seg(0, "s1"), ev("enter", 20, "x"), ev("enter", 50, "u"), seg(100, "s2"), ev("leave", 100, "x"),
        seg(200, "s3"), ev("leave", 250, "u"), ev("comment", 300, "z", text="end"),
    ])
    s1, s2, s3 = segment(r, "s1"), segment(r, "s2"), segment(r, "s3")
    assert (s1["viewer_uv"], s2["viewer_uv"], s3["viewer_uv"]) == (2, 1, 1)
    assert s1["avg_watch_seconds"] == 65.0  # (80 + 50) / 2
    assert s2["avg_watch_seconds"] == 100.0
    assert s3["avg_watch_seconds"] == 50.0
    assert r["avg_watch_seconds"] == 140.0  # (80 + 200) / 2


def test_peak_viewers_counts_the_state_after_each_millisecond() -> None:
    r = report([
        seg(0, "s1"), ev("enter", 0, "A"), ev("enter", 10, "B"),
        ev("enter", 20, "C"), ev("leave", 20, "A"),  # three at once only in passing
        seg(30, "s2"), ev("enter", 40, "D"), ev("comment", 50, "x", text="end"),
    ])
    assert segment(r, "s1")["peak_viewers"] == 2
    assert segment(r, "s2")["peak_viewers"] == 3  # B and C carried in, then D
    assert r["peak_viewers"] == 3


def test_peak_counts_viewers_carried_into_a_segment_without_stay_events() -> None:
    r = report([ev("enter", 0, "A"), ev("enter", 1, "B"), seg(10, "s1"), seg(20, "s2"),
                ev("comment", 30, "x", text="end"), ghost_leave()])
    assert segment(r, "s1")["peak_viewers"] == 2
    assert segment(r, "s2")["peak_viewers"] == 2
    assert segment(r, "s2")["viewer_uv"] == 2
    assert r["before_first_segment"]["peak_viewers"] == 2


def test_empty_windows() -> None:
    r = report([seg(0, "s1"), ev("comment", 5, "a", text="x"), seg(10, "s2"), seg(10, "s3"),
                ev("comment", 20, "b", text="y"), ghost_leave()])
    assert [s["id"] for s in r["segments"]] == ["s1", "s2", "s3"]
    s2 = segment(r, "s2")
    assert s2["actual_seconds"] == 0.0
    assert s2["opm"] is None
    assert all(s2[k] == 0 for k in ("comments", "views", "viewer_uv", "orders", "likes", "peak_viewers"))
    assert all(s2[k] is None for k in ("enter_rate", "gpm", "aov", "avg_watch_seconds", "interaction_rate"))
    assert segment(r, "s3")["comments"] == 1


def test_minutes() -> None:
    r = report([
        ev("enter", 0, "a"), ev("comment", 30, "a", text="1"), ev("comment", 59.999, "a", text="2"),
        ev("enter", 60, "b"), ev("leave", 60, "a"),  # at minute 1's start: b in, a out
        ev("comment", 60, "b", text="3"), paid(61, "b", "o1", 5),
        ev("comment", 150, "b", text="4"),
    ])
    got = [(m["minute"], m["viewers"], m["comments"], m["orders"], m["gmv"]) for m in r["minutes"]]
    assert got == [(0, 1, 2, 0, 0.0), (1, 1, 1, 1, 5.0), (2, 1, 1, 0, 0.0)]
    assert r["minutes"][1]["start"] == "2023-11-14T22:14:20+00:00"
    exact = report([ev("comment", 0, "a", text="1"), ev("comment", 120, "a", text="2")])
    assert [m["comments"] for m in exact["minutes"]] == [1, 1]  # the stream's end is in its last minute


def test_a_stray_ts_does_not_fill_memory_with_minutes() -> None:
    r = report([ev("comment", -86400 * 365, "a", text="a year early"), ev("enter", 0, "a"),
                paid(10, "a", "o1", 5), ev("comment", 20, "a", text="x")])
    assert r["minutes"] == [] and "per-minute table is left out" in r["warnings"][0]
    assert (r["comments"], r["orders"], r["viewer_uv"]) == (2, 1, 1)


def test_before_first_segment_and_whole_stream() -> None:
    r = report([ev("comment", 0, "a", text="early"), ev("enter", 5, "a"), seg(10, "s1"),
                ev("comment", 20, "a", text="in s1"), ghost_leave()])
    pre = r["before_first_segment"]
    assert (pre["comments"], pre["actual_seconds"], pre["avg_watch_seconds"]) == (1, 10.0, 5.0)
    assert segment(r, "s1")["comments"] == 1
    assert r["comments"] == 2 and r["avg_watch_seconds"] == 15.0


def test_script_targets_kinds_and_time_zone() -> None:
    script = Script.model_validate({
        "title": "測試", "timezone": "Asia/Shanghai", "targets": {"gmv": 100, "viewer_uv": 4, "opm": 0},
        "segments": [{"id": "open", "kind": "opening", "title": "開場", "target": "5-10m"},
                     {"id": "sell", "kind": "closing", "target": "8m"}],
    })
    r = report([seg(0, "open"), ev("enter", 1, "a"), seg(60, "sell"), paid(70, "a", "o1", 50),
                seg(90, "ghost"), ev("comment", 120, "a", text="end")], script)
    assert r["title"] == "測試" and r["timezone"] == "Asia/Shanghai"
    assert r["start"] == "2023-11-15T06:13:20+08:00"
    opening, sell, ghost = r["segments"]
    assert (opening["kind"], opening["title"], opening["target_seconds"], opening["target_min_seconds"]) == \
        ("opening", "開場", 600, 300)
    assert (sell["kind"], sell["target_seconds"], sell["target_min_seconds"]) == ("closing", 480, 480)
    assert ghost["kind"] is None and ghost["target_seconds"] is None
    assert any("ghost" in w for w in r["warnings"])
    assert r["targets"]["gmv"] == {"target": 100, "actual": 50.0, "ratio": 0.5}
    assert r["targets"]["viewer_uv"] == {"target": 4, "actual": 1, "ratio": 0.25}
    assert r["targets"]["opm"]["ratio"] is None  # a target of 0: no ratio
    assert report([seg(0, "open")])["segments"][0]["target_seconds"] is None  # no script


def test_times_keep_their_milliseconds() -> None:
    r = report([ev("comment", 0.123, "a", text="x"), ev("comment", 1.999, "a", text="y")])
    assert (r["start"], r["end"]) == ("2023-11-14T22:13:20.123+00:00", "2023-11-14T22:13:21.999+00:00")
    assert r["duration_seconds"] == 1.876


def test_every_key_is_in_the_report_and_in_each_segment() -> None:
    r = report([seg(0, "s1"), ev("comment", 1, "a", text="x")])
    assert all(k in r for k in KEYS)
    assert all(k in r["segments"][0] for k in (*KEYS, "id", "kind", "start", "end", "target_seconds",
                                               "actual_seconds"))


def test_events_without_ts_and_invalid_events() -> None:
    errors: list[tuple[int, str]] = []
    r = report([ev("comment", 0, "a", text="ok"), {"type": "comment", "user_id": "b", "text": "no ts"},
                {"type": "dance", "ts": T0, "user_id": "c"}, ev("comment", 1, "d", text="")], errors=errors)
    assert r["comments"] == 1
    assert [i for i, _ in errors] == [1, 2, 3]
    assert "ts" in errors[0][1] and "type" in errors[1][1] and "text" in errors[2][1]
    received = report([{"type": "comment", "user_id": "b", "text": "no ts"}], received_ms=T0 + 5000)
    assert received["comments"] == 1 and received["start"] == "2023-11-14T22:13:25+00:00"


def test_no_events_at_all() -> None:
    r = report([])
    assert r["start"] is None and r["segments"] == [] and r["minutes"] == []
    assert r["comments"] == 0 and r["gpm"] is None and r["opm"] is None
