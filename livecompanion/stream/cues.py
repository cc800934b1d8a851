"""The seam through which a fired cue runs: one runner per cue action, held by `Core.cues`.

The composition root (`livecompanion/wiring.py`) registers every runner once at start: the show's
own (countdown, pin, note: `stream/service.py`) and those of the domains that own the action
(flash_sale: `SalesService.run_cue`, lottery: `LotteryService.run_cue`):

    cues.register("flash_sale", sales.run_cue)      # async (stream_id, cue) -> dict | None

`cue` holds the cue's fields as in the script, by their Python names (flash_sale: sku, price (a
number), stock, duration_seconds, first_n, first_n_bonus, per_user_limit; lottery: keyword,
winners, duration_seconds, prize) plus `key` ("<segment id>/<cue index>") and `action`. A runner
returns a small JSON-ready dict (e.g. the new sale's id) that the fire endpoint passes back; it
raises the domain errors of `livecompanion.errors` with a message for the operator.

A cue can be fired faster than the script says (`time_scale`, e.g. a demo played at 20x):
`scale_cue` divides the one duration each timed action has before the runner sees it.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

from livecompanion.errors import Invalid, Unsupported

CUE_ACTIONS = ("countdown", "flash_sale", "lottery", "pin", "note", "product_explain")

CueRunner = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any] | None]]


class NoCueRunner(Unsupported):
    """No runner is registered for this cue action (its feature is not wired in this service)."""


class CueRunners:
    """The runner of each cue action, as the composition root registered them."""

    def __init__(self) -> None:
        self._runners: dict[str, CueRunner] = {}

    def register(self, action: str, runner: CueRunner) -> None:
        """Set the runner of a cue action (a later registration replaces an earlier one)."""
        if action not in CUE_ACTIONS:
            raise ValueError(f"unknown cue action '{action}'")
        self._runners[action] = runner

    def runner(self, action: str) -> CueRunner:
        runner = self._runners.get(action)
        if runner is None:
            raise NoCueRunner(f"nothing can run '{action}' cues in this service (no runner registered)")
        return runner

    def actions(self) -> list[str]:
        return sorted(self._runners)


# The field holding how long a timed action lasts, in seconds.
TIMED_FIELDS = {"countdown": "seconds", "flash_sale": "duration_seconds", "lottery": "duration_seconds"}
MAX_TIME_SCALE = 10_000.0


def check_time_scale(time_scale: Any) -> float:
    """A time scale is a finite number > 0 (and at most MAX_TIME_SCALE); `Invalid` saying what is wrong."""
    if isinstance(time_scale, bool) or not isinstance(time_scale, (int, float)):
        raise Invalid(f"time_scale must be a number > 0, got {time_scale!r}", ("body", "time_scale"))
    if not math.isfinite(time_scale) or not 0 < time_scale <= MAX_TIME_SCALE:
        raise Invalid(f"time_scale must be > 0 and at most {MAX_TIME_SCALE:g}, got {time_scale!r}",
                      ("body", "time_scale"))
    return float(time_scale)


def scale_cue(action: str, fields: dict[str, Any], time_scale: float = 1.0) -> dict[str, Any]:
    """The cue's fields with its duration divided by `time_scale`, rounded to whole seconds, at least 1
    (countdowns, sales and lotteries count whole seconds). Other actions come back unchanged."""
    name = TIMED_FIELDS.get(action)
    time_scale = check_time_scale(time_scale)
    if name is None or time_scale == 1 or fields.get(name) is None:
        return fields
    return {**fields, name: max(1, math.floor(fields[name] / time_scale + 0.5))}  # half up, not to even
