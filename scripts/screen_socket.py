"""A viewer socket for benchmarks that reads every frame it is sent and does nothing else.

    conn = await open_screen(loop, "ws://127.0.0.1:8000/ws/streams/S?token=T", on_message)
    await conn.closed                 # resolves when the server closes the socket (or it drops)

A benchmark's screens stand in for viewers' browsers, which run on other machines. With the
`websockets` client each message cost its process ~30-45 us (frame parsing in Python, an assembler,
a queue and a task switch per `recv`), and a thousand screens took a quarter to a third of one of
the shared machine's two cores from the instances under test (`bench_evening.py`, ten rooms). This
protocol keeps only what a screen must do on the wire: the opening handshake (RFC 6455 section
4.1; the answer's `Sec-WebSocket-Accept` is checked), every frame read whole and handed over as
bytes (server frames are never masked; fragments are joined), pings answered with a pong, a close
answered with a close. `on_message(payload, arrived)` gets each text or binary message with the
time it arrived (`time.time()` once per read, as a receiving page would stamp it).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import struct
import time
from collections.abc import Callable
from urllib.parse import urlsplit

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
OnMessage = Callable[[bytes, float], None]


def _masked(opcode: int, payload: bytes) -> bytes:
    """A final client frame (clients must mask, RFC 6455 5.3); control payloads are <= 125 bytes."""
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes((0x80 | opcode, 0x80 | len(payload))) + mask + body


class ScreenProtocol(asyncio.Protocol):
    def __init__(self, host: str, path: str, on_message: OnMessage) -> None:
        self.key = base64.b64encode(os.urandom(16))
        self.request = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {self.key.decode()}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
        self.on_message = on_message
        self.buffer = bytearray()
        self.fragments: list[bytes] = []
        self.upgraded = False
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not an asyncio.Transport subclass
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        for future in (self.opened, self.closed):
            if not future.done():
                if future is self.opened:
                    future.set_exception(exc or ConnectionError("closed before the handshake"))
                else:
                    future.set_result(None)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.upgraded and not self._handshake():
            return
        arrived = time.time()
        at = 0
        size = len(buffer)
        while size - at >= 2:
            first, second = buffer[at], buffer[at + 1]
            length, head = second & 0x7F, 2
            if length == 126:
                if size - at < 4:
                    break
                length, head = struct.unpack_from(">H", buffer, at + 2)[0], 4
            elif length == 127:
                if size - at < 10:
                    break
                length, head = struct.unpack_from(">Q", buffer, at + 2)[0], 10
            if size - at < head + length:
                break
            payload = bytes(buffer[at + head:at + head + length])
            at += head + length
            self._frame(first & 0x80, first & 0x0F, payload, arrived)
        if at:
            del buffer[:at]

    def _handshake(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        del self.buffer[:end + 4]
        accept = base64.b64encode(hashlib.sha1(self.key + GUID).digest()).decode()
        fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:])}
        if " 101 " not in head[0] + " " or fields.get("sec-websocket-accept") != accept:
            self.opened.set_exception(ConnectionError(f"no WebSocket upgrade: {head[0]!r}"))
            assert self.transport is not None
            self.transport.close()
            return False
        self.upgraded = True
        self.opened.set_result(None)
        return True

    def _frame(self, fin: int, opcode: int, payload: bytes, arrived: float) -> None:
        assert self.transport is not None
        if opcode == 0x9:  # ping
            self.transport.write(_masked(0xA, payload))
        elif opcode == 0x8:  # close: answered with the same code, then the server closes the TCP connection
            if not self.transport.is_closing():
                self.transport.write(_masked(0x8, payload[:2]))
        elif opcode in (0x1, 0x2, 0x0):
            if not fin:
                self.fragments.append(payload)
                return
            if self.fragments:
                payload = b"".join(self.fragments) + payload
                self.fragments = []
            self.on_message(payload, arrived)


async def open_screen(loop: asyncio.AbstractEventLoop, url: str, on_message: OnMessage,
                      timeout: float = 60.0) -> ScreenProtocol:
    """Connect and complete the handshake; raises ConnectionError if the server does not upgrade."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    _, protocol = await loop.create_connection(lambda: ScreenProtocol(f"{host}:{port}", path, on_message),
                                               host, port)
    await asyncio.wait_for(protocol.opened, timeout)
    return protocol
