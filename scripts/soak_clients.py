"""The soak's clients (scripts/soak.py), shared with scripts/memory_parts.py and bench_streams.py:
the probes (a timed claim and ingest POST every 0.2 s), reading viewers, never-reading viewer
sockets, slowloris connections, and the figures of a server process from /proc."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
EXAMPLE = ROOT / "examples" / "autumn-hydration.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_figures(pid: int) -> tuple[float, int]:
    """(resident MB, open fds) of a process."""
    rss_kb = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss_kb = int(line.split()[1])
    return rss_kb / 1024, len(os.listdir(f"/proc/{pid}/fd"))


class Timings:
    """Answers of one kind of probe: how many, how many 5xx (or no answer), and their latencies."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.statuses: dict[int, int] = {}
        self.errors: dict[str, int] = {}  # no answer (status 0): the client's exception

    def add(self, status: int, seconds: float) -> None:
        self.seconds.append(seconds)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def line(self, name: str) -> str:
        if not self.seconds:
            return f"{name}: no requests"
        ordered = sorted(self.seconds)
        bad = sum(n for status, n in self.statuses.items() if status >= 500 or status == 0)
        p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
        return (f"{name}: {len(ordered)} requests, {bad} 5xx or unanswered, "
                f"p50 {statistics.median(ordered) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
                f"max {ordered[-1] * 1000:.0f} ms; statuses {dict(sorted(self.statuses.items()))}"
                + (f"; no answer: {self.errors}" if self.errors else ""))


async def probes(bases: list[str], tokens: dict[str, str], stop: asyncio.Event,
                 claims: Timings, ingest: Timings) -> None:
    """A claim and an ingest POST every 0.2 s, alternating instances, each timed."""
    op = {"Authorization": f"Bearer {tokens['operator']}"}
    sender = {"Authorization": f"Bearer {tokens['ingest']}"}
    async with httpx.AsyncClient(timeout=30) as client:
        made = await client.post(f"{bases[0]}/api/streams", content=EXAMPLE.read_bytes(),
                                 headers={**op, "Content-Type": "application/yaml"})
        sid = made.json()["id"]
        await client.post(f"{bases[0]}/api/streams/{sid}/segments/next", headers=op)
        sale = await client.post(f"{bases[0]}/api/streams/{sid}/flash-sales", headers=op, json={
            "sku": "MASK-01", "price": 1, "stock": 1_000_000, "duration_seconds": 86_400, "per_user_limit": 1000})
        sale_id = sale.json()["id"]
        n = 0
        while not stop.is_set():
            base = bases[n % 2]
            n += 1
            for timings, path, body in (
                (claims, f"/api/streams/{sid}/flash-sales/{sale_id}/claims", {"user_id": f"probe-{n % 500}"}),
                (ingest, f"/api/streams/{sid}/events",
                 [{"type": "comment", "id": f"p{n}-{i}", "user_id": f"v{i}", "text": "想要"} for i in range(10)]),
            ):
                started = time.perf_counter()
                try:
                    status = (await client.post(base + path, json=body, headers=sender)).status_code
                except httpx.HTTPError as exc:
                    status = 0
                    timings.errors[type(exc).__name__] = timings.errors.get(type(exc).__name__, 0) + 1
                timings.add(status, time.perf_counter() - started)
            await asyncio.sleep(0.2)


def wait_up(base: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{base} did not start")


async def reader(url: str | Callable[[], str], stop: asyncio.Event, counts: dict[str, int]) -> None:
    """A reading viewer; `url` may be a function: when what it answers changes (the next show), the
    viewer leaves and opens the new one."""
    def current() -> str:
        return url() if callable(url) else url

    while not stop.is_set():
        try:
            opened = current()
            async with connect(opened, open_timeout=20, max_size=None) as ws:
                counts["open"] += 1
                try:
                    while not stop.is_set() and current() == opened:
                        try:
                            await asyncio.wait_for(ws.recv(), 1.0)
                            counts["messages"] += 1
                        except TimeoutError:
                            continue
                finally:
                    counts["open"] -= 1
                    if ws.close_code is not None and not stop.is_set():  # why the server closed it
                        key = f"closed {ws.close_code}"
                        counts[key] = counts.get(key, 0) + 1
        except Exception:  # noqa: BLE001 - refused or dropped: count and come back, as a page does
            counts["reconnects"] += 1
            await asyncio.sleep(1.0)


def stalled_socket(host: str, port: int, path: str) -> socket.socket | None:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        sock.connect((host, port))
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    except OSError:
        sock.close()
        return None
    return sock


def dropped(sock: socket.socket) -> bool:
    """Read what is there without blocking; True if the server closed the connection."""
    sock.setblocking(False)
    try:
        while True:
            if sock.recv(1 << 20) == b"":
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


async def slowloris(host: str, port: int, n: int, stop: asyncio.Event, counts: dict[str, int]) -> None:
    socks: list[socket.socket] = []
    while not stop.is_set():
        alive = []
        for sock in socks:
            if dropped(sock):
                counts["loris_closed"] += 1
                sock.close()
            else:
                alive.append(sock)
        socks = alive
        while len(socks) < n:
            try:
                sock = socket.create_connection((host, port), timeout=2)
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                socks.append(sock)
                counts["loris_opened"] += 1
            except OSError:
                break
        await asyncio.sleep(1.0)
    for sock in socks:
        sock.close()
