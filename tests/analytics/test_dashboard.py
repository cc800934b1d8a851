"""The dashboard and the comparison page: self-contained, escaped, pseudonymised, and drawn in a
real browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from plotly.offline import get_plotlyjs

from livecompanion.analytics.dashboard import render_comparison_html, render_dashboard_html, weakest_segment
from livecompanion.scripts import load_script_file
from tests.analytics.conftest import SHOTS
from tests.analytics.helpers import report
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
    assert "&lt;b&gt;包郵嗎&lt;/b&gt;" in page  # a question from chat, as text
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
