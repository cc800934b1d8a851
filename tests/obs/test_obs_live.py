"""Against a real OBS Studio: the show moves, OBS switches; OBS dies and comes back, the show goes on.

The record is SQLite, the hub in memory, the service functions the ones the API calls; the scene on
program is read back from OBS on a connection of the test's own.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from livecompanion import wiring
from livecompanion.scripts import check_text
from livecompanion.storage.streams import create_stream
from livecompanion.stream import cue_firing, service
from livecompanion.wiring import Services
from tests.conftest import free_port

from .conftest import OVERLAY, eventually, make_obs_services, program_scene, set_program_scene
from .obs_studio import ObsStudio

pytestmark = pytest.mark.obs

SCRIPT = """
title: OBS 測試場
segments:
  - id: open
    kind: opening
    cues:
      - at: 1m
        action: countdown
        seconds: 30
  - id: mask-intro
    kind: product
    cues:
      - at: 1m
        action: flash_sale
        sku: MASK-01
        price: 79
        stock: 10
        duration: 1m
  - id: mask-close
    kind: closing
  - kind: wrapup
products:
  - sku: MASK-01
    name: 面膜
obs:
  address: {address}
  password_env: {env}
  overlay_source: {overlay}
  scenes:
    opening: 開場全景
    product: 產品特寫
    mask-close: 促單雙機位
  cues:
    flash_sale: 秒殺倒數
  end: 下播畫面
