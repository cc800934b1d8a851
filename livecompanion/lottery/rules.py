"""Who takes part in a lottery and what a lottery may be: pure (no I/O).

The draw itself (seeded, re-runnable by anyone) is `draw.py`; the record is `repository.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from livecompanion.errors import Invalid
from livecompanion.storage.tables import LotteryRow
from livecompanion.text import for_display

MAX_DURATION_SECONDS = 24 * 3600
MAX_WINNERS = 10_000


@dataclass(frozen=True, slots=True)
class Entry:
    user_id: str
    nickname: str | None
    entered_ms: int


def check_terms(*, winners: Any, duration_seconds: Any) -> None:
    """Bad terms -> `Invalid` naming the field (422)."""
    if isinstance(winners, bool) or not isinstance(winners, int) or not 1 <= winners <= MAX_WINNERS:
        raise Invalid(f"winners must be an integer from 1 to {MAX_WINNERS:,}, got {winners!r}")
    if (isinstance(duration_seconds, bool) or not isinstance(duration_seconds, int)
            or not 1 <= duration_seconds <= MAX_DURATION_SECONDS):
        raise Invalid(f"duration_seconds must be an integer from 1 to {MAX_DURATION_SECONDS:,}, "
                         f"got {duration_seconds!r}")


def display_name(nickname: str | None, user_id: str) -> str:
    """What the overlay shows for a winner: the nickname, else the end of the user id."""
    return for_display(nickname) if nickname else "***" + for_display(user_id[-4:])


def eligible(row: LotteryRow, entries: list[Entry]) -> list[Entry]:
    """The entries the draw picks from: not excluded by id, nor by nickname (the host's own)."""
    excluded = row.excluded or {}
    ids = set(excluded.get("user_ids") or ())
    names = set(excluded.get("nicknames") or ())
    return [e for e in entries if e.user_id not in ids and (e.nickname is None or e.nickname not in names)]
