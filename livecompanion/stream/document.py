"""The show's sections of the live state document, built from the script and where the show stands.

Pure: no database, no hub. `service.py` reads the record and calls these; the same functions build
the document at start-up (rebuild after a restart) and the ops of each transition, so the two can
never disagree. The full shape of the document is in `livecompanion/realtime/README.md`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from livecompanion.errors import NotFound
from livecompanion.scripts.models import Script, Segment

CUE_FIELDS = {
    "countdown": ("seconds", "label"),
    "flash_sale": ("sku", "price", "stock", "duration_seconds", "first_n", "first_n_bonus", "per_user_limit"),
    "lottery": ("keyword", "winners", "duration_seconds", "prize"),
    "pin": ("text", "nickname"),
    "note": ("text",),
    "product_explain": ("sku", "mode"),
}


@dataclass
class Show:
    """Where the show stands: the StreamRow columns that matter to the live document."""

    stream_id: str
    status: str = "ready"  # ready | live | ended
    started_ms: int | None = None
    ended_ms: int | None = None
    segment_index: int | None = None
    segment_started_ms: int | None = None
    pinned: dict[str, Any] | None = None
    fired_cues: dict[str, int] = field(default_factory=dict)


def cue_key(segment: Segment, index: int) -> str:
    return f"{segment.id}/{index}"


def cue_fields(cue: Any) -> dict[str, Any]:
    data = cue.model_dump()  # money stays Decimal here; the hub writes it as a number
    return {name: data.get(name) for name in CUE_FIELDS[cue.action]}


def cue_summary(cue: Any) -> str:
    """One line for the run sheet and the teleprompter: what firing this cue does."""
    a = cue.action
    if a == "countdown":
        return f"倒計時 {cue.seconds}s" + (f" {cue.label}" if cue.label else "")
    if a == "flash_sale":
        return f"秒殺 {cue.sku} ¥{cue.price} × {cue.stock}"
    if a == "lottery":
        return f"抽獎「{cue.keyword}」{cue.winners}人" + (f" {cue.prize}" if cue.prize else "")
    if a == "pin":
        return f"置頂: {cue.text}"
    if a == "product_explain":
        return f"{'講解' if cue.mode == 'start' else '結束講解'} {cue.sku}"
    return f"提示: {cue.text}"


def _target(segment: Segment) -> tuple[int | None, int | None]:
    if segment.target is None:
        return None, None
    return segment.target.min_seconds, segment.target.max_seconds


def stream_section(script: Script, show: Show) -> dict[str, Any]:
    return {
        "id": show.stream_id,
        "title": script.title,
        "host": script.host,
        "status": show.status,
        "started_ms": show.started_ms,
        "ended_ms": show.ended_ms,
        "segment_count": len(script.segments),
        "targets": dict(script.targets),  # the script's targets (gmv, ...): the wall shows GMV against it
    }


def ad_law_marks(text: str | None) -> list[dict[str, Any]]:
    """Where the host's text holds a phrase the ad-law lint flags (offsets into the text), so the
    teleprompter can mark it where the host reads it."""
    from livecompanion.scripts.adlaw import find_ad_law_terms

    return [{"start": h.start, "end": h.end, "term": h.term, "category": h.category, "reason": h.reason}
            for h in find_ad_law_terms(text or "")]


def run_sheet(script: Script) -> list[dict[str, Any]]:
    sheet = []
    for index, segment in enumerate(script.segments):
        low, high = _target(segment)
        sheet.append({
            "index": index,
            "id": segment.id,
            "kind": segment.kind,
            "title": segment.title or segment.id,
            "target_min_seconds": low,
            "target_max_seconds": high,
            "product": segment.product,
            "text": segment.text,
            "adlaw": ad_law_marks(segment.text),
            "cues": [
                {"key": cue_key(segment, i), "index": i, "at_seconds": cue.at_seconds, "action": cue.action,
                 "summary": cue_summary(cue), **cue_fields(cue)}
                for i, cue in enumerate(segment.cues)
            ],
        })
    return sheet


def products(script: Script) -> dict[str, Any]:
    return {p.sku: p.model_dump() for p in script.products}


def segment_section(script: Script, show: Show) -> dict[str, Any] | None:
    index = show.segment_index
    if show.status != "live" or index is None:
        return None
    segment = script.segments[index]
    low, high = _target(segment)
    following = script.segments[index + 1] if index + 1 < len(script.segments) else None
    return {
        "index": index,
        "id": segment.id,
        "kind": segment.kind,
        "title": segment.title or segment.id,
        "started_ms": show.segment_started_ms,
        "target_min_seconds": low,
        "target_max_seconds": high,
        "product": segment.product,
        "next": None if following is None else {
            "index": index + 1, "id": following.id, "kind": following.kind,
            "title": following.title or following.id,
        },
    }


def cues_section(script: Script, show: Show) -> dict[str, Any]:
    """Every cue of the script; the live segment's carry `due_ms` (segment start + at)."""
    live = show.segment_index if show.status == "live" else None
    cues: dict[str, Any] = {}
    for index, segment in enumerate(script.segments):
        for i, cue in enumerate(segment.cues):
            key = cue_key(segment, i)
            due = None
            if index == live and show.segment_started_ms is not None:
                due = show.segment_started_ms + cue.at_seconds * 1000
            cues[key] = {
                "segment": segment.id, "index": i, "action": cue.action, "at_seconds": cue.at_seconds,
                "summary": cue_summary(cue), "due_ms": due, "fired_ms": show.fired_cues.get(key),
            }
    return cues


def find_cue(script: Script, key: str) -> tuple[int, Segment, Any]:
    """(segment index, segment, cue) of a cue key `<segment id>/<cue index>`; LookupError if none."""
    segment_id, _, raw_index = key.rpartition("/")
    for index, segment in enumerate(script.segments):
        if segment.id == segment_id and raw_index.isdigit() and int(raw_index) < len(segment.cues):
            return index, segment, segment.cues[int(raw_index)]
    raise NotFound(f"no cue '{key}' in this script (cue keys are '<segment id>/<cue index>')")


EMPTY_METRICS: dict[str, Any] = {"viewers": 0, "comments_per_min": 0, "orders": 0, "gmv": 0, "intent": {}}


def show_sections(script: Script, show: Show) -> dict[str, Any]:
    """The sections this package owns, as they stand."""
    return {
        "stream": stream_section(script, show),
        "segment": segment_section(script, show),
        "cues": cues_section(script, show),
        "pinned": show.pinned,
    }


def build_document(script: Script, show: Show, countdowns: dict[str, Any], now_ms: int) -> dict[str, Any]:
    """A whole document: the show's sections, static ones, and empty defaults for the other domains."""
    return {
        **show_sections(script, show),
        "run_sheet": run_sheet(script),
        "products": products(script),
        "countdowns": countdowns,
        "note": None,
        "prompter": {"seq": 0, "action": None, "value": None, "at_ms": now_ms},
        "flash_sales": {},
        "lotteries": {},
        "metrics": dict(EMPTY_METRICS, intent={}),
        "questions": [],
        "ticker": [],
        "alerts": {},
        "answered": {},  # question key -> ms the host answered it (stream.chat)
    }


def transition_ops(script: Script, show: Show) -> list[dict[str, Any]]:
    """The change that puts the show's sections where `show` says (after next/previous/goto/end)."""
    ops = [{"op": "set", "path": [name], "value": value} for name, value in show_sections(script, show).items()
           if name != "pinned"]
    ops.append({"op": "set", "path": ["note"], "value": None})  # a host note belongs to its segment
    return ops
