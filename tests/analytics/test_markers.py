"""The report's `markers` and the annotated minute chart."""

from __future__ import annotations

from typing import Any

from livecompanion.analytics.figures import ALERT_NAME, minutes_figure
from livecompanion.analytics.markers import cue_markers
from livecompanion.scripts.models import Script
from tests.analytics.helpers import T0, ev, paid, report, seg
from tests.analytics.sample import START, sample_events, sample_flash_sales, sample_lotteries


def test_markers_from_the_report_and_extra_records() -> None:
    events = [seg(0, "open"), ev("product_explain", 10, "host", sku="A", action="start"),
              ev("comment", 20, "u", text="x"),
              ev("product_explain", 30, "host", sku="B", action="start"), seg(40, "sell"),
              ev("comment", 90, "u", text="end")]
    extra = [{"ts": T0 + 50_000, "kind": "alert", "label": "節奏 over target"},
             {"at": "2023-11-14T22:13:25+00:00", "kind": "brand_new_kind", "label": "?"}]
    r = report(events, markers=extra)
    got = [(m["kind"], m["label"], m["at"][11:19], m["until"] and m["until"][11:19]) for m in r["markers"]]
    assert got == [
        ("segment", "1. open", "22:13:20", None),
        ("brand_new_kind", "?", "22:13:25", None),
        ("explain", "講解 A", "22:13:30", "22:13:50"),  # ended by the start of B
        ("explain", "講解 B", "22:13:50", "22:14:50"),  # runs to the stream's end
        ("segment", "2. sell", "22:14:00", None),
        ("alert", "節奏 over target", "22:14:10", None),
    ]


def test_flash_sale_lottery_and_cue_markers() -> None:
    script = Script.model_validate({"title": "t", "segments": [{"id": "open", "kind": "opening", "cues": [
        {"at": 0, "action": "pin", "text": "領券"}, {"at": 0, "action": "note", "text": "加微信"}]}]})
    cues = cue_markers({"open/0": START + 60_000, "open/1": START + 120_000}, script)
    r = report(sample_events(), None, flash_sales=sample_flash_sales(), lotteries=sample_lotteries(), markers=cues)
    kinds = [m["kind"] for m in r["markers"]]
    assert kinds.count("segment") == 6 and kinds.count("pin") == 1 and kinds.count("cue") == 1
    assert ("flash_sale" in kinds and "sold_out" in kinds and "lottery" in kinds
            and "flash_sale_end" not in kinds)  # sold out: the sell-out marks its end
    assert [m["at"] for m in r["markers"]] == sorted(m["at"] for m in r["markers"])
    pin = next(m for m in r["markers"] if m["kind"] == "pin")
    assert pin["label"] == "置頂 領券"


def test_minute_chart_cost_is_linear_in_segments() -> None:
    events = [e for k in range(300) for e in (seg(k * 60, f"s{k}"), ev("comment", k * 60 + 5, "u", text="x"))]
    fig = minutes_figure(report(events))
    assert len(fig["layout"]["shapes"]) == 2 * 300  # a band and a bar per segment, nothing per row
    markers = [t for t in fig["data"] if t.get("mode") == "markers"]
    assert len(markers) == 1 and len(markers[0]["x"]) == 300  # one trace for all segment starts


def _alerted_log(with_alerts: bool) -> list[dict[str, Any]]:
    """Five minutes of a room: online counts, comments, paid orders; with the service's alerts of it
    (an online drop, a sell-out, a question) and an acknowledgement, as the export holds them."""
    events = [seg(0, "open"), seg(150, "sell")]
    events += [ev("viewer_count", s, count=1000 - (300 if s >= 100 else 0)) for s in range(0, 300, 10)]
    events += [ev("comment", s + 1, f"u{s}", text="好") for s in range(0, 300, 7)]
    events += [paid(160 + s, f"b{s}", f"o{s}", 99) for s in range(0, 60, 5)]
    if with_alerts:
        def alert(at: float, key: str, kind: str, text: str, acked: bool = False) -> dict[str, Any]:
            return {**ev("alert", at), "key": key, "kind": kind, "level": "warn", "text": text, "acked": acked,
                    "segment": "open"}
        events += [alert(95, "viewers_drop/1", "viewers_drop", "在線人數 40 秒內從 1000 跌到 700（-30%）"),
                   alert(100, "viewers_drop/1", "viewers_drop", "在線人數 40 秒內從 1000 跌到 700（-30%）", acked=True),
                   alert(215, "sold_out/s1", "sold_out", "「面膜」已售罄"),
                   alert(230, "question/q", "question", "觀眾問了 50 次還沒回答：「孕妇可以用吗」")]
    return sorted(events, key=lambda e: e["ts"])


def test_alert_markers_on_the_online_and_gmv_curves() -> None:
    r = report(_alerted_log(True))
    alerts = [m for m in r["markers"] if m["kind"] == "alert"]
    assert [(m["alert"], m["at"][11:19]) for m in alerts] == [  # the ack is not a second marker
        ("viewers_drop", "22:14:55"), ("sold_out", "22:16:55"), ("question", "22:17:10")]
    fig = minutes_figure(r)
    on_curves = [t for t in fig["data"] if t.get("name") == ALERT_NAME]
    by_axis = {t["yaxis"]: list(zip(t["x"], t["y"], t["text"])) for t in on_curves}
    assert sorted(by_axis) == ["y2", "y3", "y6"]  # the markers strip, the online and GMV curves' rows
    assert len(by_axis.pop("y2")) == 3
    assert [(x[11:], y) for x, y, _ in by_axis["y3"]] == [("22:14:55", 1000), ("22:17:10", 700)]
    assert [(x[11:], y) for x, y, _ in by_axis["y6"]] == [("22:16:55", r["minutes"][3]["gmv"])]
    assert sum(len(v) for v in by_axis.values()) == len(alerts) == 3  # a marker per recorded alert
    assert "孕妇可以用吗" in by_axis["y3"][1][2]
    # The figures are the same as the clean log's: alerts mark, never count.
    clean = report(_alerted_log(False))
    assert {k: v for k, v in clean.items() if k != "markers"} == {k: v for k, v in r.items() if k != "markers"}
    assert [t for t in minutes_figure(clean)["data"] if t.get("name") == ALERT_NAME] == []
    assert not any(m["kind"] == "alert" for m in clean["markers"])


def test_alert_markers_in_the_rendered_dashboard() -> None:
    from livecompanion.analytics.dashboard import render_dashboard_html

    page = render_dashboard_html(report(_alerted_log(True)))
    assert page.count("「面膜」已售罄") >= 1 and ALERT_NAME in page
    assert "已售罄" not in render_dashboard_html(report(_alerted_log(False)))
