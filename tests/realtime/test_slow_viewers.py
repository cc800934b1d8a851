"""Issue 13 item 6: a viewer socket that stops reading is dropped (send timeout, then a close that
cannot hang: aborted past its own timeout), and sockets are capped per token and per address."""

from __future__ import annotations

import base64
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import EXAMPLE_SCRIPT, ServerProcess, start_server


@pytest.fixture
def quick_server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path, extra_env={"LIVECOMPANION_WS_SEND_TIMEOUT": "2",
                                             "LIVECOMPANION_WS_PER_ADDRESS": "6"})
    yield proc
    proc.stop()


def _handshake(server: ServerProcess, target: str, extra_headers: str = "", rcvbuf: int = 4096) -> socket.socket:
    """A WebSocket opened by hand on `target` (path and query), with a tiny receive buffer: the
    caller decides whether it ever reads past the handshake."""
    host, port = server.base_url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.connect((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {target} HTTP/1.1\r\nHost: {host}\r\n{extra_headers}"
                  f"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def _open_raw(server: ServerProcess, stream_id: str, rcvbuf: int = 4096) -> socket.socket:
    """A viewer socket by hand, with a tiny receive buffer, that will never read past the handshake."""
    return _handshake(server, f"/ws/streams/{stream_id}?token={server.tokens['viewer']}", rcvbuf=rcvbuf)


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    """Read everything the server sent; True once it closed (EOF or reset) within `within` seconds."""
    sock.settimeout(0.5)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if sock.recv(1 << 20) == b"":
                return True
        except TimeoutError:
            continue
        except ConnectionResetError:
            return True
    return False


def _stream(server: ServerProcess) -> str:
    r = httpx.post(f"{server.base_url}/api/streams", content=EXAMPLE_SCRIPT.read_bytes(),
                   headers=server.headers("operator"))
    return r.json()["id"]


def test_a_viewer_that_stops_reading_is_dropped(quick_server: ServerProcess) -> None:
    server = quick_server
    stream_id = _stream(server)
    stalled = _open_raw(server, stream_id)
    with httpx.Client(base_url=server.base_url, headers=server.headers("operator")) as client:
        # ~3 MB of patches: more than the kernel's send queue (it grows to ~2 MB for a socket whose
        # peer does not read) and the transport's buffer.
        for i in range(1500):
            r = client.post(f"/api/streams/{stream_id}/pins", json={"text": f"{i} " + "😀" * 495})
            assert r.status_code == 200, r.text
        time.sleep(4)  # past the send timeout (2 s here) and the close timeout
        # Meanwhile the service answers, and a reading viewer is served.
        assert client.get("/healthz").status_code == 200
    assert _closed_by_server(stalled, within=15)
    stalled.close()


def test_sockets_are_capped_per_address(quick_server: ServerProcess) -> None:
    server = quick_server
    stream_id = _stream(server)
    kept = [_open_raw(server, stream_id, rcvbuf=65536) for _ in range(6)]
    host, port = server.base_url.removeprefix("http://").split(":")
    extra = socket.create_connection((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    extra.sendall((f"GET /ws/streams/{stream_id}?token={server.tokens['viewer']} HTTP/1.1\r\nHost: x\r\n"
                   f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    extra.settimeout(5)
    answer = extra.recv(4096)
    # Refused: either before the upgrade (HTTP 403/429) or right after it with close code 1013.
    assert answer.startswith((b"HTTP/1.1 403", b"HTTP/1.1 429")) or b"\x03\xf5" in answer, answer
    for sock in [*kept, extra]:
        sock.close()


def test_slowloris_is_shed_and_healthz_keeps_answering(tmp_path: Path) -> None:
    """Issue 13 item 7: half-sent request heads are closed after the header timeout, and past the
    connection limit the service answers 503 at once instead of running out of descriptors."""
    server = start_server(tmp_path, extra_env={"LIVECOMPANION_HEADER_TIMEOUT": "1",
                                               "LIVECOMPANION_BODY_TIMEOUT": "1",
                                               "LIVECOMPANION_MAX_CONNECTIONS": "40"})
    try:
        host, port = server.base_url.removeprefix("http://").split(":")
        loris = []
        for _ in range(60):  # more than the connection limit
            sock = socket.create_connection((host, int(port)))
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # never finished
            loris.append(sock)
        time.sleep(2.5)  # past the header timeout
        assert httpx.get(f"{server.base_url}/healthz", timeout=3).status_code == 200
        closed = sum(_closed_by_server(sock, within=0.6) for sock in loris)
        assert closed == len(loris)
        # A body that stops coming: the request ends as a client that hung up (400), not a held slot.
        body = socket.create_connection((host, int(port)))
        body.sendall(b"POST /api/streams HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
                     b"Authorization: Bearer " + server.tokens["operator"].encode() + b"\r\n\r\nabc")
        body.settimeout(5)
        assert body.recv(4096).startswith(b"HTTP/1.1 400")
        for sock in [*loris, body]:
            sock.close()
    finally:
        server.stop()


def _send_frame(sock: socket.socket, payload: bytes) -> None:
    """One masked text frame (client to server), by hand."""
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x81])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 1 << 16:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def test_an_ingest_client_that_stops_reading_acks_is_dropped(quick_server: ServerProcess) -> None:
    """The ingest socket has the send timeout too: a sender that never reads its acks is closed (or
    cut), instead of holding its task, its buffers and up to 8 messages in flight forever."""
    server = quick_server
    stream_id = _stream(server)
    sock = _handshake(server, f"/ws/streams/{stream_id}/ingest",
                      f"Authorization: Bearer {server.tokens['ingest']}\r\n")
    # Messages of 5,000 events that are all invalid (no user_id): nothing is stored, and each ack
    # lists 5,000 rejections (~400 KB), so a few dozen acks fill any send queue. Then silence.
    bad = b"[" + b",".join([b'{"type":"comment","text":"x"}'] * 5000) + b"]"
    sock.settimeout(5)
    sent = 0
    try:
        for _ in range(40):
            _send_frame(sock, bad)
            sent += 1
    except (TimeoutError, OSError):
        pass  # the server stopped reading too: that is fine, it has acks to send
    assert sent >= 2
    time.sleep(4)  # past the send timeout (2 s here) and the close timeout
    with httpx.Client(base_url=server.base_url) as client:
        assert client.get("/healthz").status_code == 200
    assert _closed_by_server(sock, within=15)
    sock.close()
