"""The live show's service functions: plain async functions of (core, stream_id, ...).

The record (StreamRow, CountdownRow, the event log) is the truth; the hub holds the live document
built from it. Every change is written to the record and applied to the hub while the stream's row
is locked (SELECT ... FOR NO KEY UPDATE on PostgreSQL, plus a per-process lock), so two operators on two
instances cannot make the screens disagree with the record. When the hub lacks the document it is
rebuilt from the record (`load_state`), e.g. after a restart or on a new instance.

A pin (the evening's frequent action) changes one column: on PostgreSQL it is one UPDATE on the
show's own connections (`row_write.py`; the UPDATE takes the same row lock), two round trips where
`locked_stream` makes seven, ~3 ms less of the instance's CPU.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from livecompanion.bounded import trim
from livecompanion.clock import now_ms
from livecompanion.errors import Conflict, Invalid, NotFound
from livecompanion.realtime import NotLoaded, del_op, set_op
from livecompanion.scripts.models import Script
from livecompanion.storage.tables import CountdownRow, StreamRow
from livecompanion.stream import machine, row_write
from livecompanion.stream.document import Show, build_document, transition_ops
from livecompanion.stream.machine import ShowError
from livecompanion.stream.moves import ShowMove
from livecompanion.stream.repository import StreamRepository
from livecompanion.text import for_display

if TYPE_CHECKING:
    from livecompanion.core import Core

log = logging.getLogger(__name__)

KEEP_STREAMS = 256  # streams whose lock and parsed script stay cached (bounded.py)
_locks: dict[str, asyncio.Lock] = {}
_scripts: dict[str, Script] = {}  # scripts never change once a stream exists


def _lock(stream_id: str) -> asyncio.Lock:
    lock = _locks.get(stream_id)
    if lock is None:
        trim(_locks, KEEP_STREAMS, lambda held: not held.locked())  # an unheld lock has no waiters
        lock = _locks[stream_id] = asyncio.Lock()
    return lock


def script_of(row: StreamRow) -> Script:
    script = _scripts.get(row.id)
    if script is None:
        trim(_scripts, KEEP_STREAMS)
        script = _scripts[row.id] = Script.model_validate(row.script)
    return script


def show_of(row: StreamRow) -> Show:
    return Show(
        stream_id=row.id, status=row.status, started_ms=row.started_ms, ended_ms=row.ended_ms,
        segment_index=row.segment_index, segment_started_ms=row.segment_started_ms,
        pinned=row.pinned, fired_cues=dict(row.fired_cues or {}),
    )


async def _row(streams: StreamRepository, stream_id: str, lock: bool = False) -> StreamRow:
    row = await streams.get(stream_id, lock=lock)
    if row is None:
        raise NotFound(f"no stream '{stream_id}'")
    return row


def _countdown_value(row: CountdownRow) -> dict[str, Any]:
    return {"label": row.label, "seconds": row.seconds, "started_ms": row.started_ms, "ends_at": row.ends_ms}


# ---- the document in the hub ----------------------------------------------------------------------

async def build_state(core: Core, stream_id: str) -> dict[str, Any]:
    """The whole live document as the record says it is now."""
    now = now_ms()
    async with core.db.session() as session:
        streams = StreamRepository(session)
        row = await _row(streams, stream_id)
        running = {c.id: _countdown_value(c) for c in await streams.running_countdowns(stream_id, now)}
    doc = build_document(script_of(row), show_of(row), running, now)
    doc["answered"] = dict(row.answered or {})
    doc.update(await core.sections.load(stream_id, now))
    return doc


async def load_state(core: Core, stream_id: str) -> tuple[int, dict[str, Any]]:
    """(rev, state) of the stream; rebuilt from the record into the hub if the hub lacks it.

    Raises NotFound for an unknown stream.
    """
    snap = await core.hub.snapshot(stream_id)
    if snap is not None:
        return snap
    state = await build_state(core, stream_id)
    rev = await core.hub.load(stream_id, state)  # not forced: another instance may have been first
    snap = await core.hub.snapshot(stream_id)
    return snap if snap is not None else (rev, state)


async def reload_state(core: Core, stream_id: str) -> int:
    """Rebuild the document from the record and replace the hub's copy (screens get a snapshot)."""
    return await core.hub.load(stream_id, await build_state(core, stream_id), force=True)


