"""`livecompanion demo`: the service with a stream of the sample script, played by a simulated audience.

One process: the schema brought up to date, a new stream made from the sample script, the service
(uvicorn, in this process, like `serve`), and a player that drives the show through the service's own
HTTP API with the operator and ingest tokens. When the script is over the stream ends and the
service keeps serving, so the dashboard of what ran can be looked at, until Ctrl-C. Ctrl-C at any
time ends the stream and stops cleanly; everything recorded stays in the database for the next
`livecompanion serve`.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Iterator

import httpx
import uvicorn

from livecompanion.clock import now_ms
from livecompanion.config import Settings
from livecompanion.demo import SAMPLE_SCRIPT, load_script
from livecompanion.demo.show import ShowPlayer
from livecompanion.demo.simulator import MAX_ROOM, MIN_ROOM, Simulator
from livecompanion.scripts.durations import format_seconds

MAX_SPEED = 1000.0
DEFAULT_ROOM = 600


def say(line: str) -> None:
    print(line, flush=True)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the demo decides what Ctrl-C does."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _create_stream(url: str) -> str:
    from livecompanion.storage import streams
    from livecompanion.storage.db import Database

    db = Database(url)
    try:
        return await streams.create_stream(db, load_script(), SAMPLE_SCRIPT.read_text("utf-8"))
    finally:
        await db.dispose()


def _local_host(host: str) -> str:
    """Where this process reaches its own server."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host


def run_demo(settings: Settings, speed: float = 1.0, seed: int = 7, room_size: int = DEFAULT_ROOM,
             log_level: str = "warning", platform_like: bool = False) -> int:
    if not 0 < speed <= MAX_SPEED:
        print(f"--speed must be above 0 and at most {MAX_SPEED:g}, got {speed:g}", file=sys.stderr)
        return 2
    if not MIN_ROOM <= room_size <= MAX_ROOM:
        print(f"the room size must be from {MIN_ROOM} to {MAX_ROOM:,}, got {room_size}", file=sys.stderr)
        return 2
    from livecompanion.storage.migrate import upgrade

    settings = settings.with_generated_tokens()
    try:
        url = settings.resolved_database_url()
        upgrade(url)
        stream_id = asyncio.run(_create_stream(url))
        return asyncio.run(_Demo(settings, stream_id, speed, seed, room_size, log_level, platform_like).main())
    except KeyboardInterrupt:  # a Ctrl-C that came before the demo's own handler was in place
        say("stopped.")
        return 0


class _Demo:
    def __init__(self, settings: Settings, stream_id: str, speed: float, seed: int, room_size: int,
                 log_level: str, platform_like: bool = False) -> None:
        self.settings = settings
        self.stream_id = stream_id
        self.speed = speed
        self.seed = seed
        self.room_size = room_size
        self.log_level = log_level
        self.platform_like = platform_like
        self.stop = asyncio.Event()  # set by Ctrl-C / SIGTERM

    async def main(self) -> int:
        from livecompanion.api.app import create_app
        from livecompanion.api.urls import stream_urls
        from livecompanion.server import print_urls, uvicorn_config

        settings = self.settings
        server = _Server(uvicorn_config(create_app(settings), settings, self.log_level))
        self._on_signals(server)
        serving = asyncio.create_task(server.serve())
        while not server.started:
            if serving.done():  # could not start (port taken, ...): uvicorn has said why
                with contextlib.suppress(BaseException):
                    serving.result()
                print(f"the demo could not start the service on {settings.host}:{settings.port}", file=sys.stderr)
                return 1
            if self.stop.is_set():  # Ctrl-C while starting
                server.should_exit = True
                await serving
                return 0
            await asyncio.sleep(0.05)
        print_urls(settings, self.stream_id)
        tokens = {"operator": settings.operator_token or "", "ingest": settings.ingest_token or ""}
        base = f"http://{_local_host(settings.host)}:{settings.port}"
        dashboard = stream_urls(settings, self.stream_id)["dashboard"]
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            player = self._player(client, tokens)
            playing = asyncio.create_task(player.run())
            stopping = asyncio.create_task(self.stop.wait())
            await asyncio.wait({playing, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if playing.done() and not self.stop.is_set():
                self._check(playing)
                say(f"The show is over. Dashboard: {dashboard}")
                say("Still serving; press Ctrl-C to stop.")
                await self.stop.wait()
            else:
                playing.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await playing
                if not player.finished:
                    with contextlib.suppress(httpx.HTTPError):
                        await client.post(f"/api/streams/{self.stream_id}/end", timeout=3,
                                          headers={"Authorization": f"Bearer {tokens['operator']}"})
                    say(f"Stopped; the stream is ended and kept. Its dashboard: {dashboard}")
            stopping.cancel()
        server.should_exit = True
        await serving
        if server.force_exit:  # uvicorn skips the application's shutdown then; its writers must flush
            await server.lifespan.shutdown()
        say("bye.")
        return 0

    def _player(self, client: httpx.AsyncClient, tokens: dict[str, str]) -> ShowPlayer:
        script = load_script()
        start = now_ms() + 300  # a moment to print the plan before the first segment
        sim = Simulator(script, seed=self.seed, room_size=self.room_size, start_ms=start, speed=self.speed,
                        segments=False, platform_like=self.platform_like)
        length = sim.timeline.length_ms / 1000
        say(f"Demo: 「{script.title}」, {len(script.segments)} segments, {format_seconds(int(length))} of show"
            f" played in {format_seconds(max(1, round(length / self.speed)))} at {self.speed:g}x;"
            f" about {self.room_size:,} viewers at the peak (seed {self.seed})"
            + ("; platform-like: no leave events, online counts at irregular times" if self.platform_like else "")
            + ". Ctrl-C stops.")
        return ShowPlayer(client, self.stream_id, sim, tokens, say)

    @staticmethod
    def _check(playing: asyncio.Task[None]) -> None:
        error = playing.exception()
        if error is not None:
            say(f"the show stopped early: {type(error).__name__}: {error}")

    def _on_signals(self, server: uvicorn.Server) -> None:
        loop = asyncio.get_running_loop()

        first: list[float] = []

        def stop() -> None:
            # A second Ctrl-C (not the echo of the first one a terminal or `timeout` may send): stop
            # now, without waiting for open connections. The application still shuts down (below).
            if first and time.monotonic() - first[0] > 1.0:
                server.force_exit = server.should_exit = True
            first.append(time.monotonic())
            self.stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # Windows: Ctrl-C raises KeyboardInterrupt instead
                loop.add_signal_handler(sig, stop)
