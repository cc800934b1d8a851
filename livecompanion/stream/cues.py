"""The seam through which a fired cue runs: one runner per cue action.

Countdown, pin and note cues are run by this package (registered in `service.py`). Flash-sale and
lottery cues are run by the packages that own those (sales, lottery), which register at import:

    from livecompanion.stream.cues import register_cue_runner

    async def run_flash_sale_cue(services, stream_id: str, cue: dict) -> dict:
        sale = await start_flash_sale(services, stream_id, sku=cue["sku"], price=cue["price"], ...)
        return {"id": sale.id}

    register_cue_runner("flash_sale", run_flash_sale_cue)

`cue` holds the cue's fields as in the script, by their Python names (flash_sale: sku, price (a
number), stock, duration_seconds, first_n, first_n_bonus, per_user_limit; lottery: keyword,
winners, duration_seconds, prize) plus `key` ("<segment id>/<cue index>") and `action`. A runner
returns a small JSON-ready dict (e.g. the new sale's id) that the fire endpoint passes back; it may
raise LookupError (404), ValueError (422) or a ShowError (409) with a message for the operator.

A cue can be fired faster than the script says (`time_scale`, e.g. a demo played at 20x):
`scale_cue` divides the one duration each timed action has before the runner sees it.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

CueRunner = Callable[[Any, str, dict[str, Any]], Awaitable[dict[str, Any] | None]]

_RUNNERS: dict[str, CueRunner] = {}


class NoCueRunner(LookupError):
    """No package has registered a runner for this cue action (its feature is not installed)."""


def register_cue_runner(action: str, runner: CueRunner) -> None:
    """Set the runner of a cue action (a later registration replaces an earlier one)."""
    if action not in ("countdown", "flash_sale", "lottery", "pin", "note", "product_explain"):
        raise ValueError(f"unknown cue action '{action}'")
    _RUNNERS[action] = runner


def cue_runner(action: str) -> CueRunner:
    runner = _RUNNERS.get(action)
    if runner is None:
        raise NoCueRunner(f"nothing can run '{action}' cues in this service (no runner registered)")
    return runner


def registered_actions() -> list[str]:
    return sorted(_RUNNERS)


# The field holding how long a timed action lasts, in seconds.
TIMED_FIELDS = {"countdown": "seconds", "flash_sale": "duration_seconds", "lottery": "duration_seconds"}
MAX_TIME_SCALE = 10_000.0


def check_time_scale(time_scale: Any) -> float:
    """A time scale is a finite number > 0 (and at most MAX_TIME_SCALE); ValueError saying what is wrong."""
    if isinstance(time_scale, bool) or not isinstance(time_scale, (int, float)):
        raise ValueError(f"time_scale must be a number > 0, got {time_scale!r}")
    if not math.isfinite(time_scale) or not 0 < time_scale <= MAX_TIME_SCALE:
        raise ValueError(f"time_scale must be > 0 and at most {MAX_TIME_SCALE:g}, got {time_scale!r}")
    return float(time_scale)


def scale_cue(action: str, fields: dict[str, Any], time_scale: float = 1.0) -> dict[str, Any]:
    """The cue's fields with its duration divided by `time_scale`, rounded to whole seconds, at least 1
    (countdowns, sales and lotteries count whole seconds). Other actions come back unchanged."""
    name = TIMED_FIELDS.get(action)
    time_scale = check_time_scale(time_scale)
    if name is None or time_scale == 1 or fields.get(name) is None:
        return fields
    return {**fields, name: max(1, math.floor(fields[name] / time_scale + 0.5))}  # half up, not to even