async def apply(core: Core, stream_id: str, ops: list[dict[str, Any]]) -> int:
    """Apply a change to a stream's document, loading the document first if the hub lacks it.

    For other domains (ingest metrics, flash sales, lotteries) that change their own sections.
    """
    try:
        return await core.hub.apply(stream_id, ops)
    except NotLoaded:
        await load_state(core, stream_id)
        return await core.hub.apply(stream_id, ops)


class _Locked:
    """What `locked_stream` yields: the stream repository on the session, the locked row, and the hub
    changes to make."""

    __slots__ = ("ops", "rev", "row", "streams")

    def __init__(self, streams: StreamRepository, row: StreamRow) -> None:
        self.streams = streams
        self.row = row
        self.ops: list[dict[str, Any]] = []
        self.rev: int | None = None  # the hub's rev after the ops (None: rebuilt instead)


@asynccontextmanager
async def locked_stream(core: Core, stream_id: str) -> AsyncIterator[_Locked]:
    """A session with the stream's row locked. On exit the ops gathered in `.ops` go to the hub
    while the row is still locked (so the screens change in the record's order), then the record
    commits. If the hub lacks the document, or the commit fails after the hub changed, the document
    is rebuilt from the committed record instead. Raises NotFound for an unknown stream."""
    reload = False
    async with _lock(stream_id), core.db.session() as session:
        streams = StreamRepository(session)
        locked = _Locked(streams, await _row(streams, stream_id, lock=True))
        yield locked
        await session.flush()
        if locked.ops:
            try:
                locked.rev = await core.hub.apply(stream_id, locked.ops)
            except NotLoaded:
                reload = True  # rebuilt below from the committed record, which has this change
        try:
            await session.commit()
        except Exception:
            await session.rollback()
            if locked.ops and not reload:
                await reload_state(core, stream_id)
            raise
    if reload:
        await reload_state(core, stream_id)


# ---- segments ---------------------------------------------------------------------------------------

Step = Callable[[Show, Script, int], Show]


async def _transition(core: Core, stream_id: str, step: Step, from_index: int | None,
                      logged_ms: int | None = None, logged_id: str | None = None) -> dict[str, Any]:
    """Move the show one step. `logged_ms`, `logged_id`: the time and id written on the segment
    event of the log instead of the server's clock and none (a rehearsal replays a recorded show:
    livecompanion/rehearsal); the show's own clock (segment_started_ms, what screens count from)
    is always the server's."""
    async with locked_stream(core, stream_id) as locked:
        row = locked.row
        script, show = script_of(row), show_of(row)
        if from_index is not None and show.segment_index != from_index:
            live = "尚未開播" if show.segment_index is None else f"第 {show.segment_index + 1} 段"
            raise ShowError(
                f"直播已被切換，現在是{live} / the live segment is {show.segment_index}, not {from_index}: "
                "someone else moved the show"
            )
        now = now_ms()
        new = step(show, script, now)
        row.status, row.started_ms, row.ended_ms = new.status, new.started_ms, new.ended_ms
        row.segment_index, row.segment_started_ms = new.segment_index, new.segment_started_ms
        if new.status == "live" and new.segment_started_ms == now and new.segment_index is not None:
            if logged_id is not None and await locked.streams.has_event(stream_id, logged_id):
                raise Conflict("duplicate_id", f"id: '{logged_id}' is in this stream's log already")
            locked.streams.add_segment_event(stream_id, script.segments[new.segment_index].id, now,
                                             logged_ms, logged_id)
        locked.ops = transition_ops(script, new)
        if new.status == "ended" and show.status != "ended":
            await _clear_for_end(locked, stream_id, now)
    await core.show_listeners.tell(stream_id, script, ShowMove.of(script, new))  # after the commit
    return _show_result(script, new) | {"rev": locked.rev}


def _show_result(script: Script, show: Show) -> dict[str, Any]:
    segment = None
    if show.status == "live" and show.segment_index is not None:
        seg = script.segments[show.segment_index]
        segment = {"index": show.segment_index, "id": seg.id, "title": seg.title or seg.id, "kind": seg.kind,
                   "started_ms": show.segment_started_ms}
    return {"status": show.status, "started_ms": show.started_ms, "ended_ms": show.ended_ms,
            "segment": segment}


