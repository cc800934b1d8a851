"""The show player against a real server: every cue through its fire endpoint (scaled when faster),
claims before orders, at 1x and faster."""

from __future__ import annotations

import httpx
import pytest

from livecompanion.clock import now_ms
from livecompanion.demo.show import ShowPlayer
from livecompanion.demo.simulator import Simulator
from livecompanion.scripts import check_text

SHORT_SHOW = """
title: 快閃測試
products:
  - {sku: MASK-01, name: 補水面膜, list_price: 89, live_price: 29.9}
segments:
  - id: open
    kind: opening
    target: 3s
    cues:
      - {at: 1s, action: countdown, seconds: 2, label: 開播}
      - {at: 1s, action: pin, text: 評論想要抽免單, nickname: 小林}
      - {at: 2s, action: note, text: 提醒關注}
  - id: sale
    kind: closing
    target: 5s
    product: MASK-01
    cues:
      - {at: 1s, action: flash_sale, sku: MASK-01, price: 9.9, stock: 20, duration: 3s, per_user_limit: 1}
      - {at: 1s, action: lottery, keyword: 想要, winners: 2, duration: 3s, prize: 免單}
"""


@pytest.mark.parametrize("speed", [1.0, 2.0])
async def test_player_runs_every_cue_and_sells_only_claimed_stock(server, speed):
    lines: list[str] = []
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        made = await client.post("/api/streams", content=SHORT_SHOW.encode(),
                                 headers={**server.headers("operator"), "Content-Type": "application/yaml"})
        assert made.status_code == 201, made.text
        stream_id = made.json()["id"]
        script = check_text(SHORT_SHOW.encode(), "short").script
        sim = Simulator(script, seed=3, room_size=3000, start_ms=now_ms() + 100, speed=speed, segments=False)
        player = ShowPlayer(client, stream_id, sim, server.tokens, lines.append)
        await player.run()
        state = (await client.get(f"/api/streams/{stream_id}", headers=server.headers("viewer"))).json()["state"]
        sales = (await client.get(f"/api/streams/{stream_id}/flash-sales", headers=server.headers("viewer"))).json()
        lotteries = (await client.get(f"/api/streams/{stream_id}/lotteries", headers=server.headers("viewer"))).json()
    output = "\n".join(lines)
    assert "!" not in output, output  # no endpoint missing, no error
    assert state["stream"]["status"] == "ended"
    assert player.finished
    fired = {key: cue["fired_ms"] for key, cue in state["cues"].items()}
    assert len(fired) == 5 and all(fired.values()), fired  # at any speed the console shows every cue as done
    assert "pinned: 評論想要抽免單" in output and state["pinned"] is None  # pinned during the show; End clears it
    t = player.tally
    assert t.accepted == t.sent > 1000 and t.rejected == 0
    assert len(sales) == 1 and 0 < sales[0]["sold"] <= 20
    # Faster than real time the cue ran shorter: 3 s of show at 2x is 2 s, plus the player's 2 s of slack.
    assert sales[0]["ends_at"] - sales[0]["started_ms"] == (3_000 if speed == 1.0 else 4_000)
    # Every unit the service counts as sold was granted to one of our buyers (cancels give some back).
    assert player.sales[0].units >= sales[0]["sold"]
    assert t.claims > 0
    assert len(lotteries) == 1 and lotteries[0]["status"] == "drawn" and lotteries[0]["entrants"] > 2
    assert "flash sale over" in output and "lottery 「想要」 drawn" in output
