"""The overlay never blinks or clips, and the teleprompter reads from 2 m, in Chromium.

Overlay: winners of any count (5, 12, 30, with 20-character nicknames) stay inside the lottery card
and the page, never overlap each other or another widget (paged when they do not fit); existing
ticker rows keep full opacity when a new order comes (only the new row animates); the pin wraps to
three lines; the sold-out stamp never covers the product's name; everything goes at End.
Teleprompter: A+ scales the clock, time left, next cue, stock, questions and note with the script;
mirroring flips the whole stage, reading line included; ad-law phrases are marked in the text."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PageTimeout

from livecompanion.realtime import set_op

from .conftest import Stream, shot, watch_errors
from .test_layout import _check_layout, _lottery, _sale, _ticker

pytestmark = [pytest.mark.browser, pytest.mark.redis]

WINNER_BOXES = """() => { const card = document.querySelector('#w-lottery').getBoundingClientRect();
  return {card: {left: card.left, top: card.top, right: card.right, bottom: card.bottom},
    rows: [...document.querySelectorAll('.lot-winners li')].filter((li) => !li.hidden).map((li) => {
      const r = li.getBoundingClientRect();
      return {text: li.textContent, left: r.left, top: r.top, right: r.right, bottom: r.bottom,
              cut: li.scrollWidth > li.clientWidth + 1 || li.scrollHeight > li.clientHeight + 1}; })}; }"""


def nickname(i: int) -> str:
    return f"超級無敵可愛的小仙女第{i:03d}號粉絲們好呀"


def overlay(browser: Any, stream: Stream) -> Any:
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(stream.url("overlay"))
    return page


@pytest.mark.parametrize("count", [5, 12, 30])
def test_winners_of_any_count_fit(browser, stream: Stream, count: int) -> None:  # type: ignore[no-untyped-def]
    stream.post("/segments/next")
    stream.post("/countdowns", {"seconds": 300, "label": "倒計時"})
    stream.post("/pins", {"text": "恭喜中獎的寶寶們，私信客服領獎", "nickname": "場控"})
    names = [nickname(i) for i in range(count)]
    assert all(len(n) == 20 for n in names)
    stream.write([set_op(["flash_sales", "fs1"], _sale()), set_op(["ticker"], _ticker(5)),
                  set_op(["lotteries", "l1"], _lottery(names))])
    page = overlay(browser, stream)
    errors = watch_errors(page)
    page.wait_for_function(f"document.querySelectorAll('.lot-winners li').length === {count}")
    page.wait_for_timeout(300)
    everything = {"w-countdown", "w-flash_sale", "w-lottery", "w-ticker", "w-pinned"}
    _check_layout(page, everything)
    seen: set[str] = set()
    pages = page.evaluate("window.overlay.winnerPages.length")
    for n in range(pages):
        page.evaluate(f"window.overlay.showWinnerPage({n})")
        boxes = page.evaluate(WINNER_BOXES)
        card, rows = boxes["card"], boxes["rows"]
        assert rows, n
        for i, row in enumerate(rows):
            assert not row["cut"], row
            assert card["left"] <= row["left"] and row["right"] <= card["right"], (row, card)
            assert card["top"] <= row["top"] and row["bottom"] <= card["bottom"] + 0.5, (row, card)
            for other in rows[i + 1:]:
                assert not (row["left"] < other["right"] and other["left"] < row["right"]
                            and row["top"] < other["bottom"] and other["top"] < row["bottom"]), (row, other)
            seen.add(row["text"])
        if n == 0:
            page.evaluate("document.body.style.background = '#3d4a5c'")
            shot(page, f"overlay-winners-{count}-1920x1080")
    assert len(seen) == count  # every winner is shown, a page at a time
    assert (pages > 1) == (count > 12), pages  # 5 and 12 fit at once; 30 take turns
    # The ticker is not squeezed to nothing by the winners.
    assert page.evaluate("[...document.querySelectorAll('.ticker-list li')].filter((li) => !li.hidden).length") >= 1
    assert errors == []


def test_only_the_new_ticker_row_animates_and_old_rows_age_out(browser, stream: Stream) -> None:  # type: ignore[no-untyped-def]
    # Order times 30 s ahead: a slow (loaded) machine cannot age the rows out (45 s) mid-test.
    now = int(time.time() * 1000) + 30_000
    rows = [{"nickname": f"買家{i}", "sku": "SERUM-02", "qty": 1, "amount": 199, "ts": now - 1000 * i}
            for i in range(3)]
    stream.write([set_op(["ticker"], rows)])
    page = overlay(browser, stream)
    try:
        page.wait_for_function("document.querySelectorAll('.ticker-list li').length === 3", timeout=15_000)
    except PageTimeout:  # once in CI (not reproduced since): say what the page had, for the next look
        seen = page.evaluate("""() => ({now: window.overlay && window.overlay.client.now(), wall: Date.now(),
            ticker: window.overlay && window.overlay.client.state && window.overlay.client.state.ticker,
            rows: document.querySelectorAll('.ticker-list li').length})""")
        raise AssertionError(f"ticker rows not shown: page {seen}, server {stream.state().get('ticker')}") from None
    page.wait_for_timeout(900)  # the first rows' slide-in is over
    before = page.evaluate("[...document.querySelectorAll('.ticker-list li')].map((li) => li.textContent)")
    fresh = {"nickname": "新買家", "sku": "MASK-01", "qty": 2, "amount": 19.8, "ts": now + 5}
    stream.write([set_op(["ticker"], [fresh, *rows])])
    page.wait_for_function("document.querySelectorAll('.ticker-list li').length === 4")
    page.wait_for_timeout(150)  # mid-animation of the new row
    seen = page.evaluate("""() => [...document.querySelectorAll('.ticker-list li')].map((li) => (
        {text: li.textContent, opacity: Number(getComputedStyle(li).opacity),
         enter: li.classList.contains('enter')}))""")
    old = [r for r in seen if r["text"] in before]
    new = [r for r in seen if r["text"] not in before]
    assert len(old) == 3 and all(r["opacity"] >= 0.99 and not r["enter"] for r in old), seen
    assert len(new) == 1 and new[0]["enter"] and "新買家" in new[0]["text"]
    # Rows older than 45 s age out.
    old = {"nickname": "很久以前", "sku": "MASK-01", "qty": 1, "amount": 9.9, "ts": now - 120_000}
    stream.write([set_op(["ticker"], [old])])
    page.wait_for_function("document.querySelector('#w-ticker').classList.contains('off')")


def test_pin_wraps_stamp_clear_of_the_name_and_all_clear_at_end(browser, stream: Stream) -> None:  # type: ignore[no-untyped-def]
    stream.post("/segments/next")
    question = ("請問這款面膜敏感肌可以用嗎？我之前用別家的會泛紅，"
                "孕婦哺乳期能不能用，還有保質期多久，開封後要多久用完呢")
    stream.post("/pins", {"text": question, "nickname": "小美"})
    long_name = "玻尿酸補水面膜 5片裝 秋冬限定加量版 再送化妝棉與收納袋"
    stream.write([set_op(["flash_sales", "fs1"], {**_sale(), "name": long_name, "remaining": 0, "status": "sold_out",
                                                   "sold_out_ms": int(time.time() * 1000)}),
                  set_op(["ticker"], _ticker(3))])
    page = overlay(browser, stream)
    page.wait_for_selector("#w-pinned:not(.off)")
    page.wait_for_selector("#w-flash_sale.sold_out:not(.off)")
    page.wait_for_timeout(500)
    pin = page.evaluate("""() => { const t = document.querySelector('.pin-text');
        const lh = parseFloat(getComputedStyle(t).lineHeight);
        return {lines: Math.round(t.clientHeight / lh), cut: t.scrollHeight > t.clientHeight + 1}; }""")
    assert 2 <= pin["lines"] <= 3 and not pin["cut"], pin
    boxes = page.evaluate("""() => ['.sale-name', '.sale-soldout'].map((s) => {
        const r = document.querySelector(s).getBoundingClientRect();
        return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; })""")
    name, stamp = boxes
    assert name["bottom"] - name["top"] > 60  # the name takes two lines
    assert stamp["bottom"] <= name["top"] or stamp["top"] >= name["bottom"], boxes  # never on the name
    page.evaluate("document.body.style.background = '#3d4a5c'")
    shot(page, "overlay-soldout-pin-1920x1080")
    stream.post("/end")
    page.wait_for_function("[...document.querySelectorAll('.widget')].every((w) => w.classList.contains('off'))")


FLAGGED_SCRIPT = """title: 廣告法測試
host: 小林
products:
  - {sku: MASK-01, name: 玻尿酸補水面膜, list_price: 199, live_price: 99}