async def next_segment(core: Core, stream_id: str, from_index: int | None = None) -> dict[str, Any]:
    """Go live with the next segment; the first call starts the stream, the call after the last ends it."""
    return await _transition(
        core, stream_id, lambda show, script, now: machine.next_segment(show, len(script.segments), now),
        from_index,
    )


async def previous_segment(core: Core, stream_id: str, from_index: int | None = None) -> dict[str, Any]:
    return await _transition(
        core, stream_id,
        lambda show, script, now: machine.previous_segment(show, len(script.segments), now), from_index,
    )


async def goto_segment(
    core: Core, stream_id: str, index: int | None = None, segment_id: str | None = None,
    from_index: int | None = None, logged_ms: int | None = None, logged_id: str | None = None,
) -> dict[str, Any]:
    """Go live with any segment, by index (0-based) or by its id. `logged_ms`, `logged_id`: the
    segment event's time and id in the log instead of now and none (a rehearsal's recorded ones);
    the time within the ingest's window."""
    if (index is None) == (segment_id is None):
        raise Invalid("give exactly one of 'index' or 'id'", ("body",))
    if logged_id is not None and logged_id.startswith("alert:"):  # ingest/reserved.py: the alerts' ids
        raise Invalid(f"event_id: '{logged_id[:100]}' is reserved for the service's alerts", ("body", "event_id"))
    skew_hours = core.settings.max_ts_skew_hours
    if logged_ms is not None and skew_hours > 0 and abs(logged_ms - now_ms()) > skew_hours * 3_600_000:
        raise Invalid(f"ts: {logged_ms} is more than {skew_hours:g} h from the server's clock "
                      "(the ingest's window on event times)", ("body", "ts"))

    def step(show: Show, script: Script, now: int) -> Show:
        target = index
        if segment_id is not None:
            ids = script.segment_ids()
            if segment_id not in ids:
                raise NotFound(f"no segment '{segment_id}' in this script (ids: {', '.join(ids)})")
            target = ids.index(segment_id)
        assert target is not None
        return machine.goto_segment(show, target, len(script.segments), now)

    return await _transition(core, stream_id, step, from_index, logged_ms, logged_id)


async def end_stream(core: Core, stream_id: str) -> dict[str, Any]:
    """End the show here: the countdowns and the pin are cleared with it (the sales and lotteries
    are ended by `stream.ending`, which calls this first)."""
    return await _transition(core, stream_id, lambda show, script, now: machine.end(show, now), None)


async def reopen_stream(core: Core, stream_id: str) -> dict[str, Any]:
    """Put an ended show back on air at its last segment (the console asks the operator first)."""
    return await _transition(
        core, stream_id, lambda show, script, now: machine.reopen(show, len(script.segments), now), None
    )


async def _clear_for_end(locked: _Locked, stream_id: str, now: int) -> None:
    """In the End transaction: running countdowns cancelled, the pin and the ticker taken down."""
    running = await locked.streams.cancel_running_countdowns(stream_id, now)
    locked.row.pinned = None
    locked.ops += [del_op(["countdowns", c]) for c in running]
    locked.ops += [set_op(["pinned"], None), set_op(["ticker"], [])]


def refuse_if_ended(row: StreamRow) -> None:
    """Nothing starts on an ended show (409 `ended`): its controls are off until it is reopened."""
    if row.status == "ended":
        raise machine.ended_error()


# ---- countdowns, pins, notes, the teleprompter remote -------------------------------------------------

MAX_COUNTDOWN_SECONDS = 24 * 3600


async def start_countdown(core: Core, stream_id: str, seconds: int, label: str | None = None) -> dict[str, Any]:
    """Start a countdown; every screen counts to the same absolute `ends_at` (epoch ms)."""
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 1 <= seconds <= MAX_COUNTDOWN_SECONDS:
        raise Invalid(f"seconds must be a whole number from 1 to {MAX_COUNTDOWN_SECONDS}, got {seconds!r}",
                      ("body", "seconds"))
    now = now_ms()
    countdown = CountdownRow(id=secrets.token_hex(6), stream_id=stream_id, label=label, seconds=seconds,
                             started_ms=now, ends_ms=now + seconds * 1000, cancelled=False)
    async with locked_stream(core, stream_id) as locked:
        refuse_if_ended(locked.row)
        ended = await locked.streams.countdowns_ended_since(stream_id, now - 86_400_000, now)
        locked.streams.add_countdown(countdown)
        locked.ops = [del_op(["countdowns", old]) for old in ended]  # tidy up the ones that are over
        locked.ops.append(set_op(["countdowns", countdown.id], _countdown_value(countdown)))
    return {"id": countdown.id, "ends_at": countdown.ends_ms, "label": label, "seconds": seconds}


