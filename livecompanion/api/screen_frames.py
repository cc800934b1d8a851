"""A patch put on a viewer socket at once, as the same frame bytes for every socket.

Through ASGI each socket's patch took a task switch of its pump, `asyncio.timeout`, Starlette's
`send_text` and its exception wrapper, uvicorn's `send` (an Event wait, `str.encode`), and the
`websockets` protocol framing the same text again: about 40 us of an instance's CPU per socket and
message, of which the socket write itself is a small part (`scripts/bench_fanout_cpu.py`, cProfile).

uvicorn's own protocol (websockets-sansio, what `livecompanion serve` runs) frames a text message
as `websockets.frames.Frame(TEXT, data).serialize(mask=False, extensions=conn.extensions)` and
writes the bytes to the transport. With no extension negotiated (per-message deflate is off,
server.py) the frame of a message is the same bytes for every socket, so `send_now` builds it once
per message (`Message.frame`) and writes it to the transport from the hub's fan-out, when the socket
is open and can take it: exactly what uvicorn's `send` would have written, with nothing of ours in
between. When it cannot (its buffer is over the high-water mark, a close is under way) the patch
takes the ASGI path with its timeout, as before. Any other protocol (wsproto, a test client, an
extension) gets no `send_now`: everything takes the ASGI path.

`tests/realtime/test_screen_frames.py` checks the bytes are uvicorn's and that served sockets take
this path.

Frames for one socket in one turn of the event loop go out in one write (`_Outbox`). Each socket
write is a system call, and on a loaded instance the hub's listener finds several rooms' patches
waiting at once: a room's screens then got one write per patch. Now `send_now` only queues the
frame, and a callback scheduled once per turn (`call_soon`: it runs before anything woken after
the first frame was queued) writes each socket's frames together. Each is still its own WebSocket
frame with its own rev: the screen sees the same bytes, in the same order, only fewer TCP segments.
A socket that began closing meanwhile gets nothing more (no data after a close frame).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from livecompanion.api.guards import TRANSPORT_KEY
from livecompanion.realtime.hub import Message


def text_frame(data: bytes) -> bytes:
    """One unmasked, final WebSocket text frame of `data`, as the websockets protocol serializes it."""
    return bytes(Frame(Opcode.TEXT, data).serialize(mask=False, extensions=[]))


def send_now_of(scope: Mapping[str, Any]) -> Callable[[Message], bool] | None:
    """`send_now` for the socket of this scope (see feed.serve_feed), or None when its server is not
    uvicorn's websockets-sansio protocol or the socket negotiated an extension."""
    transport = scope.get(TRANSPORT_KEY)
    if transport is None:
        return None
    protocol = transport.get_protocol()
    if not isinstance(protocol, WebSocketsSansIOProtocol) or protocol.conn.extensions:
        return None
    conn = protocol.conn
    writable = protocol.writable
    outbox = _outbox()

    def open_now() -> bool:
        return not (protocol.close_sent or protocol.disconnected or conn.state is not State.OPEN
                    or transport.is_closing())

    def send_now(message: Message) -> bool:
        if not writable.is_set() or not open_now():
            return False
        outbox.put(transport, open_now, message.frame(text_frame))
        return True

    return send_now


WRITE_AT = 16_384  # bytes queued for one socket that are written at once, not at the end of the turn


class _Outbox:
    """The frames queued this turn of the loop, by socket; written by one callback per turn."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queued: dict[Any, tuple[Callable[[], bool], list[bytes]]] = {}
        self.scheduled = False
        self.frames = 0  # frames written, and the writes they took: frames / writes is the saving
        self.writes = 0

    def put(self, transport: Any, still_open: Callable[[], bool], frame: bytes) -> None:
        entry = self.queued.get(transport)
        if entry is None:
            entry = self.queued[transport] = (still_open, [])
        frames = entry[1]
        frames.append(frame)
        if len(frame) >= WRITE_AT or (len(frames) > 1 and sum(map(len, frames)) >= WRITE_AT):
            # Written now: the transport's high-water mark still pauses a socket that stopped
            # reading, so its next patches take the queued path with its bound (feed.py).
            del self.queued[transport]
            self._write(transport, frames)
            return
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.flush)

    def _write(self, transport: Any, frames: list[bytes]) -> None:
        self.frames += len(frames)
        self.writes += 1
        transport.write(frames[0] if len(frames) == 1 else b"".join(frames))

    def flush(self) -> None:
        queued, self.queued = self.queued, {}
        self.scheduled = False
        for transport, (still_open, frames) in queued.items():
            if still_open():
                self._write(transport, frames)


_OUTBOXES: dict[asyncio.AbstractEventLoop, _Outbox] = {}


def _outbox() -> _Outbox:
    """The running loop's outbox (tests run several loops in one process, one after the other)."""
    loop = asyncio.get_running_loop()
    outbox = _OUTBOXES.get(loop)
    if outbox is None:
        for old in [old for old in _OUTBOXES if old.is_closed()]:
            del _OUTBOXES[old]
        outbox = _OUTBOXES[loop] = _Outbox(loop)
    return outbox


def outbox_counts() -> dict[str, int]:
    """Frames sent at once and the writes they took, on the running loop (for /api/ingest/stats)."""
    outbox = _OUTBOXES.get(asyncio.get_running_loop())
    return {"frames": outbox.frames, "writes": outbox.writes} if outbox else {"frames": 0, "writes": 0}
