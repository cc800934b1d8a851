"""A small keep-alive HTTP/1.1 client for crowds and benchmarks.

httpx's connection pool spends most of its time scanning its connections once many requests are
in flight, so a crowd driven through it measures httpx. This client keeps one connection per
coroutine and writes prepared request bytes: the servers, not the load generator, set the pace.
Responses need a Content-Length (uvicorn always sends one for these endpoints).
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit


class Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes, bytes]] | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return
        head = bytes(self.buffer[:head_end])
        length = 0
        at = head.lower().find(b"\r\ncontent-length:")
        if at >= 0:
            stop = head.find(b"\r\n", at + 2)
            length = int(head[at + 17 : stop if stop > 0 else None])
        end = head_end + 4 + length
        if len(self.buffer) < end:
            return
        status = int(self.buffer[9:12])
        body = bytes(self.buffer[head_end + 4 : end])
        del self.buffer[:end]
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((status, head, body))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection closed: {exc}"))

    async def send(self, raw: bytes) -> tuple[int, bytes, bytes]:
        """(status, head, body) of the answer to one prepared request."""
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def connect(base_url: str) -> Connection:
    parts = urlsplit(base_url)
    _, conn = await asyncio.get_running_loop().create_connection(Connection, parts.hostname, parts.port)
    return conn


def request(
    method: str, base_url: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None
) -> bytes:
    host = urlsplit(base_url).netloc
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")
