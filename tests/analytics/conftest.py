"""Headless Debian Chromium for the dashboard tests (marked `browser`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unavailable

CHROMIUM = os.environ.get("LIVECOMPANION_TEST_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("LIVECOMPANION_SCREENSHOTS", "/tmp/livecompanion-screenshots"))


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    # Module scope: Playwright's sync API holds an event loop on this thread while it runs, and
    # tests of other modules that call asyncio.run() must not find it there.
    if not Path(CHROMIUM).exists():
        unavailable("Chromium", f"{CHROMIUM} does not exist")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield browser
        browser.close()
