"""The report of a stored stream: events from the record, the script, sales and lottery records.

The one place where the analytics touch the database (through `repository.py` and the stream's
repository, on a session opened here); the maths stays in `report`.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import orjson

from livecompanion.analytics.history import HISTORY_KEYS
from livecompanion.analytics.markers import cue_markers
from livecompanion.analytics.pseudonym import default_pseudonymizer
from livecompanion.analytics.report import compute_report
from livecompanion.analytics.repository import ReportRepository
from livecompanion.errors import NotFound
from livecompanion.scripts.models import Script
from livecompanion.stream.repository import StreamRepository

if TYPE_CHECKING:
    from livecompanion.core import Core

CHUNK_BYTES = 64 << 10  # NDJSON sent in pieces of about this size
# A report's history is the streams just before it, at most this many: each is read from the record
# (its events) to know whether it changed, so more would make every report cost more as a team's
# record grows (a benchmark's 180th stream took over 5 minutes when every earlier one was computed
# afresh for each report: issue 13's bounded work).
HISTORY_STREAMS = 30
# An earlier stream's headline figures, by what they were built from (`ReportInputs.marker`): a
# stream that took no event since is not computed again. A few hundred bytes an entry.
HISTORY_CACHE_SIZE = 1024
_history_cache: OrderedDict[tuple[str, str, str], dict[str, Any]] = OrderedDict()


async def event_log(services: Core, stream_id: str) -> AsyncIterator[bytes]:
    """The stream's stored event log as NDJSON (contract section 2), in the order stored, in pieces
    of about CHUNK_BYTES: rows come from a server-side cursor a batch at a time, so memory holds one
    batch, never the log. NotFound (before the first piece) when there is no such stream."""
    async with services.db.session() as session:
        if not await StreamRepository(session).exists(stream_id):
            raise NotFound(f"no stream '{stream_id}'")
    return _event_lines(services, stream_id)


async def _event_lines(services: Core, stream_id: str) -> AsyncIterator[bytes]:
    dumps = orjson.dumps
    async with services.db.session() as session:
        piece: list[bytes] = []
        size = 0
        async for body in ReportRepository(session).streamed_bodies(stream_id):
            line = dumps(body)
            piece.append(line)
            size += len(line) + 1
            if size >= CHUNK_BYTES:
                yield b"\n".join(piece) + b"\n"
                piece, size = [], 0
        if piece:
            yield b"\n".join(piece) + b"\n"


async def stored_events(services: Core, stream_id: str) -> list[dict[str, Any]]:
    """Every event of the stream in arrival order (the report's "input order" for ties)."""
    async with services.db.session() as session:
        return await ReportRepository(session).event_bodies(stream_id)


@dataclass(frozen=True)
class ReportInputs:
    """What a stream's report is computed from, read from the record (`report_inputs`)."""

    stream_id: str
    title: str
    script: Script
    events: list[dict[str, Any]]
    records: dict[str, list[dict[str, Any]]]
    pseudonymizer: Any
    markers: list[dict[str, Any]]
    history_ids: tuple[str, ...]  # the streams before this one, whose reports are its history
    history: tuple[dict[str, Any], ...] = ()  # their reports, filled by `with_history`

    def compute(self) -> dict[str, Any]:
        """The report (CPU-bound, seconds on a big stream: run it off the event loop)."""
        report = compute_report(self.events, self.script, pseudonymizer=self.pseudonymizer,
                                flash_sales=self.records["flash_sales"], lotteries=self.records["lotteries"],
                                markers=self.markers, history=list(self.history))
        report["stream_id"] = self.stream_id
        report.setdefault("title", self.title)
        return report


    def marker(self) -> str:
        """What the report is built from, in a few bytes: the events' count and last one, the
        records, the history's streams."""
        digest = hashlib.blake2b(digest_size=16)
        digest.update(str(len(self.events)).encode())
        if self.events:
            digest.update(orjson.dumps(self.events[-1], option=orjson.OPT_SORT_KEYS))
        digest.update(orjson.dumps(self.records, option=orjson.OPT_SORT_KEYS, default=str))
        digest.update(orjson.dumps(self.history_ids))
        return digest.hexdigest()

    async def with_history(self, services: Core) -> ReportInputs:
        """These inputs with the headline figures of the last HISTORY_STREAMS of `history_ids`
        (each computed once per state of its record, off the event loop)."""
        earlier = [await _history_entry(services, other) for other in self.history_ids[-HISTORY_STREAMS:]]
        return replace(self, history=tuple(earlier))


async def _history_entry(services: Core, stream_id: str) -> dict[str, Any]:
    """What `history.history_of` reads of an earlier stream's report: its start and headline figures."""
    inputs = await report_inputs(services, stream_id, with_history=False)
    key = (str(services.db.url), stream_id, inputs.marker())
    entry = _history_cache.get(key)
    if entry is None:
        report = await asyncio.to_thread(inputs.compute)
        entry = {k: report.get(k) for k in ("start", *HISTORY_KEYS)}
        _history_cache[key] = entry
        while len(_history_cache) > HISTORY_CACHE_SIZE:
            _history_cache.popitem(last=False)
    else:
        _history_cache.move_to_end(key)
    return entry


async def report_inputs(services: Core, stream_id: str, *, with_history: bool = True) -> ReportInputs:
    """Everything the report of a stored stream needs but the history's reports; with
    `with_history`, the ids of the streams created before it (`ReportInputs.with_history`)."""
    from livecompanion.sales.service import report_records

    async with services.db.session() as session:
        repo = StreamRepository(session)
        row = await repo.get(stream_id)
        ids = await repo.ids(archived=False) if with_history else []  # archived ones are no history
    if row is None:
        raise NotFound(f"no stream '{stream_id}'")
    script = Script.model_validate(row.script)
    before = tuple(ids[:ids.index(stream_id)]) if stream_id in ids else ()
    events = await stored_events(services, stream_id)
    records = await report_records(services.db, stream_id)
    pseudonymizer = default_pseudonymizer(services.settings.pseudonym_key, services.settings.data_dir)
    return ReportInputs(stream_id, row.title, script, events, records, pseudonymizer,
                        cue_markers(row.fired_cues or {}, script), before)


async def stream_report(services: Core, stream_id: str, *, with_history: bool = True) -> dict[str, Any]:
    """The report of a stored stream; with `with_history`, against the streams created before it."""
    # The computation is CPU-bound and can take seconds on a big stream: keep the event loop free.
    inputs = await report_inputs(services, stream_id, with_history=with_history)
    return await asyncio.to_thread((await inputs.with_history(services)).compute)


async def all_reports(services: Core) -> list[dict[str, Any]]:
    async with services.db.session() as session:
        ids = await StreamRepository(session).ids(archived=False)  # archived ones stay out of comparisons
    return [await stream_report(services, stream_id, with_history=False) for stream_id in ids]
