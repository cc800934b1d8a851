"""One real OBS Studio per test module (it starts in ~2.5 s), on a virtual display of its own.

Outside CI the OBS tests skip when Debian's obs-studio or Xvfb is not installed (`make obs`
installs both); in CI (`CI=true`) they fail instead, so a green CI run drove a real OBS.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from livecompanion import wiring
from livecompanion.config import Settings
from livecompanion.realtime import MemoryHub
from livecompanion.realtime.hub import Hub
from livecompanion.storage.db import Database
from livecompanion.storage.tables import Base
from tests.conftest import IN_CI, ServerProcess, free_port, start_server

from .obs_studio import OBS, XVFB, ObsStudio, Xvfb

SCENES = ["開場全景", "產品特寫", "促單雙機位", "秒殺倒數", "下播畫面", "Spare"]
OVERLAY = "LiveCompanion overlay"


def need_obs() -> None:
    if OBS and XVFB:
        return
    message = "Debian's obs-studio and Xvfb are not installed (make obs)"
    if IN_CI:
        pytest.fail(f"{message}; CI must drive a real OBS", pytrace=False)
    pytest.skip(message)  # outside CI only


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    need_obs()
    xvfb = Xvfb()
    yield xvfb.display
    xvfb.stop()


@pytest.fixture(scope="module")
def obs_studio(display: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ObsStudio]:
    root = tmp_path_factory.mktemp("obs")
    studio = ObsStudio(Path(root), display, free_port(), secrets.token_urlsafe(12), SCENES, OVERLAY)
    studio.start()
    yield studio
    studio.stop()


@pytest.fixture(autouse=True)
def obs_running_for_each_test(request: pytest.FixtureRequest) -> None:
    """A test that kills OBS and fails before starting it again must not leave the module's other
    tests without OBS (in CI one such failure took three more tests down with it)."""
    if "obs_studio" not in request.fixturenames:
        return
    studio: ObsStudio = request.getfixturevalue("obs_studio")
    if studio.process is None or studio.process.poll() is not None:
        studio.start()


@pytest.fixture
def obs_server(tmp_path: Path, obs_studio: ObsStudio) -> Iterator[ServerProcess]:
    """A real server process that has the OBS password in SHOW_OBS_PASSWORD."""
    proc = start_server(tmp_path, extra_env={"SHOW_OBS_PASSWORD": obs_studio.password})
    yield proc
    proc.stop()


async def make_obs_services(url: str, hub: Hub | None = None, *, lease_ms: int | None = None,
                            scan_every: float = 0.5) -> wiring.Services:
    """Every service of an instance, wired as the server wires them, started; OBS retried quickly."""
    db = Database(url)
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    settings = Settings(database_url=url, operator_token="op", ingest_token="in", viewer_token="vi")
    services = wiring.build_services(settings, db=db, hub=hub or MemoryHub())
    obs = services.obs
    obs.retry_min, obs.retry_max, obs.scan_every = 0.2, 0.5, scan_every
    if lease_ms is not None:
        obs.lease_ms = lease_ms
    await wiring.start(services)
    return services


async def program_scene(studio: ObsStudio) -> str | None:
    """What OBS has on program, asked on a connection of the test's own (not the service's)."""
    import simpleobsws

    client = simpleobsws.WebSocketClient(url=studio.address, password=studio.password)
    await client.connect()
    try:
        assert await client.wait_until_identified(5)
        response = await client.call(simpleobsws.Request("GetCurrentProgramScene"))
        assert response.ok(), response.requestStatus
        return response.responseData["currentProgramSceneName"]  # type: ignore[no-any-return]
    finally:
        await client.disconnect()


async def set_program_scene(studio: ObsStudio, scene: str) -> None:
    import simpleobsws

    client = simpleobsws.WebSocketClient(url=studio.address, password=studio.password)
    await client.connect()
    try:
        assert await client.wait_until_identified(5)
        assert (await client.call(simpleobsws.Request("SetCurrentProgramScene", {"sceneName": scene}))).ok()
    finally:
        await client.disconnect()


async def eventually(check, timeout: float = 10.0, every: float = 0.05):  # type: ignore[no-untyped-def]
    """Await `check()` until it returns something truthy; that value, or fail with the last one."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last = None
    while loop.time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(every)
    raise AssertionError(f"not within {timeout} s; last seen: {last!r}")
