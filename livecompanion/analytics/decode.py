"""NDJSON lines to values (`decode_line`, `decode_piece`, `NotJSON`: livecompanion/ndjson.py, re-exported
here), and `plain_cents`: an order amount in its plainest shapes, read without the order model.
"""

from __future__ import annotations

import re
from typing import Any

from livecompanion.events.limits import AMOUNT_DIGITS, AMOUNT_PLACES, MAX_AMOUNT_WHOLE
from livecompanion.ndjson import NotJSON, decode_line, decode_piece

__all__ = ["NotJSON", "decode_line", "decode_piece", "plain_cents"]

# An amount the order model surely takes as it is: whole digits (at most 12, no leading zero) and
# at most two decimals; anything else (floats, exponents, other digits, blanks) is left to it.
_AMOUNT = re.compile(rf"(?:0|[1-9][0-9]{{0,{AMOUNT_DIGITS - AMOUNT_PLACES - 1}}})(?:\.[0-9]{{1,{AMOUNT_PLACES}}})?")


def plain_cents(amount: Any) -> int | None:
    """An order's amount in cents when it is an integer or a `_AMOUNT` string (exactly what the
    order model makes of it), else None: the order model decides."""
    if type(amount) is int:
        return amount * 100 if 0 <= amount < MAX_AMOUNT_WHOLE else None
    if type(amount) is str and _AMOUNT.fullmatch(amount):
        whole, _, decimals = amount.partition(".")
        return int(whole) * 100 + int(decimals.ljust(2, "0"))
    return None
