"""The console lists the stream's sources (bridges); the service alerts on one silent for 30 s while
live (livecompanion.alerts `source_silent`), and one click acknowledges it."""

from __future__ import annotations

import time

from livecompanion.realtime import set_op
from tests.pages.conftest import Stream, shot, watch_errors


def test_console_shows_sources_and_a_silent_one(browser, stream: Stream) -> None:  # type: ignore[no-untyped-def]
    now = int(time.time() * 1000)
    fresh = {"platform": "douyin", "room": "7004347458255899428", "library": "stdin", "connected": True,
             "since_ms": now - 600_000, "last_seen_ms": now, "last_event_ms": now - 2_000, "events": 1812}
    silent = {"platform": "twitch", "room": "#shop", "library": "Twitch IRC", "connected": True,
              "since_ms": now - 600_000, "last_seen_ms": now, "last_event_ms": now - 95_000, "events": 40}
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    errors = watch_errors(page)
    page.goto(stream.url("console", "operator"))
    page.wait_for_selector("#conn.live")
    stream.write([set_op(["sources", "a1"], fresh), set_op(["sources", "b2"], silent)])
    page.wait_for_function("document.querySelectorAll('#sources li').length === 2")
    page.wait_for_function("document.querySelector('#sources').textContent.includes('無訊息 silent')")
    texts = page.locator("#sources li").all_inner_texts()
    assert any(t.startswith("douyin 7004347458255899428 — 0:0") and t.endswith("ago") for t in texts), texts
    assert any(t.startswith("twitch #shop — 無訊息 silent 1:3") for t in texts), texts
    # Not live yet: no alert. Once the show runs, the silent source is an alert.
    assert "資料來源" not in page.locator("#alerts").inner_text()
    page.click("#next")
    page.wait_for_function("document.querySelector('#alerts').textContent.includes('資料來源「twitch #shop」')")
    assert "douyin" not in page.locator("#alerts").inner_text()
    shot(page, "console-sources-1440")
    stream.write([set_op(["sources", "b2"], {**silent, "connected": False})])
    page.wait_for_function("document.querySelector('#sources').textContent.includes('離線 gone')")
    page.click("#alerts li.server button.ack")  # acknowledged: off every console
    page.wait_for_function("!document.querySelector('#alerts').textContent.includes('資料來源')")
    assert errors == []
