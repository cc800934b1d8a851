"""The viewer socket protocol (contract section 5), independent of the web framework.

Server to client:
    {"type": "snapshot", "rev": N, "server_time": MS, "state": {...}}   first, and after any resync
    {"type": "patch", "rev": N+1, "server_time": MS, "ops": [...]}      then each change, rev by rev
Client to server:
    {"type": "resync"}                                                  "I saw a gap": a fresh snapshot follows

The feed subscribes BEFORE it reads the snapshot, so nothing published in between is lost; patches
the snapshot already holds (rev <= snapshot rev) are skipped. A hole in the revs on our side (a
lost pub/sub message) or a resync from the hub turns into a fresh snapshot. Every message carries
`server_time` so pages can correct their clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from livecompanion.clock import now_ms
from livecompanion.realtime.hub import DEFAULT_QUEUE, Hub, Message, Subscription

log = logging.getLogger(__name__)

SEND_TIMEOUT = 10.0  # a socket that cannot take one message in this long is closed (it reconnects)
MAX_CLIENT_MESSAGE = 4096

Send = Callable[[str], Awaitable[None]]
SendNow = Callable[[Message], bool]  # send without waiting if the socket can take it now, else False
Receive = Callable[[], Awaitable[str]]
Loader = Callable[[], Awaitable[tuple[int, dict[str, Any]]]]


class SlowClient(Exception):
    """The client did not take a message within the send timeout (SEND_TIMEOUT by default)."""


async def serve_feed(
    hub: Hub,
    stream_id: str,
    send: Send,
    receive: Receive,
    load: Loader,
    *,
    queue: int = DEFAULT_QUEUE,
    send_timeout: float | None = None,
    send_now: SendNow | None = None,
) -> str:
    """Run one viewer socket until the client leaves (receive raises ConnectionError) or the hub
    closes; raises SlowClient when the client stopped taking messages. Returns "left" (the client
    went away) or "closed" (the hub closed: the service is shutting down).

    `load()` puts the stream's document into the hub when it is missing (rebuilt from the record)
    and returns (rev, state); `receive()` raises when the client has gone. `send_now(message)`, when
    the transport offers one, puts a patch on the socket at once and says whether it could (it
    cannot while the socket's buffer is full or it is closing): the next patch then goes out from
    the hub's fan-out, with no task of this socket woken (see `Subscription.take_now`); everything
    else (snapshots, a gap, a socket that cannot take it) takes the path through `send`.
    """
    async with hub.subscribe(stream_id, maxsize=queue) as feed:
        reader = asyncio.create_task(_read_requests(receive, feed.resync))
        try:
            timeout = SEND_TIMEOUT if send_timeout is None else send_timeout  # read now: tests lower it
            pump = asyncio.create_task(_pump(hub, stream_id, feed, send, load, timeout, send_now))
            done, _ = await asyncio.wait({reader, pump}, return_when=asyncio.FIRST_COMPLETED)
            for task in (reader, pump):
                if task not in done:
                    task.cancel()
                    # A send cut short by the client leaving ends the task with WebSocketDisconnect
                    # rather than CancelledError: take it, or it is logged as never retrieved.
                    task.add_done_callback(_retrieved)
            for task in done:
                exc = task.exception()
                if exc is not None and not isinstance(exc, ConnectionError):
                    raise exc  # SlowClient: the caller closes the socket
            return "closed" if pump in done and pump.exception() is None else "left"
        finally:
            reader.cancel()


def _retrieved(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()


async def _read_requests(receive: Receive, resync: Callable[[], None]) -> None:
    while True:
        text = await receive()
        if len(text) > MAX_CLIENT_MESSAGE:
            continue
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            continue
        if isinstance(message, dict) and message.get("type") == "resync":
            resync()


async def _send(send: Send, text: str, timeout: float) -> None:
    try:
        async with asyncio.timeout(timeout):  # no extra task per send, unlike wait_for
            await send(text)
    except TimeoutError:
        raise SlowClient() from None


async def _snapshot(hub: Hub, stream_id: str, load: Loader) -> tuple[int, dict[str, Any]]:
    snap = await hub.snapshot(stream_id)
    return snap if snap is not None else await load()


class _Sent:
    """The rev a socket has been sent up to, and how the next patch may go at once."""

    __slots__ = ("rev", "send_now")

    def __init__(self, send_now: SendNow) -> None:
        self.rev = 0
        self.send_now = send_now

    def take(self, message: Message) -> bool:
        """The hub's fan-out offers a message while the pump waits with nothing queued: the patch
        of the next rev goes out now; anything else is left to the pump (False)."""
        if message["type"] != "patch" or message["rev"] != self.rev + 1 or not self.send_now(message):
            return False
        self.rev = message["rev"]
        return True


async def _pump(hub: Hub, stream_id: str, feed: Subscription, send: Send, load: Loader, timeout: float,
                send_now: SendNow | None) -> None:
    sent = _Sent(send_now or _never)

    async def send_snapshot() -> None:
        rev, state = await _snapshot(hub, stream_id, load)
        await _send(send, orjson.dumps(
            {"type": "snapshot", "rev": rev, "server_time": now_ms(), "state": state}
        ).decode(), timeout)
        sent.rev = rev

    await send_snapshot()
    if send_now is not None:
        feed.take_now = sent.take
    async for message in feed:
        if message["type"] != "patch":
            if message.get("rev") is None or message["rev"] > sent.rev:  # else our snapshot has the reload
                await send_snapshot()
        elif message["rev"] <= sent.rev:
            continue  # already in the snapshot we sent
        elif message["rev"] != sent.rev + 1:
            log.info("feed %s: rev %s after %s, sending a snapshot", stream_id, message["rev"], sent.rev)
            await send_snapshot()
        else:
            await _send(send, message.text(), timeout)
            sent.rev = message["rev"]


def _never(message: Message) -> bool:
    return False
