"""When each segment and cue of a script happens in a simulated show (pure).

The simulated audience and the demo runner plan from the same timeline, so the crowd bursts into a
flash sale at the moment the runner opens it. Times are milliseconds of show time from the start of
the first segment, at normal speed; the runner divides them by its speed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from livecompanion.scripts.models import Cue, FlashSaleCue, LotteryCue, Product, Script, Segment

DEFAULT_SEGMENT_SECONDS = 10 * 60  # a segment without a target
CUE_TAIL_SECONDS = 30  # a segment runs at least this long past its last cue
DEFAULT_PRICE = Decimal(99)


def planned_seconds(segment: Segment) -> int:
    """How long the simulated host stays on a segment: the middle of its target, but long enough
    for its last cue plus a little, and never past the target's upper end."""
    if segment.target is None:
        planned = DEFAULT_SEGMENT_SECONDS
        upper = None
    else:
        planned = (segment.target.min_seconds + segment.target.max_seconds) // 2
        upper = segment.target.max_seconds
    last_cue = max((cue.at_seconds for cue in segment.cues), default=0)
    planned = max(planned, last_cue + CUE_TAIL_SECONDS)
    return min(planned, upper) if upper is not None else planned


@dataclass(frozen=True, slots=True)
class PlannedSegment:
    index: int
    segment: Segment
    start_ms: int
    end_ms: int

    @property
    def id(self) -> str:
        return self.segment.id or f"segment-{self.index + 1}"


@dataclass(frozen=True, slots=True)
class PlannedCue:
    at_ms: int  # show time at which the cue is due
    key: str  # "<segment id>/<cue index>", as the show names cues
    segment: PlannedSegment
    cue: Cue
    sale_index: int | None = None  # flash sales: their position among the script's flash sales

    @property
    def end_ms(self) -> int:
        """When what the cue started is over (countdowns, sales and lotteries last a while)."""
        seconds = getattr(self.cue, "duration_seconds", None) or getattr(self.cue, "seconds", 0)
        if not isinstance(seconds, int):
            seconds = 0
        return self.at_ms + seconds * 1000


@dataclass(frozen=True)
class Timeline:
    script: Script
    segments: tuple[PlannedSegment, ...]
    cues: tuple[PlannedCue, ...]  # in the order they fall due

    @property
    def length_ms(self) -> int:
        return self.segments[-1].end_ms

    def flash_sales(self) -> list[PlannedCue]:
        return [c for c in self.cues if isinstance(c.cue, FlashSaleCue)]

    def lotteries(self) -> list[PlannedCue]:
        return [c for c in self.cues if isinstance(c.cue, LotteryCue)]


def unit_price(product: Product | None) -> Decimal:
    if product is None:
        return DEFAULT_PRICE
    return product.live_price or product.list_price or DEFAULT_PRICE


def plan_timeline(script: Script) -> Timeline:
    segments: list[PlannedSegment] = []
    cues: list[PlannedCue] = []
    start = 0
    for index, segment in enumerate(script.segments):
        planned = PlannedSegment(index, segment, start, start + planned_seconds(segment) * 1000)
        segments.append(planned)
        for cue_index, script_cue in enumerate(segment.cues):
            cues.append(
                PlannedCue(start + script_cue.at_seconds * 1000, f"{planned.id}/{cue_index}", planned, script_cue)
            )
        start = planned.end_ms
    cues.sort(key=lambda c: c.at_ms)  # stable: cues due at once keep their script order
    numbered: list[PlannedCue] = []
    sales = 0
    for cue in cues:
        if isinstance(cue.cue, FlashSaleCue):
            cue = PlannedCue(cue.at_ms, cue.key, cue.segment, cue.cue, sales)
            sales += 1
        numbered.append(cue)
    return Timeline(script, tuple(segments), tuple(numbered))
