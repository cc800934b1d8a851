"""Counting buying-intent signals by canonical phrase: what the operator reads as 想要 ×132."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from livecompanion.ingest.comments.lexicon import INTENT_PATTERNS

INTENT_PHRASES: tuple[str, ...] = tuple(INTENT_PATTERNS)


@dataclass(frozen=True, slots=True)
class IntentCount:
    phrase: str
    count: int
    last_seen_ms: int


class IntentCounter:
    """Comments per canonical intent phrase since the counter started (or was last reset).

    A comment counts once per phrase however often it repeats it (想要想要想要 is one 想要). The
    phrases are a fixed set, so memory is constant. `reset(ts_ms)` starts a new tally, for example
    when a flash sale opens, and `since_ms` says when the current tally started.
    """

    def __init__(self, started_ms: int = 0) -> None:
        self.since_ms = started_ms
        self._counts: dict[str, int] = {}
        self._last: dict[str, int] = {}

    def add(self, phrases: Iterable[str], ts_ms: int) -> None:
        for phrase in phrases:
            self._counts[phrase] = self._counts.get(phrase, 0) + 1
            self._last[phrase] = max(ts_ms, self._last.get(phrase, ts_ms))

    def count(self, phrase: str) -> int:
        return self._counts.get(phrase, 0)

    def counts(self) -> dict[str, int]:
        """Phrase -> comments, most counted first."""
        return dict(sorted(self._counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def top(self, n: int = 5) -> list[IntentCount]:
        ranked = sorted(self._counts.items(), key=lambda kv: (-kv[1], -self._last[kv[0]]))
        return [IntentCount(phrase, count, self._last[phrase]) for phrase, count in ranked[:n]]

    def reset(self, ts_ms: int) -> None:
        self.since_ms = ts_ms
        self._counts.clear()
        self._last.clear()
