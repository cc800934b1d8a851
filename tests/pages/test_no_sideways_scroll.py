"""Issue 13 item 10: no page scrolls sideways at the sizes people use (a laptop at 1366x768 and
1024x768, a tablet upright, a phone). Screenshots of each go to LIVECOMPANION_SCREENSHOTS."""

from __future__ import annotations

import pytest

from tests.pages.conftest import Stream, shot

SIZES = [(1366, 768), (1024, 768), (768, 1024), (390, 844)]
PAGES = [("console", "operator"), ("teleprompter", "viewer"), ("dashboard", "viewer"), ("home", "operator")]
LONG = "超長留言" + "x" * 180  # an unbroken string, as a chat message or nickname can be

WIDE = """() => {
  const width = innerWidth, out = [];
  for (const node of document.querySelectorAll('body *')) {
    const box = node.getBoundingClientRect();
    if (box.width && box.right > width + 1 && getComputedStyle(node).position !== 'fixed')
      out.push((node.id ? '#' + node.id : node.tagName.toLowerCase() + '.' + node.className)
               + ' ' + Math.round(box.right));
  }
  return {scroll: document.documentElement.scrollWidth, width, out: out.slice(0, 8)};
}"""


@pytest.mark.parametrize(("width", "height"), SIZES)
@pytest.mark.parametrize(("page_name", "role"), PAGES)
def test_no_page_scrolls_sideways(browser, stream: Stream, page_name: str, role: str, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    # Something in each panel, long words included: the worst case for a width.
    stream.post("/segments/next")
    stream.post("/pins", {"text": LONG, "nickname": "n" * 60})
    stream.post("/flash-sales", {"sku": "MASK-01", "price": 99, "stock": 50, "duration_seconds": 600})
    page = browser.new_page(viewport={"width": width, "height": height})
    token = stream.server.tokens[role]
    if page_name == "home":
        page.goto(f"{stream.server.base_url}/?token={token}")
    else:
        page.goto(stream.url(page_name, role))
    if page_name in ("console", "teleprompter"):
        page.wait_for_selector("#conn.live")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    found = page.evaluate(WIDE)
    shot(page, f"fit-{page_name}-{width}x{height}")
    assert found["scroll"] <= found["width"], found
    page.close()
