"""Screenshots of a running demo: console, teleprompter, overlay and dashboard, into docs/screenshots/.

    .venv/bin/python scripts/screenshots.py [--speed 40] [--out docs/screenshots] [--chromium /usr/bin/chromium]
                                            [--sizes DIR]

Starts `livecompanion demo` on a free port with its own data directory, opens the live pages in
headless Chromium (Playwright), waits for the first flash sale to be selling (the busiest moment:
sale card with its stock bar, pinned comment, order ticker, questions), and shoots overlay (1920x1080,
over a dark checkerboard so its transparency shows), console and teleprompter (1600x900); then the
overlay again when a lottery's winners are drawn (overlay-lottery.png). When the show is over it shoots
the dashboard (dashboard.png 1600x900, dashboard-full.png the whole page), stops the demo with Ctrl-C,
and prints the files it wrote. Exit 0 when every shot was taken.

With `--sizes DIR`, at the busy moment it also shoots the console, teleprompter and home page at
1440x900, 1366x768, 1280x800 and 800x1280, and the phone remote at those and 390x844, into DIR as
PAGE-WxH.png (the sizes people use: laptops, a portrait tablet, a phone).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PAGE_SIZE = {"width": 1600, "height": 900}
OVERLAY_SIZE = {"width": 1920, "height": 1080}
CHECKERBOARD = """
html { background: repeating-conic-gradient(#2b2b2b 0% 25%, #3a3a3a 0% 50%) 50% / 48px 48px !important; }
"""
SIZES = [(1440, 900), (1366, 768), (1280, 800), (800, 1280)]
PHONE = (390, 844)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Demo:
    """`livecompanion demo` in a child process, with known tokens and a throwaway data directory."""

    def __init__(self, speed: float, data_dir: Path) -> None:
        self.port = free_port()
        self.tokens = {role: f"{role}-{secrets.token_hex(6)}" for role in ("operator", "ingest", "viewer")}
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIVECOMPANION_")}
        env.update({f"LIVECOMPANION_{role.upper()}_TOKEN": token for role, token in self.tokens.items()})
        env.update({"LIVECOMPANION_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "livecompanion", "demo", "--speed", str(speed), "--port", str(self.port)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.urls = self._wait_for_urls()
        self.stream_id = re.search(r"/streams/(\w+)/", self.urls["console"]).group(1)  # type: ignore[union-attr]

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            print("  demo | " + line, end="", flush=True)

    def _wait_for_urls(self) -> dict[str, str]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            urls = dict(re.findall(r"^\s+(console|teleprompter|overlay|dashboard|remote|streams):\s+(\S+)$",
                                   "".join(self.lines), re.MULTILINE))
            if len(urls) == 6:
                return urls
            if self.process.poll() is not None:
                raise SystemExit("the demo exited before printing its URLs")
            time.sleep(0.1)
        raise SystemExit("the demo printed no URLs in 60 s")

    def state(self) -> dict:
        response = httpx.get(f"http://127.0.0.1:{self.port}/api/streams/{self.stream_id}",
                             params={"token": self.tokens["viewer"]}, timeout=10)
        response.raise_for_status()
        return response.json()["state"]

    def wait_for(self, what: str, ok, timeout: float) -> dict:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the demo stopped while waiting for {what}")
            state = self.state()
            if ok(state):
                return state
            time.sleep(0.1)
        raise SystemExit(f"no {what} within {timeout:.0f} s")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return -9


def sale_selling(state: dict) -> bool:
    """A flash sale that has sold some and still has a fifth of its stock: the stock bar mid-way."""
    now = int(time.time() * 1000)
    return any(s.get("sold", 0) > 0 and s.get("remaining", 0) >= 0.2 * s.get("stock", 1)
               and s.get("ends_at", 0) > now + 300 for s in (state.get("flash_sales") or {}).values())


def lottery_drawn(state: dict) -> bool:
    return any(lot.get("status") == "drawn" and lot.get("winners") for lot in (state.get("lotteries") or {}).values())


def shoot_sizes(browser, demo: Demo, out: Path) -> list[Path]:  # type: ignore[no-untyped-def]
    out.mkdir(parents=True, exist_ok=True)
    written = []
    urls = {"console": demo.urls["console"], "teleprompter": demo.urls["teleprompter"],
            "remote": demo.urls["remote"], "home": demo.urls["streams"]}
    for name, url in urls.items():
        for width, height in SIZES + ([PHONE] if name == "remote" else []):
            page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
            page.goto(url, wait_until="networkidle")
            time.sleep(0.8)  # the socket's snapshot, the chat feed's first poll
            written.append(out / f"{name}-{width}x{height}.png")
            page.screenshot(path=str(written[-1]))
            page.close()
    return written


def take(out: Path, speed: float, chromium: str, sizes: Path | None = None) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as data:
        demo = Demo(speed, Path(data))
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                pages = {}
                for name in ("console", "teleprompter", "overlay"):
                    size = OVERLAY_SIZE if name == "overlay" else PAGE_SIZE
                    page = browser.new_page(viewport=size, device_scale_factor=1)
                    page.goto(demo.urls[name], wait_until="networkidle")
                    if name == "overlay":
                        page.add_style_tag(content=CHECKERBOARD)
                    pages[name] = page
                demo.wait_for("a flash sale selling", sale_selling, timeout=600)
                time.sleep(0.2)  # let the sockets' latest frames paint
                for name in ("overlay", "console", "teleprompter"):  # the overlay first: the sale moves fast
                    written.append(out / f"{name}.png")
                    pages[name].screenshot(path=str(written[-1]))
                if sizes is not None:
                    written += shoot_sizes(browser, demo, sizes)
                demo.wait_for("a lottery's winners", lottery_drawn, timeout=900)
                time.sleep(0.5)
                written.append(out / "overlay-lottery.png")
                pages["overlay"].screenshot(path=str(written[-1]))
                demo.wait_for("the end of the show", lambda s: s["stream"]["status"] == "ended", timeout=900)
                page = browser.new_page(viewport=PAGE_SIZE, device_scale_factor=1)
                page.goto(demo.urls["dashboard"], wait_until="networkidle", timeout=120_000)
                time.sleep(1.0)  # charts draw after load
                written.append(out / "dashboard.png")
                page.screenshot(path=str(written[-1]))
                written.append(out / "dashboard-full.png")
                page.screenshot(path=str(written[-1]), full_page=True)
                browser.close()
        finally:
            code = demo.stop()
            if code != 0:
                print(f"the demo exited with {code}", file=sys.stderr)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speed", type=float, default=40.0, help="demo speed (the show lasts 2h / speed)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--sizes", type=Path, default=None, help="also shoot every page at the sizes people use, here")
    args = parser.parse_args()
    for path in take(args.out, args.speed, args.chromium, args.sizes):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