"""


async def start_stream(services: Services, address: str, env: str) -> str:
    text = SCRIPT.format(address=address, env=env, overlay=f'"{OVERLAY}"')
    result = check_text(text, "obs-test.yaml")
    assert result.ok and result.script is not None, [f.format() for f in result.findings]
    return await create_stream(services.db, result.script, text)


@pytest.fixture
async def services(sqlite_url: str) -> AsyncIterator[Services]:
    made = await make_obs_services(sqlite_url)
    yield made
    await wiring.close(made)


async def obs_section(services: Services, stream_id: str) -> dict[str, Any]:
    _rev, doc = await service.load_state(services, stream_id)
    return doc["obs"]  # type: ignore[no-any-return]


async def link_is(services: Services, stream_id: str, status: str) -> dict[str, Any] | None:
    link = (await obs_section(services, stream_id))["link"]
    return link if link["status"] == status else None


async def on_program(studio: ObsStudio, scene: str) -> bool:
    return await program_scene(studio) == scene


async def test_scenes_follow_the_show(services: Services, obs_studio: ObsStudio,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LC_TEST_OBS_PASSWORD", obs_studio.password)
    await set_program_scene(obs_studio, "Spare")
    stream_id = await start_stream(services, obs_studio.address, "LC_TEST_OBS_PASSWORD")
    link = await eventually(lambda: link_is(services, stream_id, "connected"))
    assert link["live_scene"] == "Spare"  # what OBS had on program when we connected
    section = await obs_section(services, stream_id)
    assert section["config"]["segments"] == {"open": "開場全景", "mask-intro": "產品特寫",
                                             "mask-close": "促單雙機位", "wrapup-1": None}
    assert await program_scene(obs_studio) == "Spare"  # connecting alone switches nothing

    await service.next_segment(services, stream_id)
    await eventually(lambda: on_program(obs_studio, "開場全景"))
    await service.next_segment(services, stream_id)
    await eventually(lambda: on_program(obs_studio, "產品特寫"))
    await cue_firing.fire_cue(services, stream_id, "mask-intro/0")  # flash_sale: mapped
    await eventually(lambda: on_program(obs_studio, "秒殺倒數"))
    await service.goto_segment(services, stream_id, segment_id="mask-close")  # by id, over the kind
    await eventually(lambda: on_program(obs_studio, "促單雙機位"))
    await service.previous_segment(services, stream_id)
    await eventually(lambda: on_program(obs_studio, "產品特寫"))
    await service.goto_segment(services, stream_id, segment_id="wrapup-1")  # unmapped: OBS stays
    await service.end_stream(services, stream_id)
    await eventually(lambda: on_program(obs_studio, "下播畫面"))

    section = await obs_section(services, stream_id)
    assert section["wanted"]["reason"] == "end"
    section = await eventually(lambda: _applied(services, stream_id, section["wanted"]["id"]))
    assert section["applied"]["scene"] == "下播畫面" and section["applied"]["ok"] is True
    # OBS's own event keeps the live scene current when someone switches in OBS by hand
    await set_program_scene(obs_studio, "Spare")
    await eventually(lambda: _live_scene_is(services, stream_id, "Spare"))


async def _live_scene_is(services: Services, stream_id: str, scene: str) -> bool:
    return (await obs_section(services, stream_id))["link"]["live_scene"] == scene


async def test_obs_killed_mid_show_switches_after_restart(services: Services, obs_studio: ObsStudio,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LC_TEST_OBS_PASSWORD", obs_studio.password)
    stream_id = await start_stream(services, obs_studio.address, "LC_TEST_OBS_PASSWORD")
    await service.next_segment(services, stream_id)
    await eventually(lambda: on_program(obs_studio, "開場全景"))
    opened = (await obs_section(services, stream_id))["wanted"]["id"]
    await eventually(lambda: _applied(services, stream_id, opened))  # OBS said so, and we wrote it down

    obs_studio.kill()
    link = await eventually(lambda: link_is(services, stream_id, "disconnected"))
    assert link["live_scene"] is None and link["detail"]
    started = time.monotonic()
    moved = await service.next_segment(services, stream_id)  # the show goes on without OBS
    took = time.monotonic() - started
    assert moved["segment"]["id"] == "mask-intro" and took < 1.0, took
    section = await obs_section(services, stream_id)
    assert section["wanted"]["scene"] == "產品特寫" and section["applied"]["scene"] == "開場全景"

    obs_studio.start()
    await eventually(lambda: on_program(obs_studio, "產品特寫"), timeout=20)
    section = await eventually(lambda: _applied(services, stream_id, section["wanted"]["id"]))
    assert section["applied"]["ok"] is True and section["applied"]["scene"] == "產品特寫"
    assert section["link"]["status"] == "connected" and section["link"]["live_scene"] == "產品特寫"


async def test_wrong_password_is_refused_and_the_show_goes_on(
        services: Services, obs_studio: ObsStudio, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LC_TEST_OBS_PASSWORD", "not-the-password")
    stream_id = await start_stream(services, obs_studio.address, "LC_TEST_OBS_PASSWORD")
    link = await eventually(lambda: link_is(services, stream_id, "refused"))
    assert "password" in link["detail"] and "4009" in link["detail"]
    before = await program_scene(obs_studio)
    assert (await service.next_segment(services, stream_id))["status"] == "live"
    assert (await obs_section(services, stream_id))["link"]["status"] == "refused"
    assert await program_scene(obs_studio) == before


async def test_no_obs_listening_is_disconnected(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LC_TEST_OBS_PASSWORD", "x")
    stream_id = await start_stream(services, f"ws://127.0.0.1:{free_port()}", "LC_TEST_OBS_PASSWORD")
    link = await eventually(lambda: _detail_has(services, stream_id, "nothing answered"))
    assert link["status"] == "disconnected" and link["live_scene"] is None
    started = time.monotonic()
    for _ in range(5):
        await service.next_segment(services, stream_id)
    assert time.monotonic() - started < 2.0


async def test_unmapped_scene_and_refresh_are_answered_with_obs_words(
        services: Services, obs_studio: ObsStudio, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LC_TEST_OBS_PASSWORD", obs_studio.password)
    stream_id = await start_stream(services, obs_studio.address, "LC_TEST_OBS_PASSWORD")
    await eventually(lambda: link_is(services, stream_id, "connected"))
    obs = services.obs
    script = (await _script(services, stream_id))
    wanted = await obs.switch_now(stream_id, script, scene="No Such Scene")
    section = await eventually(lambda: _applied(services, stream_id, wanted["id"]))
    assert section["applied"]["ok"] is False and "No Such Scene" in section["applied"]["error"]
    wanted = await obs.switch_now(stream_id, script, segment_id="mask-close")
    await eventually(lambda: on_program(obs_studio, "促單雙機位"))

    # Debian's OBS has no browser source plugin: the overlay here is a colour source, so the
    # request reaches a real input by the script's name and OBS answers for the button it lacks
    # (a wrong input name would get "No source was found by the name of ..." instead).
    refresh = await obs.refresh_overlay(stream_id, script)
    section = await eventually(lambda: _refreshed(services, stream_id, refresh["id"]))
    assert section["refreshed"]["source"] == OVERLAY and section["refreshed"]["ok"] is False
    assert section["refreshed"]["error"] == ("OBS refused PressInputPropertiesButton: "
                                             "Unable to find a property by that name. (code 600)")


async def _detail_has(services: Services, stream_id: str, words: str) -> dict[str, Any] | None:
    link = (await obs_section(services, stream_id))["link"]
    return link if words in (link["detail"] or "") else None


async def _script(services: Services, stream_id: str):  # type: ignore[no-untyped-def]
    from livecompanion.storage.streams import get_script

    return await get_script(services.db, stream_id)


async def _applied(services: Services, stream_id: str, wanted_id: str) -> dict[str, Any] | None:
    section = await obs_section(services, stream_id)
    return section if (section.get("applied") or {}).get("id") == wanted_id else None


async def _refreshed(services: Services, stream_id: str, refresh_id: str) -> dict[str, Any] | None:
    section = await obs_section(services, stream_id)
    return section if (section.get("refreshed") or {}).get("id") == refresh_id else None


@pytest.mark.redis
async def test_two_instances_one_talks_to_obs_and_the_other_takes_over(
        sqlite_url: str, redis_url: str, redis_prefix: str, obs_studio: ObsStudio,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from livecompanion.realtime.redis_hub import RedisHub

    monkeypatch.setenv("LC_TEST_OBS_PASSWORD", obs_studio.password)
    instances = [await make_obs_services(sqlite_url, RedisHub.from_url(redis_url, prefix=redis_prefix),
                                         lease_ms=900, scan_every=0.3) for _ in range(2)]
    a, b = instances
    try:
        stream_id = await start_stream(a, obs_studio.address, "LC_TEST_OBS_PASSWORD")
        await eventually(lambda: link_is(a, stream_id, "connected"))
        holders = [s for s in instances if stream_id in s.obs.links]
        assert len(holders) == 1  # the other instance waits on the lease
        other = b if holders[0] is a else a
        await service.next_segment(other, stream_id)  # the move is made where the holder is not
        await eventually(lambda: on_program(obs_studio, "開場全景"))

        await holders[0].obs.close()  # the holder's OBS side goes away (its lease is given up)
        await service.next_segment(holders[0], stream_id)  # its record and hub still work
        await eventually(lambda: on_program(obs_studio, "產品特寫"))
        link = await eventually(lambda: link_is(other, stream_id, "connected"))
        assert link["instance"] == other.obs.instance
    finally:
        for made in instances:
            await wiring.close(made)


async def test_unset_password_variable_and_missing_extra_are_unavailable(
        services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.delenv("LC_TEST_OBS_UNSET", raising=False)
    stream_id = await start_stream(services, "ws://127.0.0.1:4455", "LC_TEST_OBS_UNSET")
    link = await eventually(lambda: link_is(services, stream_id, "unavailable"))
    assert "LC_TEST_OBS_UNSET" in link["detail"] and "not set" in link["detail"]
    assert (await service.next_segment(services, stream_id))["status"] == "live"

    monkeypatch.setitem(sys.modules, "simpleobsws", None)  # as if `livecompanion[obs]` were not installed
    monkeypatch.setenv("LC_TEST_OBS_PASSWORD", "x")
    stream_id = await start_stream(services, "ws://127.0.0.1:4455", "LC_TEST_OBS_PASSWORD")
    link = await eventually(lambda: link_is(services, stream_id, "unavailable"))
    assert link["detail"] == "the OBS client is not installed (pip install 'livecompanion[obs]')"
    assert (await service.next_segment(services, stream_id))["status"] == "live"
