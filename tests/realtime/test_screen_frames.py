"""Patches put on viewer sockets from the hub's fan-out (api/screen_frames.py) are exactly what the
ASGI path sends: the same bytes, in the same order, rev by rev, on both hubs.

The service runs in this process (the app as `livecompanion serve` builds it, on uvicorn with its
served configuration, over real sockets), so the test can tell which sockets take which path: every
other socket is denied `send_now` and is the reference; one socket of each kind stops reading for a
while, so its patches switch to the queued path and back.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol

from livecompanion.api import live
from livecompanion.api.deps import services_of
from livecompanion.api.guards import TRANSPORT_KEY
from livecompanion.api.screen_frames import text_frame
from livecompanion.config import Settings
from livecompanion.realtime import set_op
from livecompanion.realtime.hub import Message
from livecompanion.server import uvicorn_config
from livecompanion.storage.migrate import upgrade
from tests.conftest import EXAMPLE_SCRIPT, free_port

SCREENS = 6


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 200_000])
def test_a_text_frame_is_the_bytes_the_websockets_protocol_sends(size: int) -> None:
    data = ("字" * (size // 3) + "x" * (size % 3)).encode()
    protocol = ServerProtocol(state=State.OPEN)
    protocol.send_text(data)
    assert text_frame(data) == b"".join(protocol.data_to_send())
    assert text_frame(data) == Frame(Opcode.TEXT, data).serialize(mask=False, extensions=[])


class Served:
    def __init__(self, app: Any, settings: Settings, port: int) -> None:
        self.app = app
        self.settings = settings
        self.base = f"http://127.0.0.1:{port}"
        self.direct: list[dict[str, int]] = []  # per socket that may send at once: sent, refused

    @property
    def hub(self) -> Any:
        return services_of(self.app.state).hub


@pytest.fixture(params=["memory", "redis"])
async def served(request: pytest.FixtureRequest, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Served]:
    redis: dict[str, Any] = {}
    if request.param == "redis":
        redis = {"redis_url": request.getfixturevalue("redis_url"),
                 "redis_prefix": request.getfixturevalue("redis_prefix")}
    port = free_port()
    settings = Settings(data_dir=tmp_path, port=port, operator_token="op-token", ingest_token="in-token",
                        viewer_token="view-token", max_connections=64, **redis)
    await asyncio.to_thread(upgrade, settings.resolved_database_url())
    from livecompanion.api.app import create_app

    app = create_app(settings)
    result = Served(app, settings, port)
    opened = 0
    real = live.send_now_of

    def every_other_socket(scope: Any) -> Callable[[Message], bool] | None:
        """Every other socket is a reference on the ASGI path; the others count their sends and
        take a small kernel send buffer, so a socket that stops reading is soon one that cannot
        take more."""
        nonlocal opened
        opened += 1
        if opened % 2 == 0:
            return None
        send_now = real(scope)
        assert send_now is not None, "a served socket must be offered send_now"
        scope[TRANSPORT_KEY].get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        counts = {"sent": 0, "refused": 0}
        result.direct.append(counts)

        def counted(message: Message) -> bool:
            took = send_now(message)
            counts["sent" if took else "refused"] += 1
            return took

        return counted

    monkeypatch.setattr(live, "send_now_of", every_other_socket)
    server = uvicorn.Server(uvicorn_config(app, settings, "warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "the server did not start"
        await asyncio.sleep(0.02)
    yield result
    server.should_exit = True
    await asyncio.wait_for(serving, 15)
    if redis:
        from redis import asyncio as aioredis

        client = aioredis.Redis.from_url(redis["redis_url"])
        keys = [key async for key in client.scan_iter(match=redis["redis_prefix"] + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


class Screen:
    """A viewer socket that keeps every message it got, raw."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.texts: list[str] = []
        self.rev = 0
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            assert isinstance(raw, str)
            self.texts.append(raw)
            self.rev = orjson.loads(raw)["rev"]

    def seen(self) -> list[Any]:
        """Snapshots as (rev, state) (their server_time is each one's own), patches as sent."""
        out: list[Any] = []
        for text in self.texts:
            message = orjson.loads(text)
            out.append(("snapshot", message["rev"], message["state"]) if message["type"] == "snapshot" else text)
        return out