segments:
  - id: close
    kind: closing
    target: 10m
    product: MASK-01
    text: |
      這是全網最低價，效果最好的面膜！

      庫存只有 200 份，扣 1 的寶寶準備好。
    cues:
      - {at: 1m, action: flash_sale, sku: MASK-01, price: 79, stock: 200, duration: 5m}
  - id: wrap
    kind: wrapup
    target: 5m
    text: 謝謝大家，明天見。
"""


def test_teleprompter_scales_mirrors_and_marks(browser, live_server, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    import httpx

    created = httpx.post(f"{live_server.base_url}/api/streams", content=FLAGGED_SCRIPT.encode(),
                         headers={**live_server.headers("operator"), "Content-Type": "application/yaml"})
    assert created.status_code == 201, created.text
    stream = Stream.__new__(Stream)
    stream.server, stream.redis_url, stream.id = live_server, redis_url, created.json()["id"]
    stream.state()
    stream.post("/segments/next")
    stream.post("/notes", {"text": "講一下贈品"})
    stream.write([set_op(["flash_sales", "fs1"], _sale()),
                  set_op(["questions"], [{"text": "孕婦可以用嗎", "count": 40, "key": "k1", "last": 1}])])
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors = watch_errors(page)
    page.goto(stream.url("teleprompter"))
    page.wait_for_selector("#conn.live")
    page.wait_for_function("document.querySelector('#note').textContent.includes('講一下贈品')")
    sizes = """() => Object.fromEntries(
        ['#seg-clock', '#seg-left', '#cue', '#stock', '#questions li', '#note', '#text p']
        .map((s) => [s, parseFloat(getComputedStyle(document.querySelector(s)).fontSize)]))"""
    small = page.evaluate(sizes)
    assert page.locator("#seg-left").inner_text().startswith("剩 ")
    for _ in range(4):
        page.click("#b-bigger")
    big = page.evaluate(sizes)
    for selector, size in small.items():
        assert big[selector] > size * 1.3, (selector, size, big[selector])  # everything grows with A+
    assert small["#questions li"] >= 24 and small["#cue"] >= 24  # readable at 2 m before any A+
    # The ad-law lint's hits are marked where the host reads them.
    marks = page.locator("#text mark.adlaw")
    assert marks.count() >= 1, page.locator("#text").inner_text()
    # Mirroring flips the whole stage, reading line and header included.
    page.keyboard.press("v")
    flipped = page.evaluate("""() => ['.tp-top', '.reading-line', '.tp-side'].map((s) => {
        let n = document.querySelector(s), t = '';
        while (n) { const m = getComputedStyle(n).transform; if (m && m !== 'none') t = m; n = n.parentElement; }
        return t; })""")
    assert all(t.startswith("matrix(1, 0, 0, -1") for t in flipped), flipped
    shot(page, "teleprompter-mirrored-1280x800")
    assert "下一段預告" in page.locator("#text .preview").inner_text()  # the next segment, previewed
    assert errors == []
    stream.drop()
