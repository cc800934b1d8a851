"""The console's chat feed and the questions the host has answered.

The feed is read from the record (the stored `comment` events, newest first), so every console on
every instance sees the same comments; each carries what the comment classifier makes of it
(question with its group key, buying intent, spam) so the console can filter and count questions
over any window ("last 10 minutes", "whole stream") without another tally. Spam never shows.

Answered questions are `streams.answered` ({question key: ms}) and the live document's `answered`
section: a group marked answered leaves the host's lists until someone asks it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from livecompanion.clock import now_ms
from livecompanion.core import Core
from livecompanion.errors import Invalid
from livecompanion.ingest.comments import classify_comment, display_text, question_key
from livecompanion.realtime import set_op
from livecompanion.storage.db import Database
from livecompanion.stream.repository import StreamRepository
from livecompanion.stream.service import locked_stream

MAX_FEED = 500


@dataclass(frozen=True, slots=True)
class ChatLine:
    seq: int
    ts: int
    user_id: str | None
    nickname: str | None
    text: str
    kind: str  # question | intent | chitchat
    question_key: str | None
    intents: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "ts": self.ts, "user_id": self.user_id, "nickname": self.nickname,
                "text": self.text, "kind": self.kind, "question_key": self.question_key,
                "intents": list(self.intents)}


def chat_line(seq: int, ts: int, user_id: str | None, body: dict[str, Any]) -> ChatLine | None:
    """A stored comment as the feed shows it; None for spam and for comments with nothing to show."""
    raw = str(body.get("text") or "")
    analysis = classify_comment(raw)
    shown = display_text(raw) or raw.strip()
    if analysis.kind == "spam" or not shown:
        return None
    key = question_key(raw) if analysis.kind == "question" else None
    return ChatLine(seq, ts, user_id, body.get("nickname"), shown, analysis.kind, key, analysis.intents)


async def chat_feed(db: Database, stream_id: str, *, after_seq: int = 0, since_ms: int | None = None,
                    limit: int = 100) -> list[ChatLine]:
    """Comments newer than `after_seq` (and, if given, sent at or after `since_ms`), newest first."""
    if not 1 <= limit <= MAX_FEED:
        raise Invalid(f"limit 必須在 1 到 {MAX_FEED} 之間 / limit must be 1 to {MAX_FEED}", loc=("query", "limit"))
    async with db.session() as session:
        rows = await StreamRepository(session).comments(stream_id, after_seq=after_seq, since_ms=since_ms,
                                                        limit=limit)
    lines = (chat_line(seq, ts, user, body) for seq, ts, user, body in rows)
    return [line for line in lines if line is not None]


async def mark_answered(core: Core, stream_id: str, key: str, answered: bool = True) -> dict[str, Any]:
    """Mark a question group answered (or not) for every screen; returns the `answered` section."""
    key = key.strip()
    if not 1 <= len(key) <= 200:
        raise Invalid("問題的 key 必須是 1 到 200 個字元 / key must be 1 to 200 characters", loc=("body", "key"))
    async with locked_stream(core, stream_id) as locked:
        marks = dict(locked.row.answered or {})
        if answered:
            marks[key] = now_ms()
        else:
            marks.pop(key, None)
        locked.row.answered = marks
        locked.ops = [set_op(["answered"], marks)]
    return marks