async def open_screen(served: Served, stream_id: str) -> Screen:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a stalled screen stalls soon
    sock.connect(("127.0.0.1", served.settings.port))
    sock.setblocking(False)
    ws = await connect(f"ws://127.0.0.1:{served.settings.port}/ws/streams/{stream_id}?token=view-token",
                       sock=sock, max_queue=None, max_size=None, ping_interval=None)
    screen = Screen(ws)
    while not screen.texts:
        await asyncio.sleep(0.01)
    return screen


async def until_all_at(screens: list[Screen], rev: int) -> None:
    async with asyncio.timeout(20):
        while min(s.rev for s in screens) < rev:
            await asyncio.sleep(0.01)


def big(i: int) -> dict[str, Any]:
    return {"entries": [{"text": f"問題 {i}-{k} " + "字" * 40, "count": k} for k in range(100)]}  # ~14 KB


async def test_every_screen_gets_the_same_messages_whichever_path_sent_them(served: Served) -> None:
    async with httpx.AsyncClient(base_url=served.base) as client:
        made = await client.post("/api/streams", content=EXAMPLE_SCRIPT.read_bytes(), headers={
            "Authorization": "Bearer op-token", "Content-Type": "application/yaml"})
        stream_id = made.json()["id"]
        shown = await client.get(f"/api/streams/{stream_id}", headers={"Authorization": "Bearer view-token"})
        assert shown.status_code == 200
    screens = [await open_screen(served, stream_id) for _ in range(SCREENS)]
    assert len(served.direct) == SCREENS // 2
    hub = served.hub
    other = None
    if served.settings.redis_url:  # a second instance publishes too
        from livecompanion.realtime.redis_hub import RedisHub

        other = RedisHub.from_url(served.settings.redis_url, prefix=served.settings.redis_prefix)
    published: list[list[dict[str, Any]]] = []

    async def change(ops: list[dict[str, Any]], via: Any = None) -> int:
        published.append(ops)
        return int(await (via or hub).apply(stream_id, ops))

    try:
        first_rev = screens[0].rev
        # A burst: small changes one after the other (the memory hub fans each out at once).
        for i in range(30):
            rev = await change([set_op(["metrics", "orders"], i), set_op(["note"], f"第 {i} 單")])
        await until_all_at(screens, rev)
        # Screens 0 (sends at once) and 1 (reference) stop reading while ~40 x 14 KB go out.
        for stalled in screens[:2]:
            stalled.ws.transport.pause_reading()
        for i in range(40):
            rev = await change([set_op(["questions"], big(i))], via=other if other and i % 2 else None)
        await asyncio.sleep(0.2)
        for stalled in screens[:2]:
            stalled.ws.transport.resume_reading()
        await until_all_at(screens, rev)
        assert served.direct[0]["refused"] > 0, "the stalled socket never fell back to the queued path"
        # A hole in the revs (a pub/sub message lost): every screen gets a snapshot, not the patch.
        gap = Message(type="patch", rev=rev + 5, server_time=0, ops=[set_op(["note"], "lost")])
        if other is not None:
            await other.redis.publish(other._channel(stream_id), gap.encoded())  # type: ignore[union-attr]
        else:
            hub._fan_out(stream_id, gap)
        async with asyncio.timeout(10):
            while not all(s.texts[-1].startswith('{"type":"snapshot"') for s in screens):
                await asyncio.sleep(0.01)
        for i in range(10):
            rev = await change([set_op(["metrics", "orders"], 100 + i)], via=other if other and i % 3 else None)
        await until_all_at(screens, rev)
    finally:
        for screen in screens:
            screen.reader.cancel()
            await screen.ws.close()
        if other is not None:
            await other.close()

    reference = screens[1].seen()
    for screen in screens:
        assert screen.seen() == reference  # the same messages, byte for byte, in the same order
    snapshots = [m for m in reference if isinstance(m, tuple)]
    patches = [orjson.loads(m) for m in reference if isinstance(m, str)]
    assert [s[1] for s in snapshots] == [first_rev, first_rev + 70]  # the first one, and the one for the hole
    assert [p["rev"] for p in patches] == list(range(first_rev + 1, first_rev + 81))
    assert [p["ops"] for p in patches] == published
    assert all(p["type"] == "patch" for p in patches)
    sent_at_once = sum(d["sent"] for d in served.direct)
    assert sent_at_once > 80  # most patches of the screens offered send_now went out that way
