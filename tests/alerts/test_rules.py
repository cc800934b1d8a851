"""The alert rules as pure functions, the script's `alerts:` section in the validator, and `alert`
events in a log the report reads (marked, never counted)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from livecompanion.alerts.rules import RoomWatch, ShowPlan, ad_law, gmv_pace, sales, show_alerts
from livecompanion.analytics.cli import run_report
from livecompanion.events import parse_event
from livecompanion.scripts import check_text
from livecompanion.scripts.models import AlertSettings

RULES = AlertSettings()
T0 = 1_760_000_000_000


def live_doc(**more: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "stream": {"status": "live", "started_ms": T0},
        "segment": {"index": 0, "id": "open", "title": "開場", "started_ms": T0, "target_max_seconds": 600,
                    "next": None},
        "cues": {}, "run_sheet": [{"cues": []}], "flash_sales": {}, "metrics": {"gmv": 0}, "questions": [],
    }
    doc.update(more)
    return doc


def test_a_fall_is_one_alert_and_only_a_new_fall_raises_another() -> None:
    watch, doc = RoomWatch(), live_doc()
    raised = []
    counts = [1000] * 6 + [900, 800, 750, 700, 700, 700] + [700] * 20 + [540, 530]  # 5 s apart
    for i, count in enumerate(counts):
        watch.see("viewer_count", T0 + i * 5000, {"count": count}, RULES)
        alert = watch.viewers_drop(RULES, doc)
        if alert:
            raised.append((i, alert))
    assert [i for i, _ in raised] == [7, 32], raised  # 1000 -> 800 (-20%), then 700 -> 540 (-23%)
    assert "開場" in raised[0][1].text and raised[0][1].key != raised[1][1].key


def test_a_small_room_and_a_slow_decline_raise_nothing() -> None:
    watch, doc = RoomWatch(), live_doc()
    for i in range(100):  # 1000 -> 505 over 500 s: 1% a step, never 20% within a minute
        watch.see("viewer_count", T0 + i * 5000, {"count": 1000 - 5 * i}, RULES)
        assert watch.viewers_drop(RULES, doc) is None
    small = RoomWatch()
    for i, count in enumerate([40, 40, 10]):
        small.see("viewer_count", T0 + i * 5000, {"count": count}, RULES)
        assert small.viewers_drop(RULES, doc) is None


def test_comments_collapsing() -> None:
    watch, doc = RoomWatch(), live_doc()
    for i in range(60):  # one a second for a minute (59 of them in the minute before), then one
        watch.see("comment", T0 + i * 1000, {}, RULES)
    watch.see("comment", T0 + 100_000, {}, RULES)
    watch.see("viewer_count", T0 + 120_500, {"count": 10}, RULES)
    alert = watch.comments_collapse(RULES, doc)
    assert alert is not None and "59 條降到 1 條" in alert.text
    assert watch.comments_collapse(RULES, doc) is None  # once


def test_sales_low_sold_out_and_unsold() -> None:
    now = T0 + 60_000
    doc = live_doc(flash_sales={
        "a": {"name": "面膜", "stock": 100, "remaining": 8, "status": "live", "ends_at": now + 1000},
        "b": {"name": "精華", "stock": 50, "remaining": 0, "status": "sold_out", "ends_at": now + 1000},
        "c": {"name": "乳液", "stock": 100, "remaining": 70, "status": "live", "ends_at": now - 1},
        "d": {"name": "眼霜", "stock": 100, "remaining": 30, "status": "ended", "ends_at": now - 1},
        # Sold out, then a cancelled order gave 2 units back: live again and low, but no "push the
        # last units" alert (the demo at 20x raised three of those, each after its sell-out alert).
        "e": {"name": "面霜", "stock": 30, "remaining": 2, "status": "live", "ends_at": now + 1000,
              "sold_out_ms": now - 90_000},
    })
    assert sorted(a.key for a in sales(doc, RULES, now)) == ["sale_unsold/c", "sold_out/b", "stock_low/a"]


def test_gmv_pace_against_the_target() -> None:
    plan = ShowPlan(gmv_target=50_000, planned_seconds=7200)
    slow = live_doc(metrics={"gmv": 3000})
    fine = live_doc(metrics={"gmv": 6000})
    hour = T0 + 1800 * 1000  # half an hour in: 3000 -> 12000 projected, 6000 -> 24000 ... both short
    assert gmv_pace(slow, plan, RULES, hour) is not None
    on_pace = live_doc(metrics={"gmv": 11_000})  # 44000 projected: within 20% of 50000
    assert gmv_pace(on_pace, plan, RULES, hour) is None
    assert gmv_pace(fine, plan, RULES, T0 + 60_000) is None  # too early to judge
    assert gmv_pace(slow, ShowPlan(None, 7200), RULES, hour) is None  # no target, no alert


def test_ad_law_in_a_pin_about_to_be_shown() -> None:
    doc = live_doc(run_sheet=[{"cues": [{"key": "open/0", "action": "pin", "text": "全網最低價，錯過再等一年"}]}],
                   cues={"open/0": {"fired_ms": None}})
    found = ad_law(doc, T0)
    assert len(found) == 1 and "最低價" in found[0].text and found[0].key == "ad_law/cue/open/0"
    doc["cues"]["open/0"]["fired_ms"] = T0  # shown: now it is the pinned text that counts
    assert ad_law(doc, T0) == []
    assert ad_law(live_doc(pinned={"text": "評論想要參與抽獎", "pinned_ms": T0}), T0) == []


def test_nothing_before_the_show_or_after_it() -> None:
    late = T0 + 3600 * 1000
    for status in ("ready", "ended"):
        doc = live_doc(stream={"status": status, "started_ms": T0})
        assert show_alerts(doc, RULES, ShowPlan(1e9, 7200), late) == []
    assert [a.kind for a in show_alerts(live_doc(), RULES, ShowPlan(None, None), late)] == ["overtime"]


def test_the_alerts_section_of_a_script_is_validated_with_file_line_col() -> None:
    source = "title: t\nalerts:\n  viewers_drop_percent: 150\n  stock_lo_percent: 5\nsegments:\n  - kind: opening\n"
    result = check_text(source, "show.yaml")
    messages = [f.format() for f in result.errors]
    assert any(m.startswith("show.yaml:3:") and "viewers_drop_percent" in m for m in messages), messages
    assert any(m.startswith("show.yaml:4:") and "stock_lo_percent" in m for m in messages), messages
    good = check_text("title: t\nalerts:\n  source_silent_seconds: 10\nsegments:\n  - kind: opening\n", "s.yaml")
    assert good.ok and good.script is not None and good.script.alerts.source_silent_seconds == 10
    assert good.script.alerts.viewers_drop_percent == 20  # the default


def test_alert_events_are_validated_and_the_report_marks_without_counting(tmp_path: Path, capsys: Any) -> None:
    alert = {"type": "alert", "id": "alert:overtime/open@1", "key": "overtime/open@1", "kind": "overtime",
             "level": "error", "text": "「開場」超時", "segment": "open", "ts": T0 + 5000}
    assert parse_event(alert, 0).type == "alert"
    try:
        parse_event({**alert, "level": "loud"}, 0)
    except ValueError as exc:
        assert "level" in str(exc)
    else:
        raise AssertionError("a bad level was accepted")
    base = [{"type": "segment", "segment": "open", "ts": T0},
            {"type": "viewer_count", "count": 100, "ts": T0 + 1000},
            {"type": "comment", "user_id": "a", "text": "好", "ts": T0 + 2000}]
    plain, marked = tmp_path / "plain.ndjson", tmp_path / "marked.ndjson"
    plain.write_bytes(b"\n".join(orjson.dumps(e) for e in base))
    marked.write_bytes(b"\n".join(orjson.dumps(e) for e in [*base, alert]))
    out = {}
    for path in (plain, marked):
        assert run_report(path, None, "json", tmp_path / f"{path.stem}.json") == 0
        out[path.stem] = orjson.loads((tmp_path / f"{path.stem}.json").read_bytes())
    markers = out["marked"].pop("markers")
    assert out["plain"].pop("markers") == markers[:1]
    assert out["plain"] == out["marked"]  # figure for figure: an alert is not an audience event
    assert markers[1] == {"at": "2025-10-09T08:53:25+00:00", "kind": "alert", "label": "「開場」超時", "until": None,
                          "alert": "overtime"}  # the alert is marked on the dashboard's curves


def test_questions_one_at_a_time_and_not_once_answered() -> None:
    watch = RoomWatch()
    rules = AlertSettings(question_count=20, question_seconds=300)
    doc = live_doc(questions=[{"text": "包邮吗", "key": "k1", "count": 30, "last": T0},
                              {"text": "多少钱", "key": "k2", "count": 25, "last": T0}])
    first = watch.asked_questions(rules, doc, T0)
    assert [a.key for a in first] == ["question/k1"] and "30 次" in first[0].text
    assert watch.asked_questions(rules, doc, T0 + 60_000) == []  # quiet for the window
    doc["questions"] = [{"text": "包邮吗", "key": "k1", "count": 60, "last": T0 + 300_000},
                        {"text": "多少钱", "key": "k2", "count": 50, "last": T0 + 300_000}]
    later = watch.asked_questions(rules, doc, T0 + 301_000)  # the next one, not the same again
    assert [a.key for a in later] == ["question/k2"]
    answered = RoomWatch()
    doc["answered"] = {"k1": T0 + 300_000, "k2": T0 + 300_000}  # after their last ask
    assert answered.asked_questions(rules, doc, T0) == []


def test_no_audience_alerts_while_the_show_winds_down() -> None:
    watch = RoomWatch()
    doc = live_doc(segment={"index": 9, "id": "wrapup", "kind": "wrapup", "title": "收尾", "started_ms": T0})
    for i, count in enumerate([1000, 900, 700, 0]):
        watch.see("viewer_count", T0 + i * 5000, {"count": count}, RULES)
        assert watch.viewers_drop(RULES, doc) is None


def test_question_history_keeps_changes_only() -> None:
    """The watch looks 4 times a second; while a stream's time stands still (no events) each look
    used to add an entry per question, without end (the soak's memory trace found it). Only changes
    are kept now, and the alert still counts the asks within the window."""
    watch = RoomWatch()
    rules = AlertSettings(question_count=5, question_seconds=60)
    question = {"text": "發什麼快遞？", "key": "q1", "count": 3, "last": T0}
    doc = live_doc(questions=[question])
    for _ in range(10_000):  # 40 minutes of looks at a stream with no new events
        assert watch.asked_questions(rules, doc, T0) == []
    assert len(watch.questions["發什麼快遞？"]) == 1
    # Two minutes later 6 more asks come within a minute: one alert.
    doc = live_doc(questions=[{**question, "count": 9, "last": T0 + 150_000}])
    raised = watch.asked_questions(rules, doc, T0 + 150_000)
    assert [a.kind for a in raised] == ["question"] and "6 次" in raised[0].text, raised
    assert len(watch.questions["發什麼快遞？"]) <= 2
