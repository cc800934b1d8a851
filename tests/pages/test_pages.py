"""The console, teleprompter, remote and overlay in Debian Chromium, against a real server.

Screenshots go to $LIVECOMPANION_SCREENSHOTS (default /tmp/livecompanion-screenshots).
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from livecompanion.realtime import set_op

from .conftest import SKEW_SCRIPT, Stream, shot, watch_errors

pytestmark = [pytest.mark.browser, pytest.mark.redis]


def now_ms() -> int:
    return int(time.time() * 1000)


def sale(remaining: int, **extra: Any) -> dict[str, Any]:
    now = now_ms()
    return {"sku": "MASK-01", "price": 79, "list_price": 199, "stock": 200, "remaining": remaining, "first_n": 50,
            "first_n_bonus": "立減50元", "first_n_left": max(0, 50 - (200 - remaining)), "started_ms": now,
            "ends_at": now + 240_000, "status": "live" if remaining else "sold_out", **extra}


def test_console_drives_the_show(browser, stream: Stream) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    errors = watch_errors(page)
    page.goto(stream.url("console", "operator"))
    page.wait_for_selector("#conn.live")
    segments = page.locator("#runsheet > li.seg")
    assert segments.count() == len(stream.state()["run_sheet"])
    assert page.locator("#runsheet .cue").count() == sum(len(s["cues"]) for s in stream.state()["run_sheet"])
    assert page.locator("#next").inner_text().startswith("開播")

    page.click("#next")  # starts the stream
    page.wait_for_function("document.querySelector('#seg-title').textContent.includes('開場')")
    assert page.locator("#status").inner_text() == "● 直播中 ON AIR"  # the show is on air (the socket is #conn)
    assert page.locator("#runsheet > li.seg").first.get_attribute("class").split() == ["seg", "live"]
    assert stream.state()["segment"]["id"] == "open"

    page.locator('li.cue[data-key="open/0"] button.fire').click()  # one click: the countdown cue runs
    page.wait_for_selector('li.cue.fired[data-key="open/0"]')
    page.wait_for_function("document.querySelector('#running').textContent.includes('福利倒計時')")
    assert any(c["label"] == "福利倒計時" for c in stream.state()["countdowns"].values())

    page.fill("#f-pin input[name=nickname]", "小美")
    page.fill("#f-pin input[name=text]", "<b>適合油皮嗎?</b>")
    page.click("#f-pin button.primary")
    page.wait_for_function("window.consoleClient.state.pinned !== null")
    assert stream.state()["pinned"]["text"] == "<b>適合油皮嗎?</b>"

    page.fill("#f-countdown input[name=seconds]", "30")
    page.fill("#f-countdown input[name=label]", "整點福利")
    page.click("#f-countdown button.primary")
    page.wait_for_function("document.querySelector('#running').textContent.includes('整點福利')")

    # Numbers, questions and a flash sale written by other domains show up live.
    stream.write([
        set_op(["metrics"], {"viewers": 1834, "comments_per_min": 212, "orders": 137, "gmv": 10823.5,
                             "intent": {"想要": 132, "扣1": 57}}),
        set_op(["questions"], [{"text": "<i>孕婦可以用嗎</i>", "count": 40}]),
        set_op(["flash_sales", "fs1"], sale(12)),
    ])
    page.wait_for_function("document.querySelector('#m-viewers').textContent === '1834'")
    assert page.locator("#intent").inner_text().startswith("想要 ×132")
    page.click("#questions-panel .tab[data-window=all]")  # the whole stream's board (default: last 10 minutes)
    first = page.locator("#questions li").first
    assert first.locator(".count").inner_text() == "×40"
    assert first.locator(".text").inner_text() == "<i>孕婦可以用嗎</i>"
    assert page.locator("#questions i").count() == 0  # text, never markup
    # Alerts are the service's (livecompanion.alerts); the console shows each with its ack button.
    stream.write([set_op(["alerts", "stock_low/fs1"], {
        "id": "stock_low/fs1", "kind": "stock_low", "level": "warn", "text": "「面膜」庫存緊張：只剩 12/100 件",
        "segment": "open", "ts": 1, "host": True, "acked_ms": None})])
    page.wait_for_function("document.querySelector('#alerts').textContent.includes('庫存緊張')")
    assert page.locator("#alerts li[data-alert='stock_low/fs1'] button.ack").count() == 1

    page.click("#next")
    page.wait_for_function("document.querySelector('#seg-title').textContent.includes('面膜介紹')")
    page.wait_for_timeout(300)
    path = shot(page, "console")
    assert path.stat().st_size > 10_000
    assert errors == []


def test_teleprompter_keys_remote_and_clock(browser, stream: Stream) -> None:  # type: ignore[no-untyped-def]
    stream.post("/segments/next")
    stream.post("/segments/next")  # mask-intro, 15-20 min, a note cue at 10 min
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.add_init_script(SKEW_SCRIPT % -3_600_000)  # this tablet's clock is an hour slow
    errors = watch_errors(page)
    page.goto(stream.url("teleprompter"))
    page.wait_for_selector("#conn.live")
    assert "玻尿酸面膜" in page.locator("#text").inner_text()
    assert page.locator("#seg-title").inner_text() == "面膜介紹"
    # The segment clock runs on the server's clock, not the tablet's.
    clock = page.locator("#seg-clock").inner_text()
    assert clock.startswith("0:0"), clock
    assert "提醒加微信" in page.locator("#cue").inner_text()

    page.keyboard.press("9")
    assert page.locator("#speed").inner_text() == "9"
    page.keyboard.press("h")
    assert "mirror-h" in page.locator("#stage").get_attribute("class")
    font = page.evaluate("window.teleprompter.prefs.font")
    page.keyboard.press("+")
    assert page.evaluate("window.teleprompter.prefs.font") == font + 6
    page.keyboard.press("Space")
    page.wait_for_selector("#c321:not(.hidden)")
    assert page.locator("#c321").inner_text() == "3"
    page.wait_for_function("window.teleprompter.playing", timeout=5000)
    page.wait_for_function("window.teleprompter.pos > 40", timeout=5000)

    # A phone (or the console) pauses it through the hub.
    stream.post("/prompter", {"action": "pause"})
    page.wait_for_function("!window.teleprompter.playing", timeout=5000)
    stream.post("/prompter", {"action": "top"})
    page.wait_for_function("window.teleprompter.pos === 0", timeout=5000)

    # Side panel: grouped questions, intent, stock left in the running flash sale; pacing turns red.
    started = now_ms() - 21 * 60_000
    stream.write([
        set_op(["questions"], [{"text": "這款適合油性皮膚嗎?", "count": 40}, {"text": "什麼時候發貨", "count": 7}]),
        set_op(["metrics", "intent"], {"想要": 132}),
        set_op(["flash_sales", "fs1"], sale(63)),
        set_op(["segment", "started_ms"], started),
    ])
    page.wait_for_function("document.querySelector('#stock').textContent.includes('63')")
    assert page.locator("#intent").inner_text() == "想要 ×132"
    assert page.locator("#questions li").first.inner_text() == "×40這款適合油性皮膚嗎?"  # count span + text
    page.wait_for_selector("#seg-clock.pace-red")
    assert page.locator("#seg-clock").inner_text().startswith("21:0")
    stream.write([set_op(["segment", "started_ms"], now_ms() - 17 * 60_000)])  # 17 of 15-20 min: amber
    page.wait_for_selector("#seg-clock.pace-amber")
    page.wait_for_timeout(600)  # the colour eases over 0.4 s
    assert page.evaluate("getComputedStyle(document.querySelector('#seg-clock')).color") == "rgb(255, 176, 32)"
    shot(page, "teleprompter-mirrored")  # 'h' was pressed above: mirrored for a beam-splitter glass
    page.keyboard.press("h")
    assert "mirror-h" not in page.locator("#stage").get_attribute("class")
    shot(page, "teleprompter")

    # The next segment's text replaces this one.
    stream.post("/segments/next")
    page.wait_for_function("document.querySelector('#text').textContent.includes('皮膚科')")
    assert errors == []


def test_remote_page_drives_a_teleprompter(browser, stream: Stream) -> None:  # type: ignore[no-untyped-def]
    stream.post("/segments/next")
    prompter = browser.new_page(viewport={"width": 1280, "height": 800})
    prompter.goto(stream.url("teleprompter"))
    prompter.wait_for_selector("#conn.live")
    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    errors = watch_errors(phone)
    phone.goto(stream.url("remote", "operator"))
    phone.wait_for_selector("#conn.live")
    phone.click('button[data-action="speed"][data-value="7"]')
    prompter.wait_for_function("window.teleprompter.prefs.speed === 7", timeout=5000)
    phone.click('button[data-action="toggle"]')
    prompter.wait_for_function("window.teleprompter.playing", timeout=6000)
    phone.click('button[data-action="toggle"]')
    prompter.wait_for_function("!window.teleprompter.playing", timeout=5000)
    shot(phone, "remote")
    assert errors == []


def test_overlay_widgets_clock_skew_and_text_only(browser, stream: Stream) -> None:  # type: ignore[no-untyped-def]
    stream.post("/segments/next")
    countdown = stream.post("/countdowns", {"seconds": 95, "label": "福利倒計時"}).json()
    stream.post("/pins", {"text": "<b>這款面膜適合油性皮膚嗎？</b>", "nickname": "<i>小美</i>"})
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    # This machine's clock is 10 minutes fast; the countdown must still show the server's second.
    page.add_init_script(SKEW_SCRIPT % 600_000)
    page.add_init_script("window.__raf = 0; const raf = window.requestAnimationFrame;"
                         "window.requestAnimationFrame = (f) => { window.__raf++; return raf(f); };")
    errors = watch_errors(page)
    page.goto(stream.url("overlay"))
    page.wait_for_function("window.overlay && window.overlay.client.state !== null", polling=100)
    page.wait_for_selector("#w-countdown:not(.off)")
    remaining = page.locator(".cd-time").inner_text()
    minutes, seconds = (int(x) for x in remaining.split(":"))
    expected = (countdown["ends_at"] - now_ms()) / 1000
    assert abs(minutes * 60 + seconds - expected) <= 2, (remaining, expected)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgba(0, 0, 0, 0)"
    assert page.evaluate("[document.body.scrollWidth, document.body.scrollHeight]") == [1920, 1080]
    assert page.locator(".pin-text").inner_text() == "<b>這款面膜適合油性皮膚嗎？</b>"
    assert page.locator(".pin-nick").inner_text() == "<i>小美</i>："
    assert page.locator("#w-pinned b, #w-pinned i").count() == 0

    stream.write([
        set_op(["flash_sales", "fs1"], sale(163)),
        set_op(["lotteries", "l1"], {"keyword": "想要", "prize": "免單", "winners_wanted": 3, "entrants": 321,
                                     "started_ms": now_ms(), "ends_at": now_ms() + 100_000, "status": "open",
                                     "winners": []}),
        set_op(["ticker"], [{"nickname": "<script>x</script>", "sku": "MASK-01", "qty": 2, "amount": 158,
                             "ts": now_ms()},
                            {"nickname": "阿傑", "sku": "SERUM-02", "qty": 1, "amount": 259, "ts": now_ms()}]),
    ])
    page.wait_for_selector("#w-flash_sale:not(.off)")
    page.wait_for_selector("#w-ticker:not(.off)")
    sale_text = page.locator("#w-flash_sale").inner_text()
    for piece in ("玻尿酸補水面膜", "79", "199", "買二送一", "僅剩 163 / 200", "前50名 立減50元 · 還剩 13 名"):
        assert piece in sale_text, piece
    width = page.evaluate("document.querySelector('.sale-fill').style.width")
    assert width == "81.5%"
    assert "321 人參與" in page.locator("#w-lottery").inner_text()
    assert page.locator(".ticker-list li").first.inner_text().startswith("<script>x</script>")
    page.wait_for_timeout(600)  # let the CSS transitions settle for the picture
    page.evaluate("document.body.style.background = '#3d4a5c'")  # only for the screenshot: show the layout
    shot(page, "overlay")
    page.evaluate("document.body.style.background = ''")

    # Sold out, then winners drawn.
    stream.write([set_op(["flash_sales", "fs1"], sale(0, sold_out_ms=now_ms())),
                  set_op(["lotteries", "l1", "winners"], ["小美", "阿傑", "***9527"]),
                  set_op(["lotteries", "l1", "status"], "drawn")])
    page.wait_for_selector("#w-flash_sale.sold_out")
    page.wait_for_function("document.querySelectorAll('.lot-winners li').length === 3", polling=100)
    assert "恭喜中獎" in page.locator("#w-lottery").inner_text()
    assert page.evaluate("window.__raf") == 0  # no animation-frame loop in a browser source
    assert page.evaluate("window.overlay.ticking") is True  # one timer, for the countdown's text
    before = page.locator(".cd-time").inner_text()
    page.wait_for_timeout(1200)  # also lets the sold-out stamp settle for the picture
    assert page.locator(".cd-time").inner_text() != before
    page.evaluate("document.body.style.background = '#3d4a5c'")
    shot(page, "overlay-sold-out")
    assert errors == []


def test_overlay_picks_widgets_and_idles_without_a_timer(browser, stream: Stream) -> None:  # type: ignore[no-untyped-def]
    stream.post("/pins", {"text": "滿199減30"})
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(stream.url("overlay", query="&widgets=pinned,ticker"))
    page.wait_for_selector("#w-pinned:not(.off)")
    assert page.evaluate("window.overlay.widgets") == ["pinned", "ticker"]
    assert page.locator("#w-countdown, #w-flash_sale, #w-lottery").count() == 0
    assert page.evaluate("window.overlay.ticking") is False
    stream.post("/countdowns", {"seconds": 2})
    page.wait_for_timeout(500)
    assert page.evaluate("window.overlay.ticking") is False  # countdown widget not picked: no clock runs


def test_pages_need_the_right_token(stream: Stream) -> None:
    base = f"{stream.server.base_url}/streams/{stream.id}"
    assert httpx.get(f"{base}/console").status_code == 401
    assert httpx.get(f"{base}/console", params={"token": stream.server.tokens["viewer"]}).status_code == 403
    assert httpx.get(f"{base}/remote", params={"token": stream.server.tokens["viewer"]}).status_code == 403
    assert httpx.get(f"{base}/overlay").status_code == 401
    for page in ("teleprompter", "overlay"):
        response = httpx.get(f"{base}/{page}", params={"token": stream.server.tokens["viewer"]})
        assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    missing = httpx.get(f"{stream.server.base_url}/streams/nope/teleprompter",
                        params={"token": stream.server.tokens["viewer"]})
    assert missing.status_code == 404
    # The server renders the title escaped; everything else arrives over the socket.
    console = httpx.get(f"{base}/console", params={"token": stream.server.tokens["operator"]}).text
    assert "秋冬補水專場" in console and stream.server.tokens["operator"] not in console


def test_page_rules_match_the_server_rules(browser, stream: Stream) -> None:  # type: ignore[no-untyped-def]
    """live.js applies ops and judges pacing exactly as realtime/state.py and stream/pacing.py do."""
    import random

    from livecompanion.realtime import PatchError, apply_ops, check_ops, del_op
    from livecompanion.stream.pacing import pace

    page = browser.new_page()
    page.goto(stream.url("teleprompter"))
    page.wait_for_function("window.LiveCompanion !== undefined")
    rng = random.Random(7)
    values: list[Any] = [0, 5, "文字", None, True, [], {}, [1, {"a": []}], {"k": {"m": 1}}]
    doc: dict[str, Any] = {"x": {}, "y": []}
    changes = []
    for _ in range(120):
        ops = []
        for _ in range(rng.randint(1, 3)):
            path = ["x", *rng.sample(["a", "b", "c"], rng.randint(0, 2))] if rng.random() < 0.8 else [rng.choice("xyz")]
            ops.append(set_op(path, rng.choice(values)) if rng.random() < 0.75 else del_op(path))
        try:
            doc = apply_ops(doc, check_ops(ops))
            changes.append((ops, True))
        except PatchError:
            changes.append((ops, False))
    js = page.evaluate("""(changes) => {
        let doc = {x: {}, y: []};
        for (const [ops, ok] of changes) {
            const copy = JSON.parse(JSON.stringify(doc));
            try { window.LiveCompanion.applyOps(copy, ops); if (!ok) return "should have failed"; doc = copy; }
            catch (e) { if (ok) return "failed: " + e.message; }
        }
        return doc;
    }""", changes)
    assert js == doc
    cases = [(e, lo, hi) for e in (0, 299, 300, 479, 480, 600, 601)
             for lo, hi in ((300, 600), (480, 480), (None, None))]
    got = page.evaluate("(cases) => cases.map(([e, lo, hi]) => window.LiveCompanion.pace(e, lo, hi))", cases)
    assert got == [pace(e, lo, hi) for e, lo, hi in cases]
