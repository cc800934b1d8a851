"""Repeated events: of the events sharing an `id`, the one first in ts order (ties: input order)
stays, the others are left out.

Most repeats are a bridge sending an event again right away; the collector's loop drops those as
they come (same id and no earlier ts than the last event it took). What is left is found here, at
the end, from the id of every input position: one pass puts all ids in a set, a block at a time,
which says whether there are any repeats at all (the common answer: no) and if so, which ids may
be repeated; only those are counted and their events looked up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from itertools import chain, compress
from typing import Any

from livecompanion.analytics.columns import Column

_MORE_THAN_ONE = (1).__lt__


def copies_to_drop(columns: Mapping[str, Column], ids: list[str | None]) -> dict[str, set[int]]:
    """Per column, the rows to leave out. `ids[p]` is the id of the event at input position p (None:
    no id, or no event there); a column's `seq` holds the input position of each of its rows."""
    repeated = repeated_values(list(filter(None, ids)))  # None aside (an empty id is invalid)
    if not repeated:
        return {}
    same_id: dict[str | None, list[int]] = {}  # id (never None: not repeated) -> input positions
    for p in compress(range(len(ids)), map(repeated.__contains__, ids)):
        same_id.setdefault(ids[p], []).append(p)
    involved = set(chain.from_iterable(same_id.values()))
    found: dict[int, tuple[int, int, str, int]] = {}  # input position -> (ts, position, column, row)
    for name, c in columns.items():
        for row in compress(range(len(c.seq)), map(involved.__contains__, c.seq)):
            found[c.seq[row]] = (c.ts[row], c.seq[row], name, row)
    dropped: dict[str, set[int]] = {}
    for positions in same_id.values():
        copies = [found[p] for p in positions]
        kept = min(copies)  # by ts, then input position (never equal)
        for rec in copies:
            if rec is not kept:
                dropped.setdefault(rec[2], set()).add(rec[3])
    return dropped


def repeated_values(values: Sequence[Any], block: int = 1024) -> set[Any]:
    """The values that occur more than once.

    Each block goes into a set of all values seen; a block that grows it by its own length holds no
    value seen before, the common case (costing just the set, at C speed). Otherwise the values
    repeated inside the block are counted there, and if a value was seen in an earlier block, all
    the block's values become suspects, counted over all values at the end."""
    seen: set[Any] = set()
    add_all = seen.update
    repeated: set[Any] = set()
    suspects: set[Any] = set()
    for i in range(0, len(values), block):
        chunk = values[i:i + block]
        before = len(seen)
        add_all(chunk)
        missing = len(chunk) - (len(seen) - before)  # values seen before, in this block or earlier
        if missing:
            distinct = set(chunk)
            if len(chunk) - len(distinct) == missing:
                counts = Counter(chunk)
                repeated.update(compress(counts, map(_MORE_THAN_ONE, counts.values())))
            else:
                suspects |= distinct
    if suspects:
        counts = Counter(filter(suspects.__contains__, values))
        repeated.update(compress(counts, map(_MORE_THAN_ONE, counts.values())))
    return repeated
