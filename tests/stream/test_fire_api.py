"""`POST .../cues/{segment}/{index}/fire` with `{"time_scale": N}` against a real server process:
the sale, lottery and countdown the cue starts are N times shorter, and the run sheet shows it fired."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.conftest import EXAMPLE_SCRIPT, ServerProcess


def _post(server: ServerProcess, path: str, body: Any = None) -> httpx.Response:
    return httpx.post(f"{server.base_url}{path}", json=body, headers=server.headers("operator"), timeout=10)


def test_fire_with_a_time_scale_over_http(server: ServerProcess) -> None:
    made = httpx.post(f"{server.base_url}/api/streams", content=EXAMPLE_SCRIPT.read_bytes(),
                      headers={**server.headers("operator"), "Content-Type": "application/yaml"})
    assert made.status_code == 201, made.text
    api = f"/api/streams/{made.json()['id']}"
    assert _post(server, f"{api}/segments/next").status_code == 200

    before = int(time.time() * 1000)
    countdown = _post(server, f"{api}/cues/open/0/fire", {"time_scale": 20})  # 60 s countdown
    assert countdown.status_code == 200, countdown.text
    assert countdown.json()["result"]["seconds"] == 3 and countdown.json()["time_scale"] == 20

    sale = _post(server, f"{api}/cues/mask-close/0/fire", {"time_scale": 60})  # 5-minute flash sale
    assert sale.status_code == 200, sale.text
    left_ms = sale.json()["result"]["ends_at"] - before
    assert 5_000 <= left_ms <= 5_000 + (int(time.time() * 1000) - before) + 50, left_ms

    lottery_cue = next(key for key, cue in _state(server, api)["cues"].items() if cue["action"] == "lottery")
    segment, index = lottery_cue.rsplit("/", 1)
    lottery = _post(server, f"{api}/cues/{segment}/{index}/fire", {"time_scale": 40})  # 2-minute lottery
    assert lottery.status_code == 200, lottery.text
    started = httpx.get(f"{server.base_url}{api}/lotteries/{lottery.json()['result']['id']}",
                        headers=server.headers("viewer")).json()
    assert started["ends_at"] - started["started_ms"] == 3_000, started

    # Every one of them shows as fired on the run sheet, exactly as a click on the console does.
    state = _state(server, api)
    for key in ("open/0", "mask-close/0", lottery_cue):
        assert state["cues"][key]["fired_ms"] is not None, key

    # No body, an empty object, or a bad value.
    assert _post(server, f"{api}/cues/open/1/fire").status_code == 200  # the pin cue, as the console fires it
    assert _post(server, f"{api}/cues/open/1/fire?force=true", {}).status_code == 200
    for bad in ({"time_scale": 0}, {"time_scale": -2}, {"time_scale": "fast"}, {"speed": 2}):
        response = _post(server, f"{api}/cues/open/1/fire?force=true", bad)
        assert response.status_code == 422, (bad, response.text)


def _state(server: ServerProcess, api: str) -> dict[str, Any]:
    return httpx.get(f"{server.base_url}{api}", headers=server.headers("viewer")).json()["state"]
