"""How long after a move OBS shows the scene, and what OBS costs the show's own moves.

Against a real OBS Studio (Debian's, under Xvfb, as the tests start it) on this machine:

- switch latency, *direct* (the baseline): a client already identified with obs-websocket sends
  SetCurrentProgramScene; measured until an observer client gets OBS's CurrentProgramSceneChanged.
- switch latency, *show*: `stream.service.goto_segment` on a script whose `obs:` maps the segments;
  measured from the call until the same observer gets the event (record commit, hub change, the
  holder's worker reading `obs.wanted`, its SetCurrentProgramScene).
- move time: how long `goto_segment` itself takes with no `obs:` section, with OBS connected, and
  with nothing listening at the address (OBS down) - the show must not wait on OBS.

Moves alternate between two segments mapped to two scenes; runs of the kinds alternate; medians and
90th percentiles in ms. SQLite record and in-memory hub, as `make run`. OBS runs at 10 fps here, and
switches on its next frame: a random pause (0-100 ms) before each timed step keeps both paths' wait
for that frame alike.

    .venv/bin/python scripts/bench_obs.py [--moves 40]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import simpleobsws

from livecompanion import wiring
from livecompanion.scripts import check_text
from livecompanion.storage.streams import create_stream
from livecompanion.stream import service
from tests.conftest import free_port
from tests.obs.conftest import make_obs_services
from tests.obs.obs_studio import ObsStudio, Xvfb

SCENES = ["A", "B", "Spare"]
# OBS switches scenes on its next video frame; the harness runs OBS at 10 fps (a small canvas to
# spare the CPU), so each switch waits 0-100 ms for a frame. A random pause before each timed step
# keeps that wait equally random for both paths.
FRAME = 0.1
SCRIPT = """title: bench
segments:
  - id: a
    kind: opening
  - id: b
    kind: product
{obs}"""
OBS = """obs:
  address: {address}
  password_env: BENCH_OBS_PASSWORD
  scenes: {{a: A, b: B}}
"""


class Observer:
    """An obs-websocket client that timestamps every CurrentProgramSceneChanged."""

    def __init__(self, studio: ObsStudio) -> None:
        self.client = simpleobsws.WebSocketClient(
            url=studio.address, password=studio.password,
            identification_parameters=simpleobsws.IdentificationParameters(eventSubscriptions=1 << 2))
        self.changed: asyncio.Queue[tuple[float, str]] = asyncio.Queue()

    async def open(self) -> None:
        await self.client.connect()
        assert await self.client.wait_until_identified(5)

        async def on_change(data: dict[str, str]) -> None:
            self.changed.put_nowait((time.perf_counter(), data["sceneName"]))

        self.client.register_event_callback(on_change, "CurrentProgramSceneChanged")

    async def until(self, scene: str) -> float:
        while True:
            at, name = await asyncio.wait_for(self.changed.get(), 10)
            if name == scene:
                return at


def summary(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    return f"median {statistics.median(ms):7.2f} ms   p90 {ms[int(len(ms) * 0.9) - 1]:7.2f} ms   (n={len(ms)})"


async def stream(services, address: str | None) -> str:  # type: ignore[no-untyped-def]
    text = SCRIPT.format(obs=OBS.format(address=address) if address else "")
    result = check_text(text)
    assert result.ok and result.script is not None
    stream_id = await create_stream(services.db, result.script, text)
    await service.next_segment(services, stream_id)
    return stream_id


async def main(moves: int) -> None:
    xvfb = Xvfb()
    root = Path(tempfile.mkdtemp(prefix="bench-obs-"))
    studio = ObsStudio(root, xvfb.display, free_port(), secrets.token_urlsafe(12), SCENES)
    started = time.perf_counter()
    studio.start()
    print(f"OBS started in {time.perf_counter() - started:.2f} s")
    os.environ["BENCH_OBS_PASSWORD"] = studio.password
    services = await make_obs_services(f"sqlite+aiosqlite:///{root / 'bench.sqlite3'}")
    observer = Observer(studio)
    await observer.open()
    direct = simpleobsws.WebSocketClient(url=studio.address, password=studio.password)
    await direct.connect()
    assert await direct.wait_until_identified(5)
    try:
        plain = await stream(services, None)
        followed = await stream(services, studio.address)
        absent = await stream(services, f"ws://127.0.0.1:{free_port()}")
        while (services.obs.links.get(followed) is None
               or services.obs.links[followed].link["status"] != "connected"):
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # the absent stream's link has failed at least once
        results: dict[str, list[float]] = {k: [] for k in ("direct", "show", "move_plain", "move_obs", "move_absent")}
        for i in range(moves):
            # The followed stream is on `other` and OBS shows other's scene; both go to `target`.
            target, other = ("b", "a") if i % 2 == 0 else ("a", "b")
            scene = target.upper()
            await asyncio.sleep(random.uniform(0, FRAME))
            t0 = time.perf_counter()
            response = await direct.call(simpleobsws.Request("SetCurrentProgramScene", {"sceneName": scene}))
            assert response.ok()
            results["direct"].append(await observer.until(scene) - t0)
            await direct.call(simpleobsws.Request("SetCurrentProgramScene", {"sceneName": other.upper()}))
            await observer.until(other.upper())
            await asyncio.sleep(0.15 + random.uniform(0, FRAME))
            t0 = time.perf_counter()
            await service.goto_segment(services, followed, segment_id=target)
            results["move_obs"].append(time.perf_counter() - t0)
            results["show"].append(await observer.until(scene) - t0)
            for key, stream_id in (("move_plain", plain), ("move_absent", absent)):
                await asyncio.sleep(0.15)  # the holder's own writes after a switch are done by now
                t0 = time.perf_counter()
                await service.goto_segment(services, stream_id, segment_id=target)
                results[key].append(time.perf_counter() - t0)
        print("switch latency until OBS's CurrentProgramSceneChanged:")
        print(f"  direct SetCurrentProgramScene (baseline)   {summary(results['direct'])}")
        print(f"  show move (goto_segment -> OBS)            {summary(results['show'])}")
        print(f"  ratio of medians show/direct: "
              f"{statistics.median(results['show']) / statistics.median(results['direct']):.1f}")
        print("goto_segment's own time:")
        print(f"  no obs: section (baseline)                 {summary(results['move_plain'])}")
        print(f"  OBS connected                              {summary(results['move_obs'])}")
        print(f"  nothing listening at the address           {summary(results['move_absent'])}")
    finally:
        await direct.disconnect()
        await observer.client.disconnect()
        await wiring.close(services)
        studio.stop()
        xvfb.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=40)
    asyncio.run(main(parser.parse_args().moves))
