"""The console's OBS section in Chromium, against a real server and a real OBS (1440x900, as operators use it).

Screenshots go to $LIVECOMPANION_SCREENSHOTS (default /tmp/livecompanion-screenshots).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import EXAMPLE_SCRIPT, ServerProcess
from tests.pages.conftest import browser, run_async, shot, watch_errors  # noqa: F401 - `browser` is a fixture

from .conftest import OVERLAY, program_scene
from .obs_studio import ObsStudio

pytestmark = [pytest.mark.obs, pytest.mark.browser]

OBS_SECTION = """
obs:
  address: {address}
  password_env: SHOW_OBS_PASSWORD
  overlay_source: {overlay}
  scenes:
    opening: 開場全景
    product: 產品特寫
    value: 產品特寫
    closing: 促單雙機位
  cues:
    flash_sale: 秒殺倒數
  end: 下播畫面
"""


def test_console_shows_scenes_and_switches_obs(browser: Any, obs_server: ServerProcess,  # noqa: F811
                                               obs_studio: ObsStudio) -> None:
    text = EXAMPLE_SCRIPT.read_text("utf-8") + OBS_SECTION.format(address=obs_studio.address,
                                                                  overlay=f'"{OVERLAY}"')
    created = httpx.post(f"{obs_server.base_url}/api/streams", content=text.encode(),
                         headers=obs_server.headers("operator"))
    assert created.status_code == 201, created.text
    stream_id = created.json()["id"]
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    errors = watch_errors(page)
    page.goto(f"{obs_server.base_url}/streams/{stream_id}/console?token={obs_server.tokens['operator']}")
    panel = page.locator("#obs-panel")
    panel.locator(".obs-status.connected").wait_for(timeout=15_000)
    assert panel.locator(".obs-live").inner_text() == "開場全景"  # what OBS has on program

    rows = page.locator("#runsheet > li[data-index]")
    names = [rows.nth(i).locator(".obs-name").inner_text() for i in range(rows.count())]
    assert names == ["開場全景", "產品特寫", "產品特寫", "促單雙機位", "產品特寫", "促單雙機位", "（不切換 no scene）"]
    assert not rows.nth(6).locator(".obs-switch").is_visible()  # nothing to switch to

    page.click("#next")  # go live: OBS follows
    page.locator("#runsheet > li.live .obs-scene.on-air").wait_for()
    page.click("#next")
    panel.locator(".obs-wanted.ok", has_text="產品特寫 (segment mask-intro) ✓").wait_for()
    assert run_async(lambda: program_scene(obs_studio)) == "產品特寫"

    rows.nth(3).locator(".obs-switch").click()  # "switch now" on mask-close, while mask-intro is live
    page.wait_for_function("document.querySelector('#obs-panel .obs-live').textContent === '促單雙機位'")
    assert run_async(lambda: program_scene(obs_studio)) == "促單雙機位"

    page.click(".obs-refresh")
    refreshed = panel.locator(".obs-refreshed")
    page.wait_for_function("document.querySelector('#obs-panel .obs-refreshed').textContent.includes('✗')")
    assert "Unable to find a property by that name" in refreshed.inner_text()  # OBS's own words (see test_obs_live)
    shot(page, "console-obs")

    obs_studio.kill()
    page.locator(".obs-status.disconnected").wait_for(timeout=10_000)
    page.click("#next")  # the show goes on: the console moves, the switch waits for OBS
    page.locator(".obs-wanted.pending").wait_for()
    assert "等待 OBS waiting for OBS" in panel.locator(".obs-wanted").inner_text()
    shot(page, "console-obs-disconnected")
    obs_studio.start()
    page.locator(".obs-status.connected").wait_for(timeout=20_000)
    panel.locator(".obs-wanted.ok", has_text="(segment mask-value) ✓").wait_for()
    assert run_async(lambda: program_scene(obs_studio)) == "產品特寫"  # mask-value's scene, asked while OBS was away
    assert errors == []
