"""The wall clock as every part of the service reads it: epoch milliseconds.

One definition, so the record, the screens and the report agree on what a timestamp is.
"""

from __future__ import annotations

import time


def now_ms() -> int:
    """Epoch milliseconds now (wall clock: comparable across instances and with events' `ts`)."""
    return int(time.time() * 1000)
