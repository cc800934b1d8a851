"""Layout in Debian Chromium: overlay widgets never overlap, the console's running card keeps its
figures whole, times of day are 24-hour, and every page's fonts include a colour emoji font."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from livecompanion.realtime import set_op

from .conftest import Stream, shot, watch_errors

pytestmark = [pytest.mark.browser, pytest.mark.redis]

# Boxes of the widgets that show (faded-in, in the layout), relative to the page.
VISIBLE_BOXES = """() => [...document.querySelectorAll('.widget')]
  .filter((w) => !w.classList.contains('off') && !w.classList.contains('gone') && !w.hidden)
  .map((w) => { const r = w.getBoundingClientRect();
                return {id: w.id, left: r.left, top: r.top, right: r.right, bottom: r.bottom}; })"""
# Ticker rows that show, each with its box, and the ticker's own box.
TICKER_ROWS = """() => { const t = document.querySelector('#w-ticker').getBoundingClientRect();
  return {box: {top: t.top, bottom: t.bottom},
          rows: [...document.querySelectorAll('.ticker-list li')].filter((li) => !li.hidden)
            .map((li) => { const r = li.getBoundingClientRect(); return {top: r.top, bottom: r.bottom}; })}; }"""


def now_ms() -> int:
    return int(time.time() * 1000)


def _sale() -> dict[str, Any]:
    now = now_ms()
    return {"sku": "MASK-01", "name": "玻尿酸補水面膜 5片裝", "price": 9.9, "list_price": 89, "stock": 150,
            "remaining": 86, "first_n": 50, "first_n_bonus": "加贈試用 2 片", "first_n_left": 12,
            "benefits": ["直播間專享價", "下單送同款試用 2 片"], "started_ms": now, "ends_at": now + 240_000,
            "status": "live"}


def _lottery(winners: list[str], keyword: str = "想要", prize: str = "精華免單") -> dict[str, Any]:
    now = now_ms()
    return {"keyword": keyword, "prize": prize, "winners_wanted": len(winners), "entrants": 321,
            "started_ms": now - 60_000, "ends_at": now - 1_000, "drawn_ms": now - 500, "status": "drawn",
            "winners": winners}


def _ticker(n: int) -> list[dict[str, Any]]:
    return [{"nickname": f"買家{i}🌸", "sku": "SERUM-02", "qty": 1 + i % 2, "amount": 199, "ts": now_ms() - i}
            for i in range(n)]


def _overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


def _check_layout(page: Any, expected: set[str]) -> list[dict[str, float]]:
    page.wait_for_timeout(700)  # fades and the leaving widgets' exit from the layout
    boxes = page.evaluate(VISIBLE_BOXES)
    assert {b["id"] for b in boxes} == expected
    for i, a in enumerate(boxes):
        assert a["left"] >= 0 and a["top"] >= 0 and a["right"] <= 1920 and a["bottom"] <= 1080, a
        for b in boxes[i + 1:]:
            assert not _overlaps(a, b), (a, b)
    ticker = page.evaluate(TICKER_ROWS)
    for row in ticker["rows"]:  # whole rows only: none cut off at the ticker's edge
        assert ticker["box"]["top"] - 0.5 <= row["top"] and row["bottom"] <= ticker["box"]["bottom"] + 0.5, ticker
    return ticker["rows"]


def test_overlay_widgets_never_overlap(browser, stream: Stream) -> None:  # type: ignore[no-untyped-def]
    stream.post("/segments/next")
    stream.post("/countdowns", {"seconds": 300, "label": "面膜秒殺倒計時"})
    stream.post("/pins", {"text": "精華搭配面膜一起用，補水更持久", "nickname": "場控"})
    stream.write([
        set_op(["flash_sales", "fs1"], _sale()),
        set_op(["lotteries", "l1"], _lottery(["追光的糖糖的日常", "快樂的小雨520", "阿曉雯"])),
        set_op(["ticker"], _ticker(5)),
    ])
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    errors = watch_errors(page)
    page.goto(stream.url("overlay"))
    everything = {"w-countdown", "w-flash_sale", "w-lottery", "w-ticker", "w-pinned"}
    for widget in everything:
        page.wait_for_selector(f"#{widget}:not(.off)")
    page.wait_for_function("document.querySelectorAll('.lot-winners li').length === 3")
    rows = _check_layout(page, everything)
    assert len(rows) == 5  # sale + lottery of 3 + ticker of 5 + pin + countdown: all of it fits
    page.evaluate("document.body.style.background = '#3d4a5c'")
    shot(page, "overlay-layout")
    page.evaluate("document.body.style.background = ''")

    # A crowded right column: ten winners and a long keyword. The ticker gives way, row by row.
    stream.write([set_op(["lotteries", "l1"], _lottery([f"幸運觀眾第{i}號的暱稱" for i in range(10)],
                                                       keyword="評論想要想要想要抽大獎", prize="全套精華免單"))])
    page.wait_for_function("document.querySelectorAll('.lot-winners li').length === 10")
    crowded = _check_layout(page, everything)
    assert 0 < len(crowded) < 5

    # The countdown ends early (cancelled): the lottery moves up and the ticker gets its rows back.
    countdown_id = next(iter(stream.state()["countdowns"]))
    stream.post(f"/countdowns/{countdown_id}", method="DELETE")
    page.wait_for_selector("#w-countdown.gone", state="attached")
    roomier = _check_layout(page, everything - {"w-countdown"})
    assert len(roomier) > len(crowded)
    assert errors == []


def test_overlay_layout_with_some_widgets_picked(browser, stream: Stream) -> None:  # type: ignore[no-untyped-def]
    stream.post("/countdowns", {"seconds": 300, "label": "倒計時"})
    stream.write([set_op(["lotteries", "l1"], _lottery(["甲", "乙", "丙"])), set_op(["ticker"], _ticker(5)),
                  set_op(["flash_sales", "fs1"], _sale())])
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    for picked in ("lottery,ticker", "countdown,ticker", "flash_sale,ticker,countdown"):
        page.goto(stream.url("overlay", query=f"&widgets={picked}"))
        expected = {f"w-{name}" for name in picked.split(",")}
        for widget in expected:
            page.wait_for_selector(f"#{widget}:not(.off)")
        assert len(_check_layout(page, expected)) == 5


def test_console_running_card_keeps_price_stock_and_time(browser, stream: Stream) -> None:  # type: ignore[no-untyped-def]
    stream.post("/segments/next")
    long_name = "玻尿酸補水面膜 5片裝 秋冬限定加量版 再送化妝棉與收納袋"
    stream.write([set_op(["flash_sales", "fs1"], {**_sale(), "name": long_name})])
    for width in (1600, 1280, 1100):
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(stream.url("console", "operator"))
        page.wait_for_selector("#running li.sale")
        parts = page.evaluate("""() => { const li = document.querySelector('#running li.sale');
          const box = li.getBoundingClientRect();
          return [...li.children].map((c) => { const r = c.getBoundingClientRect();
            return {cls: c.className, text: c.textContent, cut: c.scrollWidth > c.clientWidth + 1,
                    inside: r.left >= box.left - 0.5 && r.right <= box.right + 0.5}; }); }""")
        by_class = {p["cls"]: p for p in parts}
        assert by_class["price"]["text"] == "¥9.90"
        assert by_class["left"]["text"] == "剩 86/150"
        assert re.fullmatch(r"[34]:\d\d", by_class["remaining"]["text"]), by_class["remaining"]
        for part in parts:
            assert part["inside"], (width, part)
            if part["cls"] != "name":
                assert not part["cut"], (width, part)  # only the name may end in …
        assert by_class["name"]["text"].startswith("⚡ 玻尿酸")
        if width == 1600:
            shot(page, "console-running")
            # Sold out: the card says so, and no clock keeps counting down the sale's old end.
            stream.write([set_op(["flash_sales", "fs1", "remaining"], 0),
                          set_op(["flash_sales", "fs1", "status"], "sold_out")])
            page.wait_for_selector("#running li.sale.sold_out")
            page.wait_for_timeout(1100)  # a tick of the console's clock
            assert page.locator("#running li.sale .remaining").count() == 0
            assert "售罄" in page.locator("#running li.sale").inner_text()
            assert page.locator("#running li.sale button").count() == 0  # nothing left to stop
            stream.write([set_op(["flash_sales", "fs1"], {**_sale(), "name": long_name})])
        page.close()


def test_fired_cue_shows_a_24_hour_time(browser, stream: Stream) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="en-US", timezone_id="Asia/Shanghai")
    page.goto(stream.url("console", "operator"))
    page.wait_for_selector("#conn.live")
    page.click("#next")
    page.wait_for_function("document.querySelector('#seg-title').textContent.includes('開場')")
    page.locator('li.cue[data-key="open/0"] button.fire').click()
    page.wait_for_selector('li.cue.fired[data-key="open/0"]')
    status = page.locator('li.cue[data-key="open/0"] .cue-status').inner_text()
    fired_ms = stream.state()["cues"]["open/0"]["fired_ms"]
    expected = time.strftime("%H:%M:%S", time.gmtime(fired_ms / 1000 + 8 * 3600))  # Shanghai, UTC+8
    assert status == f"✓ {expected}", status  # never "✓ 2:06:54 PM"


@pytest.mark.parametrize("page_name,role", [("console", "operator"), ("teleprompter", "viewer"),
                                            ("remote", "operator"), ("overlay", "viewer"),
                                            ("dashboard", "viewer")])
def test_every_page_has_a_colour_emoji_font(browser, stream: Stream, page_name: str, role: str) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    page.goto(stream.url(page_name, role))
    family = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert '"Noto Color Emoji"' in family or "'Noto Color Emoji'" in family, family
    page.close()