async def cancel_countdown(core: Core, stream_id: str, countdown_id: str) -> None:
    async with locked_stream(core, stream_id) as locked:
        if not await locked.streams.cancel_countdown(stream_id, countdown_id):
            raise NotFound(f"no countdown '{countdown_id}' in stream '{stream_id}'")
        locked.ops = [del_op(["countdowns", countdown_id])]


MAX_PIN_TEXT = 500


async def pin(core: Core, stream_id: str, text: str, nickname: str | None = None) -> dict[str, Any]:
    """Pin a comment on the overlay (replacing any pinned one). Shown as text, never as markup."""
    text = (text or "").strip()
    if not text or len(text) > MAX_PIN_TEXT:
        raise Invalid(f"a pinned comment needs 1 to {MAX_PIN_TEXT} characters of text", ("body", "text"))
    # Shown as typed: bidirectional overrides taken out ("abc\u202egnp.exe" must not read "abcexe.png").
    pinned = {"text": for_display(text), "nickname": for_display((nickname or "").strip()) or None,
              "pinned_ms": now_ms()}
    await _set_pinned(core, stream_id, pinned, refuse_ended=True)
    return pinned


async def unpin(core: Core, stream_id: str) -> None:
    await _set_pinned(core, stream_id, None, refuse_ended=False)


async def _set_pinned(core: Core, stream_id: str, pinned: dict[str, Any] | None, *, refuse_ended: bool) -> None:
    """The record's `pinned` and the hub's, as `locked_stream` does it: the hub changed while the
    row is locked, rebuilt from the record if it lacks the document or the commit fails after it
    changed. On PostgreSQL in one statement (`row_write.py`: 3 round trips instead of 7)."""
    ops = [set_op(["pinned"], pinned)]
    connections = row_write.operator_connections(core.db)
    if connections is None:
        async with locked_stream(core, stream_id) as locked:
            if refuse_ended:
                refuse_if_ended(locked.row)
            locked.row.pinned = pinned
            locked.ops = ops
        return
    applied = reload = False
    async with _lock(stream_id):
        try:
            async with row_write.pinned_set(connections, stream_id, pinned, refuse_ended=refuse_ended):
                try:
                    await core.hub.apply(stream_id, ops)
                    applied = True
                except NotLoaded:
                    reload = True  # rebuilt below from the committed record, which has this change
        except Exception:
            if applied:  # the screens show a change the record did not keep
                await reload_state(core, stream_id)
            raise
    if reload:
        await reload_state(core, stream_id)


async def show_note(core: Core, stream_id: str, text: str, key: str | None = None) -> dict[str, Any]:
    """Show a note to the host on the teleprompter (not on the overlay) until the segment changes."""
    note = {"text": text, "key": key, "shown_ms": now_ms()}
    await apply(core, stream_id, [set_op(["note"], note)])
    return note


PROMPTER_ACTIONS = ("play", "pause", "toggle", "speed", "faster", "slower", "back", "forward", "top",
                    "bigger", "smaller", "mirror_h", "mirror_v")


async def prompter_command(core: Core, stream_id: str, action: str, value: float | None = None) -> dict[str, Any]:
    """A remote-control command for every teleprompter of the stream (they act on the patch)."""
    if action not in PROMPTER_ACTIONS:
        raise Invalid(f"unknown teleprompter action '{action}' (one of: {', '.join(PROMPTER_ACTIONS)})",
                      ("body", "action"))
    if action == "speed" and (value is None or not 1 <= value <= 9):
        raise Invalid("'speed' needs a value from 1 to 9", ("body", "value"))
    command = {"action": action, "value": value, "at_ms": now_ms()}
    # NotFound for an unknown stream (from the load when the hub lacks the document). It used to
    # read the whole document first just to find that out, at every play, pause or speed step.
    await apply(core, stream_id, [set_op(["prompter"], command)])
    return command


__all__ = [
    "ShowError", "apply", "build_state", "cancel_countdown", "end_stream", "goto_segment",
    "load_state", "locked_stream", "next_segment", "pin", "previous_segment", "prompter_command",
    "reload_state", "reopen_stream", "show_note", "start_countdown", "unpin",
]
