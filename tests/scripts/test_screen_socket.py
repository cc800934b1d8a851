"""The benchmarks' lean viewer socket (scripts/screen_socket.py) against a real WebSocket server (the
websockets library's): the handshake checked, every message whole and in order (fragments joined,
sizes past both length encodings), pings answered, a close answered so the server's close completes."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.server import ServerConnection, serve

from tests.load_script import load_script

open_screen = load_script("screen_socket").open_screen


async def test_a_lean_screen_reads_what_a_websockets_server_sends() -> None:
    pong_ok: list[bool] = []
    closed: list[int | None] = []

    async def handler(ws: ServerConnection) -> None:
        await ws.send('{"type":"snapshot","rev":1}')
        await ws.send(b"\x00binary")
        await ws.send("x" * 300)  # 16-bit length
        await ws.send("y" * 70_000)  # 64-bit length
        await ws.send(["frag", "ment", "ed"])  # one message in three frames
        waiter = await ws.ping(b"are you there")
        await asyncio.wait_for(waiter, 2)
        pong_ok.append(True)
        await ws.close(1001, "going away")
        closed.append(ws.close_code)

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        got: list[bytes] = []
        screen = await open_screen(asyncio.get_running_loop(), f"ws://127.0.0.1:{port}/ws/x?token=t",
                                   lambda payload, at: got.append(payload))
        await asyncio.wait_for(screen.closed, 5)
    assert got == [b'{"type":"snapshot","rev":1}', b"\x00binary", b"x" * 300, b"y" * 70_000, b"fragmented"]
    assert pong_ok == [True]
    assert closed == [1001]  # the close handshake completed (the screen answered it)


async def test_a_server_that_does_not_upgrade_is_an_error() -> None:
    async def not_websocket(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(not_websocket, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(ConnectionError, match="no WebSocket upgrade"):
            await open_screen(asyncio.get_running_loop(), f"ws://127.0.0.1:{port}/ws/x", lambda p, a: None, 5)
    finally:
        server.close()
        await server.wait_closed()
