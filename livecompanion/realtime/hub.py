"""The Hub: where every stream's live state document lives and how its changes reach the screens.

    rev, state = await hub.snapshot(stream_id) or (None, None)   # None: not loaded
    rev = await hub.load(stream_id, state, force=False)           # put a whole document (rebuilt from the record)
    rev = await hub.apply(stream_id, ops)                          # one change: rev + 1, published
    async with hub.subscribe(stream_id) as feed:
        async for message in feed: ...                             # {"type": "patch", ...} or {"type": "resync"}
    watch = await hub.watch(stream_id, on_message); watch.close()  # a function called with each message

A patch message is `{"type": "patch", "rev": N, "server_time": MS, "ops": [...]}`; a resync message
`{"type": "resync"}` means "fetch a fresh snapshot" (this subscriber fell behind, or the hub lost its
link and may have missed patches); `{"type": "resync", "rev": N}` says the document was reloaded
whole at rev N (a snapshot of rev N or later already has it). Messages are shared between
subscribers: treat them as read-only.

Each subscriber has a bounded queue. Publishing never waits on a subscriber: when a queue is full its
contents are dropped for one resync message, so a slow screen costs a snapshot, not memory, and
never holds up the others.

`MemoryHub` serves one process. `RedisHub` (redis_hub.py) shares state and fan-out between instances.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import orjson

from livecompanion.clock import now_ms
from livecompanion.realtime.state import PatchError, apply_ops, check_ops, json_copy

if TYPE_CHECKING:
    from redis import asyncio as aioredis

    from livecompanion.storage.redis_link import RespLink

log = logging.getLogger(__name__)

DEFAULT_QUEUE = 256


class Message(dict[str, Any]):
    """A message of the feed: a plain dict that remembers its JSON text, and its socket frame, once
    asked for them.

    One patch goes to every socket of the instance, so it is encoded once, not once per socket, and
    framed once: an unmasked, uncompressed WebSocket frame is the same bytes for every socket.
    """

    __slots__ = ("_frame", "_json", "_text")

    def __init__(self, *args: Any, json: bytes | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._json = json
        self._text: str | None = None
        self._frame: bytes | None = None

    def encoded(self) -> bytes:
        if self._json is None:
            self._json = orjson.dumps(self)
        return self._json

    def text(self) -> str:
        if self._text is None:
            self._text = self.encoded().decode()
        return self._text

    def frame(self, build: Callable[[bytes], bytes]) -> bytes:
        """`build(self.encoded())`, made by the first socket that asks and kept for the others: the
        socket layer's wire form of this message (`build` is the same function for all of them)."""
        if self._frame is None:
            self._frame = build(self.encoded())
        return self._frame


RESYNC = Message(type="resync")


class NotLoaded(LookupError):
    """The stream's document is not in the hub: load it (stream.service.load_state) first."""

    def __init__(self, stream_id: str) -> None:
        super().__init__(f"the live state of stream '{stream_id}' is not loaded")
        self.stream_id = stream_id


class Subscription:
    """One subscriber's feed of messages: an async context manager and async iterator.

    `take_now`, when set, is offered each message the moment the hub fans it out, if the reader is
    waiting with nothing queued; when it returns True it has dealt with the message and nothing is
    queued or woken. A viewer socket sends the next patch that way (feed.py): no task switch per
    socket and message, the order unchanged (only an idle reader's messages are taken).
    """

    __slots__ = ("_closed", "_items", "_waiter", "hub", "maxsize", "overflows", "stream_id", "take_now")

    def __init__(self, hub: _HubBase, stream_id: str, maxsize: int = DEFAULT_QUEUE) -> None:
        self.hub = hub
        self.stream_id = stream_id
        self.maxsize = maxsize
        self.overflows = 0  # how many times this subscriber fell behind and was sent a resync
        self._items: deque[Message] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self.take_now: Callable[[Message], bool] | None = None

    def push(self, message: Message) -> None:
        """Queue a message without ever waiting (called by the hub's fan-out), or hand it to
        `take_now` when the reader is idle."""
        if self._closed:
            return
        waiter = self._waiter
        if self.take_now is not None and waiter is not None and not waiter.done() and not self._items:
            try:
                if self.take_now(message):
                    return
            except Exception:  # queued instead: the reader's own path meets the same failure
                log.exception("a subscriber of stream %s could not take a message at once", self.stream_id)
        if len(self._items) >= self.maxsize:
            self._items.clear()
            self.overflows += 1
            message = RESYNC
        self._items.append(message)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def resync(self) -> None:
        """Ask for a fresh snapshot: drop what is queued and queue a resync message."""
        self._items.clear()
        self.push(RESYNC)

    def pending(self) -> int:
        return len(self._items)

    async def get(self) -> Message:
        while not self._items:
            if self._closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()

    def get_nowait(self) -> Message | None:
        return self._items.popleft() if self._items else None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.hub._detach(self)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def __aenter__(self) -> Subscription:
        await self.hub._attach(self)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Message:
        return await self.get()


class Watch(Subscription):
    """A subscriber that is a function, called with each message as the hub fans it out: no queue
    and no task, for a domain that follows a few sections of many streams' documents on every
    instance (ingest's comment triage follows `flash_sales` and `explaining`). The function must
    be quick and must not raise (an exception is logged and the message skipped)."""

    __slots__ = ("on_message",)

    def __init__(self, hub: _HubBase, stream_id: str, on_message: Callable[[Message], None]) -> None:
        super().__init__(hub, stream_id, maxsize=1)
        self.on_message = on_message

    def push(self, message: Message) -> None:
        if self._closed:
            return
        try:
            self.on_message(message)
        except Exception:
            log.exception("a watch of stream %s failed on a message", self.stream_id)

    def resync(self) -> None:
        self.push(RESYNC)


