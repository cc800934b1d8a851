"""The limits of the events' fields (contract section 2), in one place.

Three readers check events against them and must agree exactly: the pydantic models
(`events/models.py`, which also word the reason for a rejection), ingest's plain checks of the
common shapes (`events/plain.py`) and the report's collector (`analytics/collect.py`); the tests of
each compare them with `parse_event`. A new field or a changed limit is one edit here.

The report's collector binds them to local names once per call of its loop; ingest's `plain_event`
reads them as module globals (no slower than literals: 1,440-1,840 vs 1,590-2,150 ns an event over
a mix of comments, likes and impressions, interleaved runs on a busy machine).
"""

from __future__ import annotations

from typing import Literal, get_args

MAX_TS = 10**14  # integer epoch-ms `ts` lies in 0 <= ts < MAX_TS (about the year 5138)
# Ingest (not the offline report) also refuses a `ts` further than this from the server's clock
# (Settings.max_ts_skew_hours; this is its default): a platform time in the wrong unit, or a client
# clock years off, would otherwise land in the wrong minute forever.
MAX_TS_SKEW_MS = 86_400_000
MAX_ID = 200  # `id`, `user_id`, `order_id`: 1..MAX_ID characters
MAX_NICKNAME = 200  # 0..MAX_NICKNAME characters
MAX_PLATFORM = 50  # 0..MAX_PLATFORM characters
MAX_TEXT = 2000  # a comment: 1..MAX_TEXT characters (a chat message longer than this is not one)
MAX_SKU = 100  # 1..MAX_SKU characters
MAX_SEGMENT = 100  # a segment id: 1..MAX_SEGMENT characters
MAX_VIEWERS = 1_000_000_000  # a `viewer_count`'s `count`: 0..MAX_VIEWERS (more than any room holds)
MAX_COUNT = 1_000_000  # a like's `count` and an order's `qty`: 1..MAX_COUNT
# An order's `amount`: a non-negative decimal of at most AMOUNT_DIGITS digits, AMOUNT_PLACES of
# them after the point, i.e. below MAX_AMOUNT_WHOLE in whole units.
AMOUNT_DIGITS = 14
AMOUNT_PLACES = 2
MAX_AMOUNT_WHOLE = 10 ** (AMOUNT_DIGITS - AMOUNT_PLACES)

OrderStatus = Literal["created", "paid", "cancelled", "refunded"]
ExplainAction = Literal["start", "stop"]  # product_explain: 講解 begins or ends
ORDER_STATUSES: tuple[str, ...] = get_args(OrderStatus)
