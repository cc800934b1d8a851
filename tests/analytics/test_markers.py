"""The report's `markers` and the annotated minute chart."""

from __future__ import annotations

from livecompanion.analytics.figures import minutes_figure
from livecompanion.analytics.markers import cue_markers
from livecompanion.scripts.models import Script
from tests.analytics.helpers import T0, ev, report, seg
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
