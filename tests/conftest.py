"""Shared fixtures: the real PostgreSQL and Redis, and a real server process.

Outside CI a test that needs PostgreSQL or Redis skips when the server is not running; in CI
(`CI=true`) it fails instead, so a green CI run always means the real servers were exercised.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_HOST = os.environ.get("LIVECOMPANION_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("LIVECOMPANION_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("LIVECOMPANION_TEST_PG_USER", "postgres")
REDIS_URL = os.environ.get("LIVECOMPANION_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parent.parent


def unavailable(what: str, why: object) -> None:
    message = f"{what} is not reachable: {why}"
    if IN_CI:
        pytest.fail(f"{message} (CI must run against the real server)", pytrace=False)
    pytest.skip(message)  # outside CI only: in CI (IN_CI) the test failed above


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


# `make test` runs the tests on two pytest-xdist workers (gw0, gw1). Each worker takes its ports from
# a block of its own below Linux's ephemeral range (32768-60999), so neither the other worker nor an
# outgoing connection can take a port between free_port() and the server binding it (~2 s of
# imports). One process (no xdist) asks the kernel for any free port, as before.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
# The Redis key prefix of servers started without one: the service's default, a worker's own under
# xdist (keys and channels; a test that writes to a server's Redis directly uses this prefix).
SERVER_REDIS_PREFIX = f"livecompanion:{XDIST_WORKER}:" if XDIST_WORKER else "livecompanion:"
_PORT_BLOCK = 5000
_next_port: list[int] = []


def free_port() -> int:
    number = int(XDIST_WORKER[2:]) if XDIST_WORKER[2:].isdigit() else -1
    if not 0 <= number < 4:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]
    low = 10_000 + number * _PORT_BLOCK
    if not _next_port:
        _next_port.append(low + secrets.randbelow(_PORT_BLOCK))
    for _ in range(_PORT_BLOCK):
        port = _next_port[0]
        _next_port[0] = low + (port - low + 1) % _PORT_BLOCK
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue  # another program listens there
            return port
    raise RuntimeError(f"no free port in {low}-{low + _PORT_BLOCK - 1}")


# --- PostgreSQL ---------------------------------------------------------------------------------

async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_server() -> str:
    if not _port_open(PG_HOST, PG_PORT):
        unavailable("PostgreSQL", f"{PG_HOST}:{PG_PORT} refused the connection")
    return f"{PG_USER}@{PG_HOST}:{PG_PORT}"


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"lc_test_{secrets.token_hex(5)}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure here means the server is not usable
        unavailable("PostgreSQL", exc)
    yield f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Runs a test on both backends of the record."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


# --- Redis --------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001
        unavailable("Redis", exc)
    return REDIS_URL


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of one test's own, so tests never see each other's keys."""
    return f"lctest:{secrets.token_hex(4)}:"


# --- a real server process ----------------------------------------------------------------------

class ServerProcess:
    def __init__(self, base_url: str, tokens: dict[str, str], process: subprocess.Popen[bytes], log: Path):
        self.base_url = base_url
        self.ws_url = base_url.replace("http://", "ws://")
        self.tokens = tokens
        self.process = process
        self.log = log

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def stop(self) -> None:
        stop_process(self.process)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Ask a child process to stop (SIGTERM), kill it after 10 s, and reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def start_server(
    tmp_path: Path,
    database_url: str | None = None,
    redis_url: str | None = None,
    tokens: dict[str, str] | None = None,
    extra_env: dict[str, str] | None = None,
    args: list[str] | None = None,
    port: int | None = None,
) -> ServerProcess:
    """Start `python -m livecompanion serve` on a free port (or `port`, to restart one) and wait
    until it answers."""
    port = port or free_port()
    tokens = tokens or {role: f"{role}-{secrets.token_hex(6)}" for role in ("operator", "ingest", "viewer")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVECOMPANION_")}
    env.update({
        "LIVECOMPANION_DATA_DIR": str(tmp_path / "data"),
        "LIVECOMPANION_OPERATOR_TOKEN": tokens["operator"],
        "LIVECOMPANION_INGEST_TOKEN": tokens["ingest"],
        "LIVECOMPANION_VIEWER_TOKEN": tokens["viewer"],
        "PYTHONUNBUFFERED": "1",
        # Tests post fixed, historic timestamps (deterministic reports): the server's window on event
        # times (24 h by default) is off unless a test turns it on through extra_env.
        "LIVECOMPANION_MAX_TS_SKEW_HOURS": "0",
    })
    if database_url:
        env["LIVECOMPANION_DATABASE_URL"] = database_url
    if redis_url:
        env["LIVECOMPANION_REDIS_URL"] = redis_url
        env["LIVECOMPANION_REDIS_PREFIX"] = SERVER_REDIS_PREFIX  # unless the test gives one of its own
    env.update(extra_env or {})
    log = tmp_path / f"server-{port}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "livecompanion", "serve", "--port", str(port), "--log-level", "warning",
         *(args or [])],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    wait_serving(process, base, log, seconds=30)
    return ServerProcess(base, tokens, process, log)


def wait_serving(process: subprocess.Popen[bytes], base: str, log: Path, seconds: float = 60) -> None:
    """Until the server process answers /healthz; RuntimeError with its log if it exits or takes longer
    than `seconds` (then it is killed). The tests' servers and the benchmarks' start the same way."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not start in {seconds:g} s:\n{log.read_text()}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """One real server process on SQLite with in-memory fan-out (the embedded default)."""
    proc = start_server(tmp_path)
    yield proc
    proc.stop()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[object]:
    """Start any number of servers (e.g. two instances on PostgreSQL + Redis); all stopped after."""
    started: list[ServerProcess] = []

    def factory(**kwargs: object) -> ServerProcess:
        sub = tmp_path / f"s{len(started)}"
        sub.mkdir()
        proc = start_server(sub, **kwargs)  # type: ignore[arg-type]
        started.append(proc)
        return proc

    yield factory
    for proc in started:
        proc.stop()


EXAMPLE_SCRIPT = ROOT / "examples" / "autumn-hydration.yaml"
