"""Screenshots of the multi-room wall (`/wall`) with several rooms on air, into docs/img/.

    .venv/bin/python scripts/screenshot_wall.py [--rooms 8] [--out docs/img] [--sizes]

Starts `livecompanion serve` (SQLite, a data directory of its own) on a free port, makes `--rooms`
rooms of the example script under other titles and puts them on air at different segments, posts
to each an online count, comments and paid orders through the ingest API, runs a flash sale in
some (one claimed down to 5% of its stock: the service raises its stock-low alert) and a 35% fall
of the online count in one (the service's error alert), then shoots `/wall` in headless Chromium
at 1920x1080 as wall.png; with `--sizes` also at 1440x900, 1366x768 and 1024x768 (wall-WxH.png).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import EXAMPLE_SCRIPT, start_server  # noqa: E402

TITLES = ["秋冬補水專場", "小林的美妝夜", "新品首發・精華液", "週末清倉特賣", "家居好物推薦", "零食大禮包",
          "男士護膚專場", "母嬰好物", "戶外運動季", "茶葉品鑑", "珠寶鑑賞", "寵物用品"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rooms", type=int, default=8)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--sizes", action="store_true")
    args = parser.parse_args()
    rng = random.Random(2026)
    server = start_server(Path(tempfile.mkdtemp(prefix="wall-shots-")))
    op, ingest = server.headers("operator"), server.headers("ingest")
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            for i in range(args.rooms):
                script = EXAMPLE_SCRIPT.read_text(encoding="utf-8").replace(
                    "title: 秋冬補水專場", f"title: {TITLES[i % len(TITLES)]}", 1)
                room = http.post("/api/streams", content=script.encode(),
                                 headers={**op, "Content-Type": "application/yaml"}).json()["id"]
                for _ in range(1 + i % 3):
                    http.post(f"/api/streams/{room}/segments/next", headers=op)
                now = int(time.time() * 1000)
                online = rng.randrange(1500, 48000)
                events: list[dict[str, object]] = [{"type": "viewer_count", "count": online}]
                if i == 2:  # a 35% fall within 40 s: the service's viewers_drop alert (error)
                    events = [{"type": "viewer_count", "count": online, "ts": now - 40_000},
                              {"type": "viewer_count", "count": int(online * 0.65), "ts": now}]
                events += [{"type": "comment", "user_id": f"v{j}", "text": rng.choice(["想要", "扣1", "好看", "來了"])}
                           for j in range(rng.randrange(20, 260))]
                events += [{"type": "order", "user_id": f"b{j}", "order_id": f"o{i}-{j}", "sku": "MASK-01",
                            "qty": 1, "amount": 99, "status": "paid"} for j in range(rng.randrange(10, 420))]
                http.post(f"/api/streams/{room}/events", json=events, headers=ingest).raise_for_status()
                if i % 3 != 1:
                    sale = http.post(f"/api/streams/{room}/flash-sales", headers=op, json={
                        "sku": "MASK-01", "price": 79, "stock": 200, "duration_seconds": 300, "per_user_limit": 200,
                    }).json()["id"]
                    qty = 190 if i == 0 else rng.randrange(20, 150)
                    http.post(f"/api/streams/{room}/flash-sales/{sale}/claims", headers=ingest,
                              json={"user_id": "buyer", "qty": qty}).raise_for_status()
        time.sleep(2)  # the alerts' watch loop looks every 0.25 s; the live numbers go twice a second

        from playwright.sync_api import sync_playwright

        args.out.mkdir(parents=True, exist_ok=True)
        sizes = [(1920, 1080)] + ([(1440, 900), (1366, 768), (1024, 768)] if args.sizes else [])
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium,
                                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(f"{server.base_url}/wall?token={server.tokens['viewer']}")
            page.wait_for_function(f"document.querySelectorAll('.room:not(.hidden)').length === {args.rooms}",
                                   timeout=15000)
            page.wait_for_timeout(1500)
            for width, height in sizes:
                page.set_viewport_size({"width": width, "height": height})
                page.wait_for_timeout(400)
                name = "wall.png" if (width, height) == (1920, 1080) else f"wall-{width}x{height}.png"
                page.screenshot(path=str(args.out / name))
                print(args.out / name)
            browser.close()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