@runtime_checkable
class Hub(Protocol):
    """What the domains hold: `MemoryHub` (one process) or `RedisHub` (instances share through Redis).

    `redis` is the hub's capability to share more than the document: the Redis client every
    instance talks to (None for `MemoryHub`), with `prefix` the deployment's key prefix. Domains
    that keep shared tallies (ingest's live numbers) put them there when it is set. `link` is the
    hub's lean connection to that Redis (storage/redis_link.py; None without Redis or over TLS):
    the publish gates run their scripts on it, beside the hub's own changes."""

    redis: aioredis.Redis | None
    prefix: str
    link: RespLink | None

    async def snapshot(self, stream_id: str) -> tuple[int, dict[str, Any]] | None: ...
    async def sections(self, stream_id: str, names: tuple[str, ...]) -> dict[str, Any] | None:
        """Only these top-level sections of the document (those it has), or None when the hub does
        not hold it: for readers of a field or two, whom a whole snapshot costs its decoding."""
        ...
    async def load(self, stream_id: str, state: dict[str, Any], force: bool = False) -> int: ...
    async def apply(self, stream_id: str, ops: list[dict[str, Any]]) -> int: ...
    def subscribe(self, stream_id: str, maxsize: int = DEFAULT_QUEUE) -> Subscription: ...
    async def watch(self, stream_id: str, on_message: Callable[[Message], None]) -> Watch: ...
    async def drop(self, stream_id: str) -> None: ...
    async def close(self) -> None: ...
    def subscriber_count(self, stream_id: str | None = None) -> int: ...


class _HubBase:
    """Local fan-out to subscriptions, shared by both hubs."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}

    def subscribe(self, stream_id: str, maxsize: int = DEFAULT_QUEUE) -> Subscription:
        return Subscription(self, stream_id, maxsize)

    async def watch(self, stream_id: str, on_message: Callable[[Message], None]) -> Watch:
        """Call `on_message` with every message of the stream until the watch is closed; returns
        once messages flow (RedisHub: its pub/sub link is up), so a snapshot read after this misses
        no change. Not counted by `subscriber_count` (nobody is watching a screen)."""
        watch = Watch(self, stream_id, on_message)
        await self._attach(watch)
        return watch

    async def _attach(self, sub: Subscription) -> None:
        self._subscribers.setdefault(sub.stream_id, set()).add(sub)

    def _detach(self, sub: Subscription) -> None:
        subs = self._subscribers.get(sub.stream_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subscribers[sub.stream_id]

    def _fan_out(self, stream_id: str, message: Message) -> None:
        for sub in tuple(self._subscribers.get(stream_id, ())):
            sub.push(message)

    def _resync_all(self) -> None:
        for subs in tuple(self._subscribers.values()):
            for sub in tuple(subs):
                sub.resync()

    def _close_all(self) -> None:
        for subs in tuple(self._subscribers.values()):
            for sub in tuple(subs):
                sub.close()

    def subscriber_count(self, stream_id: str | None = None) -> int:
        streams = self._subscribers.values() if stream_id is None else [self._subscribers.get(stream_id, set())]
        return sum(1 for subs in streams for sub in subs if not isinstance(sub, Watch))


class MemoryHub(_HubBase):
    """Everything in this process: one instance, no Redis."""

    def __init__(self) -> None:
        super().__init__()
        self.redis: aioredis.Redis | None = None  # nothing shared beyond this process
        self.prefix = ""
        self.link: RespLink | None = None
        self._docs: dict[str, tuple[int, dict[str, Any]]] = {}

    async def snapshot(self, stream_id: str) -> tuple[int, dict[str, Any]] | None:
        entry = self._docs.get(stream_id)
        if entry is None:
            return None
        rev, doc = entry
        return rev, json_copy(doc)

    async def sections(self, stream_id: str, names: tuple[str, ...]) -> dict[str, Any] | None:
        entry = self._docs.get(stream_id)
        if entry is None:
            return None
        doc = entry[1]
        return {name: json_copy(doc[name]) for name in names if name in doc}

    async def load(self, stream_id: str, state: dict[str, Any], force: bool = False) -> int:
        if not isinstance(state, dict):
            raise PatchError(f"a state document is an object, not {type(state).__name__}")
        current = self._docs.get(stream_id)
        if current is not None and not force:
            return current[0]
        rev = 1 if current is None else current[0] + 1
        self._docs[stream_id] = (rev, json_copy(state))
        self._fan_out(stream_id, Message(type="resync", rev=rev))
        return rev

    async def apply(self, stream_id: str, ops: list[dict[str, Any]]) -> int:
        checked = check_ops(ops)
        current = self._docs.get(stream_id)
        if current is None:
            raise NotLoaded(stream_id)
        rev, doc = current
        if not checked:
            return rev
        new_doc = apply_ops(doc, checked)  # raises before anything changes
        rev += 1
        self._docs[stream_id] = (rev, new_doc)
        self._fan_out(stream_id, Message(type="patch", rev=rev, server_time=now_ms(), ops=checked))
        return rev

    async def drop(self, stream_id: str) -> None:
        """Forget a stream's document (tests; a deleted stream)."""
        self._docs.pop(stream_id, None)

    async def close(self) -> None:
        self._close_all()
