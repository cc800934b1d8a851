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
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

CueRunner = Callable[[Any, str, dict[str, Any]], Awaitable[dict[str, Any] | None]]

_RUNNERS: dict[str, CueRunner] = {}


class NoCueRunner(LookupError):
    """No package has registered a runner for this cue action (its feature is not installed)."""


def register_cue_runner(action: str, runner: CueRunner) -> None:
    """Set the runner of a cue action (a later registration replaces an earlier one)."""
    if action not in ("countdown", "flash_sale", "lottery", "pin", "note"):
        raise ValueError(f"unknown cue action '{action}'")
    _RUNNERS[action] = runner


def cue_runner(action: str) -> CueRunner:
    runner = _RUNNERS.get(action)
    if runner is None:
        raise NoCueRunner(f"nothing can run '{action}' cues in this service (no runner registered)")
    return runner


def registered_actions() -> list[str]:
    return sorted(_RUNNERS)
