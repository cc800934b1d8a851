"""講解 on the console in Debian Chromium: one click starts explaining a product, the clock runs, a
click on another product moves the 講解 there, and the report measures each one."""

from __future__ import annotations

import httpx
import pytest

from .conftest import Stream, shot, watch_errors

pytestmark = [pytest.mark.browser, pytest.mark.redis]


def test_one_click_explain_per_product(browser, stream: Stream) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    errors = watch_errors(page)
    page.goto(stream.url("console", "operator"))
    page.wait_for_selector("#conn.live")
    mask = page.locator('#explain li[data-sku="MASK-01"] button')
    assert page.locator("#explain li").count() == len(stream.state()["products"])
    assert mask.is_disabled()  # not live yet
    page.click("#next")
    page.wait_for_function("!document.querySelector('#explain li[data-sku=\"MASK-01\"] button').disabled")

    mask.click()
    page.wait_for_selector('#explain li.on[data-sku="MASK-01"]')
    assert stream.state()["explaining"]["sku"] == "MASK-01"
    # The 講解 clock ticks on the console (once a second; allow for a busy machine).
    page.wait_for_function("document.querySelector('#explain li.on .explain-clock').textContent !== '0:00'",
                           timeout=10_000)
    assert page.locator('#explain li.on .explain-clock').inner_text().startswith("0:0")
    page.locator('#explain li[data-sku="SERUM-02"] button').click()
    page.wait_for_selector('#explain li.on[data-sku="SERUM-02"]')
    assert page.locator("#explain li.on").count() == 1
    shot(page, "console-explain")
    page.locator('#explain li.on button').click()  # stop
    page.wait_for_function("document.querySelectorAll('#explain li.on').length === 0")
    assert stream.state()["explaining"] is None
    assert errors == []

    report = httpx.get(f"{stream.server.base_url}/api/streams/{stream.id}/report",
                       headers=stream.server.headers("viewer"), timeout=30).json()
    assert [e["sku"] for e in report["explains"]] == ["MASK-01", "SERUM-02"]
    assert report["explains"][0]["duration_seconds"] >= 1
