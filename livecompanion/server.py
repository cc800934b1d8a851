"""Run the service: schema up to date, a stream from `--script` if given, URLs printed, uvicorn."""

from __future__ import annotations

import asyncio
import errno
import socket
import sys
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from livecompanion.config import Settings
from livecompanion.storage.migrate import upgrade


async def _stream_from_script(settings: Settings, script_path: Path) -> str | None:
    from livecompanion.scripts import check_file
    from livecompanion.storage import streams
    from livecompanion.storage.db import Database

    result = check_file(script_path)
    for finding in result.findings:
        print(finding.format(), file=sys.stderr)
    if not result.ok or result.script is None:
        return None
    source = script_path.read_bytes().decode("utf-8-sig")  # noqa: ASYNC240 - once, before serving
    db = Database(settings.resolved_database_url())
    try:
        return await streams.find_reusable(db, source) or await streams.create_stream(db, result.script, source)
    finally:
        await db.dispose()


TOKEN_NAMES = ("operator_token", "ingest_token", "viewer_token")


def print_urls(settings: Settings, stream_id: str | None, from_env: frozenset[str] = frozenset()) -> None:
    """The URLs people open. A token that came from the environment is not printed (whoever set it
    has it; a terminal or a service log is no place for it): its URLs show `$LIVECOMPANION_..._TOKEN`."""
    hidden = {str(getattr(settings, name)): f"${{LIVECOMPANION_{name.upper()}}}" for name in from_env}

    def shown(text: str) -> str:
        for token, placeholder in hidden.items():
            text = text.replace(f"token={token}", f"token={placeholder}")
        return text

    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    print(f"LiveCompanion on {base}  (API docs: {base}/docs)")
    print(shown(f"  streams:      {base}/?token={settings.operator_token}"))
    print(shown(f"  wall:         {base}/wall?token={settings.viewer_token}"))
    if stream_id:
        from livecompanion.api.urls import stream_urls

        for name, url in stream_urls(settings, stream_id).items():
            print(shown(f"  {name + ':':<13} {url}"))
    generated = [f"{name.removesuffix('_token')}={getattr(settings, name)}" for name in TOKEN_NAMES
                 if name not in from_env]
    if generated:
        print(f"  tokens (generated, kept in {settings.data_dir / 'tokens.json'}): {' '.join(generated)}")
    sys.stdout.flush()


def port_taken(host: str, port: int) -> str | None:
    """Why `host:port` cannot be served (e.g. another process has it), or None. Checked before any
    URL is printed, so a newcomer never opens URLs of a service that did not start."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (f"連接埠 {port} 已被其他程式佔用 / port {port} on {host} is already in use: stop the "
                        f"other service or pick another port (--port or LIVECOMPANION_PORT)")
            return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


SHUTDOWN_GRACE_SECONDS = 5


def serve(settings: Settings, script: Path | None = None, log_level: str = "info") -> int:
    from livecompanion.api.app import create_app

    from_env = frozenset(name for name in TOKEN_NAMES if getattr(settings, name))
    settings = settings.with_generated_tokens()
    taken = port_taken(settings.host, settings.port)
    if taken is not None:
        print(taken, file=sys.stderr)
        return 1
    upgrade(settings.resolved_database_url())
    stream_id = None
    if script is not None:
        stream_id = asyncio.run(_stream_from_script(settings, script))
        if stream_id is None:
            print(f"{script}: not served: fix the errors above", file=sys.stderr)
            return 1
    print_urls(settings, stream_id, from_env)
    memory_snapshots_on_signal(settings.data_dir)
    uvicorn.Server(uvicorn_config(create_app(settings), settings, log_level)).run()
    return 0


def memory_snapshots_on_signal(directory: Path) -> None:
    """A diagnostic for an instance whose memory grows, on with LIVECOMPANION_MEMORY_SNAPSHOTS=1:
    the first SIGUSR1 starts tracemalloc (4 frames a trace; start-up stays fast), each later one
    writes a snapshot to `directory` (memory-PID-K.tracemalloc, K = 1, 2, ...). Compare two with
    `tracemalloc.Snapshot.load(b).compare_to(Snapshot.load(a), "lineno")`; scripts/soak.py
    --trace-memory does. Off, and free, otherwise."""
    import itertools
    import os
    import signal
    import tracemalloc

    if os.environ.get("LIVECOMPANION_MEMORY_SNAPSHOTS", "") not in ("1", "true", "yes"):
        return
    frames = 4  # a trace's depth: enough to tell callers apart, cheap enough to run
    taken = itertools.count(1)

    def dump(_signum: int, _frame: object) -> None:
        # A signal handler runs between any two bytecodes of the loop: it must never raise.
        try:
            if not tracemalloc.is_tracing():
                tracemalloc.start(frames)
                return
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / f"memory-{os.getpid()}-{next(taken)}.tracemalloc"
            tracemalloc.take_snapshot().dump(str(path))
        except Exception as exc:  # noqa: BLE001 - a diagnostic; report it and carry on
            print(f"memory snapshot failed: {exc!r}", file=sys.stderr)

    signal.signal(signal.SIGUSR1, dump)


def max_connections(settings: Settings) -> int:
    """Connections (sockets included) served at once; one more gets 503 at once instead of an fd.

    Set, or from the process's file descriptor limit (raised to its hard limit first): a quarter of
    the descriptors stay for the database, Redis, logs and files, so the service keeps answering
    /healthz and its own work when every connection slot is taken (slowloris, issue 13 item 7)."""
    if settings.max_connections is not None:
        return settings.max_connections
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65_536
    if soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    return max(16, min(soft * 3 // 4, soft - 64))


def uvicorn_config(app: FastAPI, settings: Settings, log_level: str) -> uvicorn.Config:
    """How the service runs under uvicorn (`serve` and the demo alike)."""
    from livecompanion.api.guards import guarded_http_protocol
    from livecompanion.logs import redacting_log_config

    return uvicorn.Config(
        app, host=settings.host, port=settings.port, log_level=log_level,
        # Slowloris: a request head must arrive within header_timeout (guards.py), an idle kept-alive
        # connection is closed after 5 s, and past max_connections uvicorn answers 503 at once.
        http=guarded_http_protocol(settings.header_timeout), timeout_keep_alive=5,
        limit_concurrency=max_connections(settings),
        log_config=redacting_log_config(),
        ws_ping_interval=20, ws_ping_timeout=20, lifespan="on",
        # On SIGTERM, open requests and sockets get this long to finish before they are cancelled;
        # then the services close, each step bounded (wiring.CLOSE_SECONDS): a stop always ends.
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        # Per-message deflate costs ~45 KB per idle socket and a third of the fan-out CPU; state
        # patches are small, so screens do better without it (see BENCHMARKS.md, fan-out).
        ws_per_message_deflate=False,
    )
