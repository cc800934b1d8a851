"""`livecompanion demo` as a newcomer runs it: a real process, its printed URLs, the show moving, Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from livecompanion.storage.db import Database
from livecompanion.storage.streams import list_streams
from tests.conftest import ROOT, free_port

RUN_SECONDS = 20


def test_demo_plays_the_show_through_the_api_and_stops_cleanly_on_ctrl_c(tmp_path: Path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVECOMPANION_")}
    env.update({"LIVECOMPANION_DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"})
    process = subprocess.Popen(
        [sys.executable, "-m", "livecompanion", "demo", "--speed", "120", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        urls = _printed_urls(lines, process)
        assert set(urls) >= {"console", "teleprompter", "overlay", "dashboard"}
        match = re.match(rf"http://127\.0\.0\.1:{port}/streams/(\w+)/dashboard\?token=(\S+)$", urls["dashboard"])
        assert match, urls["dashboard"]
        stream_id, viewer_token = match.groups()
        api = f"http://127.0.0.1:{port}/api/streams/{stream_id}"
        for page in urls.values():  # every printed URL opens
            assert httpx.get(page, timeout=10).status_code == 200, page

        deadline = time.monotonic() + RUN_SECONDS
        while time.monotonic() < deadline:
            time.sleep(1)
            assert process.poll() is None, "".join(lines)
        state = httpx.get(api, params={"token": viewer_token}, timeout=10).json()["state"]
        sales = httpx.get(f"{api}/flash-sales", params={"token": viewer_token}, timeout=10)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            code = process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        reader.join(5)
    output = "".join(lines)

    # 20 s at 120x is 40 minutes of show: past the mask's flash sale, into the serum.
    assert state["stream"]["status"] == "live", state["stream"]
    assert state["segment"]["index"] >= 3, state["segment"]
    assert state["metrics"]["viewers"] > 100
    assert state["metrics"]["orders"] > 0
    assert state["questions"], "no questions reached the host"
    assert state["pinned"] and state["pinned"]["text"]
    accepted = [int(n.replace(",", "")) for n in re.findall(r"events ([\d,]+) accepted", output)]
    assert accepted and accepted[-1] > 10_000, output
    assert set(re.findall(r"\(([\d,]+) rejected\)", output)) == {"0"}, output
    assert sales.status_code == 200
    mask = next(s for s in sales.json() if s["sku"] == "MASK-01")
    assert mask["sold"] > 100  # the 9.9 mask sells out in under a minute of show
    assert "MASK-01 flash sale over" in output

    assert code == 0, output
    assert "Traceback" not in output, output
    assert "Stopped; the stream is ended and kept" in output

    # The stream is ended and kept: a later `serve` on the same data shows it.
    assert (stream_id, "ended") in asyncio.run(_streams(tmp_path / "data" / "livecompanion.sqlite3"))


async def _streams(path: Path) -> list[tuple[str, str]]:
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        return [(s.id, s.status) for s in await list_streams(db)]
    finally:
        await db.dispose()


def _printed_urls(lines: list[str], process: subprocess.Popen) -> dict[str, str]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        urls = dict(re.findall(r"^\s+(console|teleprompter|overlay|dashboard):\s+(\S+)$", "".join(lines), re.MULTILINE))
        if len(urls) == 4:
            return urls
        if process.poll() is not None:
            raise AssertionError("the demo exited before printing its URLs:\n" + "".join(lines))
        time.sleep(0.1)
    raise AssertionError("the demo printed no URLs in 60 s:\n" + "".join(lines))
