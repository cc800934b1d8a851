"""Through a real server process and a real OBS: the script's `obs:` section, the operator's clicks."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ServerProcess

from .conftest import eventually, program_scene
from .obs_studio import ObsStudio

pytestmark = pytest.mark.obs

SCRIPT = """title: API 測試場
segments:
  - id: open
    kind: opening
  - id: mask-intro
    kind: product
  - kind: wrapup
obs:
  address: {address}
  password_env: SHOW_OBS_PASSWORD
  scenes:
    opening: 開場全景
    mask-intro: 產品特寫
  end: 下播畫面
"""


async def test_operator_drives_obs_through_the_api(obs_server: ServerProcess, obs_studio: ObsStudio) -> None:
    op, viewer = obs_server.headers("operator"), obs_server.headers("viewer")
    async with httpx.AsyncClient(base_url=obs_server.base_url, timeout=10) as client:
        created = await client.post("/api/streams", headers=op,
                                    content=SCRIPT.format(address=obs_studio.address).encode())
        assert created.status_code == 201, created.text
        stream_id = created.json()["id"]

        async def connected() -> dict[str, object] | None:
            section = (await client.get(f"/api/streams/{stream_id}/obs", headers=viewer)).json()
            return section if section["link"]["status"] == "connected" else None

        section = await eventually(connected)  # the service found the stream by itself (its scan)
        assert section["config"]["segments"] == {"open": "開場全景", "mask-intro": "產品特寫", "wrapup-1": None}

        assert (await client.post(f"/api/streams/{stream_id}/segments/next", headers=op)).status_code == 200
        await eventually(lambda: _on(obs_studio, "開場全景"))

        switched = await client.post(f"/api/streams/{stream_id}/obs/switch", headers=op,
                                     json={"segment_id": "mask-intro"})
        assert switched.status_code == 202 and switched.json()["scene"] == "產品特寫"
        await eventually(lambda: _on(obs_studio, "產品特寫"))

        unmapped = await client.post(f"/api/streams/{stream_id}/obs/switch", headers=op,
                                     json={"segment_id": "wrapup-1"})
        assert unmapped.status_code == 422
        assert unmapped.json()["detail"][0]["msg"] == "the script's obs section maps no scene to segment 'wrapup-1'"
        assert (await client.post(f"/api/streams/{stream_id}/obs/switch", headers=op,
                                  json={"segment_id": "nope"})).status_code == 404
        assert (await client.post(f"/api/streams/{stream_id}/obs/switch", headers=viewer,
                                  json={"scene": "x"})).status_code in (401, 403)
        no_overlay = await client.post(f"/api/streams/{stream_id}/obs/refresh-overlay", headers=op)
        assert no_overlay.status_code == 422 and "overlay_source" in no_overlay.json()["detail"][0]["msg"]

        assert (await client.post(f"/api/streams/{stream_id}/end", headers=op)).status_code == 200
        await eventually(lambda: _on(obs_studio, "下播畫面"))


def test_a_stream_without_obs_says_so(obs_server: ServerProcess) -> None:
    op = obs_server.headers("operator")
    created = httpx.post(f"{obs_server.base_url}/api/streams", headers=op,
                         content=b"title: t\nsegments:\n  - kind: opening\n")
    stream_id = created.json()["id"]
    answer = httpx.get(f"{obs_server.base_url}/api/streams/{stream_id}/obs", headers=op)
    assert answer.status_code == 409 and answer.json()["detail"] == "no_obs"
    assert httpx.post(f"{obs_server.base_url}/api/streams/{stream_id}/segments/next", headers=op).status_code == 200


async def _on(studio: ObsStudio, scene: str) -> bool:
    return await program_scene(studio) == scene
