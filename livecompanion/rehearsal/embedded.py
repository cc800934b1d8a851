"""`livecompanion rehearse` without `--url`: the service in this process, as `serve` runs it.

The schema is brought up to date, uvicorn serves the app on the configured host and `--port`, the
rehearsal goes through its HTTP API like any client (the real ingest path), and the service keeps
serving afterwards until Ctrl-C (or stops at once with `--exit`), so the console and dashboard of
the rehearsal can be looked at.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from livecompanion.config import Settings
from livecompanion.rehearsal.pacing import Log
from livecompanion.rehearsal.runner import RehearsalError, rehearse, say


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: Ctrl-C is handled below."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def serve_and_rehearse(log: Log, log_file: Path, script: Path, *, port: int | None, exit_when_done: bool,
                       **kw: Any) -> int:
    from livecompanion.storage.migrate import upgrade

    settings = Settings()
    if port is not None:
        settings = settings.model_copy(update={"port": port})
    settings = settings.with_generated_tokens()
    upgrade(settings.resolved_database_url())
    try:
        return asyncio.run(_main(settings, log, log_file, script, exit_when_done, kw))
    except KeyboardInterrupt:
        say("stopped.")
        return 0


async def _main(settings: Settings, log: Log, log_file: Path, script: Path, exit_when_done: bool,
                kw: dict[str, Any]) -> int:
    from livecompanion.api.app import create_app
    from livecompanion.api.urls import stream_urls
    from livecompanion.server import print_urls, uvicorn_config

    server = _Server(uvicorn_config(create_app(settings), settings, "warning"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            with contextlib.suppress(BaseException):
                serving.result()
            print(f"could not start the service on {settings.host}:{settings.port}", file=sys.stderr)
            return 1
        await asyncio.sleep(0.05)
    host = "127.0.0.1" if settings.host in ("", "0.0.0.0", "::") else settings.host
    code = 1
    try:
        run = asyncio.create_task(rehearse(f"http://{host}:{settings.port}", log, log_file, script,
                                           operator_token=settings.operator_token or "",
                                           ingest_token=settings.ingest_token or "",
                                           on_created=lambda sid: print_urls(settings, sid), **kw))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({run, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if run.done():
            try:
                code, sid = run.result()
            except (RehearsalError, httpx.HTTPError) as exc:
                print(f"rehearsal stopped: {exc}", file=sys.stderr)
                code, sid = 1, ""
            if sid:
                say(f"Dashboard of the rehearsal: {stream_urls(settings, sid)['dashboard']}")
            if not exit_when_done and not stop.is_set():
                say("Still serving; press Ctrl-C to stop.")
                await stop.wait()
        else:
            run.cancel()
            with contextlib.suppress(BaseException):
                await run
            say("Stopped before the end of the log.")
        stopping.cancel()
    finally:
        server.should_exit = True
        await serving
    return code
