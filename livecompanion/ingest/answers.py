"""What a sender of events counts of the ingest API's answers (contract section 5).

Every sending client (`bridge`'s pusher, the demo's audience, `rehearse`, scripts/replay.py) sends
batches and reads back `{"accepted": N, "duplicates": D, "rejected": [{"index": I, "reason": R}]}`
(the HTTP 200 body and the ingest socket's `ack` alike). `IngestCounts` is the one place those
answers are added up; each client subclasses it with what only it counts (segment moves, reconnects,
claims) and counts `sent` itself, since each sends at a different step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass
class IngestCounts:
    """Events sent, and what the service answered for them: accepted, duplicates, rejected (with
    how often each rejection reason came back)."""

    # Reasons are cut to this many characters before counting (None: kept whole). A long-running
    # client sets it so one event's long value cannot grow the table without bound.
    REASON_CHARS: ClassVar[int | None] = None

    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, answer: Mapping[str, Any], *, reasons_per_answer: int | None = None) -> list[Any]:
        """Count one answer. Of its rejected items, the first `reasons_per_answer` (None: all) have
        their reason counted in `reasons`. Returns the rejected items."""
        self.accepted += int(answer.get("accepted", 0))
        self.duplicates += int(answer.get("duplicates", 0))
        rejected: list[Any] = answer.get("rejected") or []
        self.rejected += len(rejected)
        for item in rejected[:reasons_per_answer]:
            self.count_reason(str(item.get("reason", "")))
        return rejected

    def count_reason(self, reason: str) -> str:
        """One more of `reason` (cut to REASON_CHARS); the reason as counted."""
        if self.REASON_CHARS is not None:
            reason = reason[: self.REASON_CHARS]
        self.reasons[reason] = self.reasons.get(reason, 0) + 1
        return reason
