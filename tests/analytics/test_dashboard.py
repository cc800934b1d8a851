"""The dashboard and the comparison page: self-contained, escaped, pseudonymised, and drawn in a
real browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from plotly.offline import get_plotlyjs

from livecompanion.analytics.dashboard import (
    WEAKEST_RULES,
    render_comparison_html,
    render_dashboard_html,
    weakest_choice,
    weakest_segment,
)
from livecompanion.scripts import load_script_file
from tests.analytics.conftest import SHOTS
from tests.analytics.helpers import ev, report, seg
from tests.analytics.sample import sample_events, sample_flash_sales, sample_lotteries, write_script


@pytest.fixture(scope="module")
def full_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    script = load_script_file(write_script(tmp_path_factory.mktemp("script"))).script
    return report(sample_events(), script, flash_sales=sample_flash_sales(), lotteries=sample_lotteries())


def _own_html(page: str) -> str:
    """The page without the embedded plotly.js bundle."""
    assert page.count(get_plotlyjs()) == 1
    return page.replace(get_plotlyjs(), "")


def test_outside_text_is_escaped_and_viewers_pseudonymised(full_report: dict[str, Any]) -> None:
    page = _own_html(render_dashboard_html(full_report))
    assert "<script>alert(1)</script>" not in page and "<b>不是粗體</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the segment title, as text
    assert "包郵嗎？&lt;b&gt;急&lt;/b&gt;" in page  # a question from chat, as text
    # In chart specs: escaped for Plotly (which would render some tags), then & as a JSON escape.
    assert "\\u0026lt;script\\u0026gt;alert(1)" in page
    for raw_id in ("user42", "user7", "user10"):  # lottery winners, flash-sale buyers
        assert raw_id not in page
    assert "阿芳" not in page and "阿***" in page
    assert full_report["lotteries"][0]["winners"][0]["viewer"] in page
    assert full_report["questions"][0]["askers"][0] in page


def test_weakest_segment_is_marked(full_report: dict[str, Any]) -> None:
    weakest = weakest_segment(full_report["segments"])
    assert full_report["segments"][weakest]["id"] == "serum"  # it sold nothing
    page = render_dashboard_html(full_report)
    assert '<tr class="weakest" data-segment="serum">' in page
    assert page.count('class="weakest"') == 1
    assert weakest_segment([{"views": 0, "gpm": None}]) is None
    assert weakest_segment([{"views": 5, "gpm": 10.0}, {"views": 5, "gpm": 10.0}]) == 0  # ties: earlier


def test_weakest_is_chosen_among_selling_segments_and_the_page_says_how() -> None:
    segments = [
        {"id": "open", "kind": "opening", "product": None, "views": 900, "gpm": 0.0},  # sells nothing by design
        {"id": "intro", "kind": "product", "product": "MASK-01", "views": 700, "gpm": 2400.0},
        {"id": "proof", "kind": "value", "product": None, "views": 650, "gpm": 310.0},
        {"id": "close", "kind": "closing", "product": "MASK-01", "views": 800, "gpm": 5200.0},
        {"id": "chat", "kind": "wrapup", "product": "SERUM-02", "views": 300, "gpm": 120.0},  # a product: counts
        {"id": "bye", "kind": "wrapup", "product": None, "views": 200, "gpm": None},
        {"id": "unseen", "kind": "product", "product": "MASK-01", "views": 0, "gpm": None},
    ]
    assert weakest_choice(segments) == (4, "selling")
    assert weakest_choice([dict(s, product=None) for s in segments]) == (2, "selling")  # by kind alone
    # No selling segment at all (a report without a script has no kinds): among the watched ones.
    bare = [{"id": "a", "kind": None, "views": 50, "gpm": 80.0}, {"id": "b", "kind": None, "views": 5, "gpm": 20.0}]
    assert weakest_choice(bare) == (1, "watched")
    page = render_dashboard_html(report([seg(0, "open"), ev("enter", 1, "u1"), seg(60, "x"), ev("enter", 61, "u2")]))
    assert WEAKEST_RULES["watched"][1] in page


def test_weakest_rule_is_on_the_page(full_report: dict[str, Any]) -> None:
    page = render_dashboard_html(full_report)
    assert page.count(WEAKEST_RULES["selling"][0]) == 1 and WEAKEST_RULES["selling"][1] in page
    assert '<tr class="weakest" data-segment="open">' not in page


def test_sold_out_sale_with_cancels_shows_sold_out_and_released_units(full_report: dict[str, Any]) -> None:
    sale = full_report["flash_sales"][0]
    assert sale["sold_out"] and sale["seconds_to_sell_out"] == 35.8 and sale["released_units"] == 0
    # The same sale where three buyers cancelled after the sell-out: 47 of 50 left sold, still sold out.
    cancelled = dict(sample_flash_sales()[0])
    claims = cancelled["claims"]
    cancelled["claims"] = claims[:10] + claims[13:]
    start = cancelled["started_at"]
    cancelled["released_claims"] = [{**c, "status": "released", "released_at": start + 120_000} for c in claims[10:13]]
    r = report(sample_events(), flash_sales=[cancelled])
    s = r["flash_sales"][0]
    assert (s["sold"], s["sell_through"], s["sold_out"], s["seconds_to_sell_out"]) == (47, 0.94, True, 35.8)
    assert (s["released_units"], s["released_after_sell_out"]) == (3, 3)
    page = render_dashboard_html(r)
    assert '<td data-sold-out="yes">已售罄 sold out in 36s</td>' in page
    assert "未售罄" not in page
    assert '<td data-released="3">3 <span class="muted">（售罄後 after sell-out 3）</span></td>' in page
    quick = [{**c, "ts": start + 100 + i * 10} for i, c in enumerate(claims)]  # the 50th at 0.59 s
    fast = report(sample_events(), flash_sales=[dict(sample_flash_sales()[0], claims=quick)])
    assert '已售罄 sold out in 0.6s</td>' in render_dashboard_html(fast)  # a demo at 40x: under a second


def test_empty_report_renders() -> None:
    page = render_dashboard_html(report([]))
    assert "直播復盤" in page and "data-chart" in page  # the funnel, all zeros


def _comparison_reports() -> list[dict[str, Any]]:
    events = sample_events()
    shifted = []
    for hours, scale in ((0, 1), (68, 2), (24 * 7 + 2, 1)):  # UTC: Sat 12:00, Tue 08:00, Sat 14:00
        shifted.append(report([{**e, "ts": e["ts"] + hours * 3_600_000} for e in events[: len(events) // scale]]))
    shifted.append(report([]))  # no events: left out
    return shifted


def test_comparison_groups_by_time_slot_and_weekday() -> None:
    from livecompanion.analytics.compare import compare_reports

    data = compare_reports(_comparison_reports())
    assert [s["weekday"] for s in data["streams"]] == ["週六 Sat", "週二 Tue", "週六 Sat"]
    assert [s["slot"] for s in data["streams"]] == ["午間 afternoon 12-18", "早間 morning 06-12",
                                                   "午間 afternoon 12-18"]
    assert [(g["label"], g["streams"]) for g in data["slots"]] == [("早間 morning 06-12", 1),
                                                                   ("午間 afternoon 12-18", 2)]
    sat = next(g for g in data["weekdays"] if g["label"] == "週六 Sat")
    assert sat["gmv"] == pytest.approx((data["streams"][0]["gmv"] + data["streams"][2]["gmv"]) / 2)
    page = _own_html(render_comparison_html(_comparison_reports()))
    assert "按時段" in page and "週二 Tue" in page and 'data-chart="chart-trend"' in page


def _open(chromium: Any, path: Path) -> tuple[Any, list[str]]:
    page = chromium.new_page(viewport={"width": 1400, "height": 900})
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: problems.append(f"network: {r.url}") if not r.url.startswith("file:") else None)
    page.goto(path.as_uri())
    return page, problems


@pytest.mark.browser
def test_dashboard_in_chromium(chromium: Any, full_report: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "dashboard.html"
    path.write_text(render_dashboard_html(full_report), encoding="utf-8")
    page, problems = _open(chromium, path)
    for chart in ("funnel", "minutes", "segments", "flash_sales"):
        page.wait_for_selector(f"#chart-{chart} .main-svg")
    assert problems == []  # no script error, no request leaving the file
    assert page.locator("header h1 b").count() == 0
    assert "<b>不是粗體</b>" in page.locator("header h1").inner_text()
    assert "<script>alert(1)</script>" in page.locator("#chart-segments").inner_text()
    assert page.locator("#chart-minutes .shapelayer path").count() >= 6  # the segment bands
    assert page.locator(".card[data-key=gmv] .value").inner_text() == f"{full_report['gmv']:,.0f}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "analytics-dashboard.png"), full_page=True)
    page.close()


@pytest.mark.browser
def test_comparison_in_chromium(chromium: Any, tmp_path: Path) -> None:
    path = tmp_path / "comparison.html"
    path.write_text(render_comparison_html(_comparison_reports()), encoding="utf-8")
    page, problems = _open(chromium, path)
    for chart in ("trend", "slots", "weekdays"):
        page.wait_for_selector(f"#chart-{chart} .main-svg")
    assert problems == []
    assert page.locator("#chart-trend .scatterlayer .trace").count() == 6
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "analytics-comparison.png"), full_page=True)
    page.close()
