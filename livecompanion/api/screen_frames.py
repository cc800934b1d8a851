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
"""

from __future__ import annotations

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

    def send_now(message: Message) -> bool:
        if (protocol.close_sent or protocol.disconnected or not writable.is_set()
                or conn.state is not State.OPEN or transport.is_closing()):
            return False
        transport.write(message.frame(text_frame))
        return True

    return send_now
