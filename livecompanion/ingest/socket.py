"""The ingest socket protocol (`WS /ws/streams/{id}/ingest`), independent of the web framework.

Client to server, one message at a time (text or binary, at most 1 MB, at most 10,000 events):
    {"type": "comment", ...}                        one event
    [{...}, {...}]                                  an array of events
    {"seq": 17, "events": [{...}, ...]}             an envelope with the client's own sequence number
    NDJSON                                          one event a line
    {"type": "source", "platform", "room", "library"}   a bridge saying what it is (no reply)
    {"type": "heartbeat", ...}                      a bridge saying it is alive (no reply)
Server to client, one per message, in the order the messages came:
    {"type": "ack", "seq": S, "accepted": N, "duplicates": D, "rejected": [{"index": I, "reason": "..."}]}
    {"type": "error", "seq": S, "status": 413 | 503 | 400, "detail": "...", "retry_after": 1}
`seq` is the envelope's `seq` when it has one, else the message's number on this socket (1, 2, ...).
An ack means the message's new events are committed: a client that resends everything not yet
acknowledged after a reconnect loses nothing and duplicates nothing (given event ids).

A client may send several messages without waiting; up to `max_in_flight` are written at once
(they often share a transaction), after which the server stops reading until acks go out, so a
fast sender is slowed down by TCP instead of filling memory. A client that stops reading its acks
is dropped: the router's `send` gives up after the send timeout (`ws_send_timeout`, 10 s) and the
socket is closed, or cut if even the close does not go out (api/guards.py `close_socket`); messages
already handed to the writer are still committed (an ack never sent means the sender resends).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from livecompanion.events import EventError
from livecompanion.events.batch import decode_body
from livecompanion.ingest.service import MAX_WS_MESSAGE, IngestResult, IngestService, Overloaded, TooLarge
from livecompanion.ingest.sources import SourceSession, is_control

Receive = Callable[[], Awaitable[str | bytes]]
Send = Callable[[bytes], Awaitable[None]]


def decode_message(data: str | bytes) -> tuple[Any, list[tuple[int, Any]], list[EventError]]:
    """(client seq or None, values with their index, decode errors) of one message."""
    raw = data.encode() if isinstance(data, str) else data
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        values, errors = decode_body(raw, ndjson=True if b"\n" in raw.strip() else None)
        return None, values, errors
    if isinstance(value, dict) and "type" not in value and isinstance(value.get("events"), list):
        return value.get("seq"), list(enumerate(value["events"])), []
    if isinstance(value, list):
        return None, list(enumerate(value)), []
    return None, [(0, value)], []


async def serve_ingest(
    ingest: IngestService,
    stream_id: str,
    receive: Receive,
    send: Send,
    *,
    max_in_flight: int = 8,
    source: SourceSession | None = None,
) -> None:
    """Run one ingest socket until the client goes (receive raises) or stops taking acks (`send`
    raises: the caller's send timeout). `source`, when given, hears the bridge's announcement,
    heartbeats and committed counts (livecompanion/ingest/sources.py)."""
    in_flight: asyncio.Queue[tuple[Any, asyncio.Task[IngestResult] | dict[str, Any]]] = asyncio.Queue(
        max_in_flight
    )
    acks = asyncio.create_task(_acknowledge(in_flight, send, source))
    reader = asyncio.create_task(_read(ingest, stream_id, receive, in_flight, source))
    try:
        # Whichever ends first ends the socket: the client left (the reader), or it stopped taking
        # acks (the sender raised, e.g. a send timeout), even while it sends nothing more.
        done, _ = await asyncio.wait({acks, reader}, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    finally:
        acks.cancel()
        reader.cancel()
        if source is not None:
            await source.closed()


async def _read(
    ingest: IngestService,
    stream_id: str,
    receive: Receive,
    in_flight: asyncio.Queue[Any],
    source: SourceSession | None,
) -> None:
    count = 0
    while True:
        data = await receive()
        control = _control(data)
        if control is not None:
            if source is not None:
                await source.control(control)
            continue
        count += 1
        if len(data) > MAX_WS_MESSAGE:
            await in_flight.put((count, _error(413, f"a message may carry at most {MAX_WS_MESSAGE:,} bytes")))
            continue
        seq, values, errors = decode_message(data)
        seq = count if seq is None else seq
        task = asyncio.create_task(ingest.ingest_values(stream_id, values, errors))
        await in_flight.put((seq, task))


def _control(data: str | bytes) -> dict[str, Any] | None:
    """The message as a control message (source announcement, heartbeat), else None. Cheap for
    event batches: only short messages that name a control type are parsed."""
    if len(data) > 4096:
        return None
    raw = data.encode() if isinstance(data, str) else data
    if b'"source"' not in raw and b'"heartbeat"' not in raw:
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return value if is_control(value) else None


def _error(status: int, detail: str, **more: Any) -> dict[str, Any]:
    return {"type": "error", "status": status, "detail": detail, **more}


async def _acknowledge(in_flight: asyncio.Queue[Any], send: Send, source: SourceSession | None) -> None:
    while True:
        seq, pending = await in_flight.get()
        if isinstance(pending, dict):
            message = {**pending, "seq": seq}
        else:
            try:
                result = await pending
                message = {"type": "ack", "seq": seq, **result.as_dict()}
                if source is not None:
                    await source.committed(result.accepted, result.duplicates)
            except TooLarge as exc:
                message = _error(413, str(exc), seq=seq)
            except Overloaded as exc:
                message = _error(503, str(exc), seq=seq, retry_after=exc.retry_after)
            except Exception as exc:  # noqa: BLE001 - nothing of this message was stored: say so
                message = _error(500, f"not stored, send again: {exc.__class__.__name__}", seq=seq)
        await send(orjson.dumps(message))
