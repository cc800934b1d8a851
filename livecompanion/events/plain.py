"""The common shapes of the high-volume events, checked without pydantic (ingest's hot path).

    data = plain_event(raw, received_ms)    # a dict, or None: take it through parse_event

A big room sends impressions, enters and leaves, comments and likes by the ten thousand a second;
validating each through the pydantic models costs more than storing it. `plain_event` accepts the
plain form of those events (string ids without surrounding blanks, integer epoch-ms `ts`, integer
counts) and returns the event exactly as `parse_event` + `event_to_dict` would give it: `ts`
filled in, unknown fields and nulls left out, a like's `count` defaulted to 1. Anything else
(orders, segments, ISO or missing-offset `ts`, numeric ids, blanks to strip, any value out of
range, a control character: livecompanion/text.py) returns None, and the caller goes the pydantic
way, which also words the reason for a rejection. It never accepts what `parse_event` rejects
(tests/events/test_plain.py checks the two agree); it only defers more often.

`plain_model(data)` is the typed event of such a dict, built without validating it a second time
(pydantic's `model_construct`): the after-commit steps read comments and orders as models, and
re-validating every event there cost as much as the first check (issue 20: with two rooms, 9,008
`parse_event` calls in 20 s on an instance that had checked 9,800 events the plain way).
"""

from __future__ import annotations

from typing import Any

from livecompanion.events.limits import (
    MAX_COUNT,
    MAX_ID,
    MAX_NICKNAME,
    MAX_PLATFORM,
    MAX_SKU,
    MAX_TEXT,
    MAX_TS,
    MAX_VIEWERS,
)
from livecompanion.events.models import (
    Comment,
    Enter,
    Event,
    Follow,
    Impression,
    Leave,
    Like,
    ProductClick,
    ProductImpression,
    Share,
    ViewerCount,
)
from livecompanion.text import text_ok

__all__ = ["PLAIN_TYPES", "plain_event", "plain_model"]

_COMMON = ("type", "ts", "id", "user_id", "nickname", "platform")
# The fields of each type beyond the common ones (at most one).
_OWN_FIELD: dict[str, str | None] = {
    "impression": None,
    "enter": None,
    "leave": None,
    "share": None,
    "follow": None,
    "comment": "text",
    "like": "count",
    "viewer_count": "count",
    "product_impression": "sku",
    "product_click": "sku",
}
PLAIN_TYPES = frozenset(_OWN_FIELD)
_MODELS: dict[str, Any] = {
    "impression": Impression, "enter": Enter, "leave": Leave, "share": Share, "follow": Follow,
    "comment": Comment, "like": Like, "viewer_count": ViewerCount,
    "product_impression": ProductImpression, "product_click": ProductClick,
}
assert set(_MODELS) == PLAIN_TYPES
_MISSING: Any = object()


def plain_event(raw: Any, received_ms: int, max_skew_ms: int | None = None) -> dict[str, Any] | None:
    """The validated event as a JSON-ready dict (possibly `raw` itself), or None to defer. With
    `max_skew_ms`, a `ts` further than that from `received_ms` defers (parse_event refuses it)."""
    # Called for every event of a big room: the checks are inline, and `present` counts the known
    # fields that are set, so that one length comparison says "no unknown field, no null". The
    # limits are module globals (events/limits.py): measured no slower than the literals they replace.
    if type(raw) is not dict:
        return None
    kind = raw.get("type")
    if type(kind) is not str or kind not in _OWN_FIELD:
        return None
    ts = raw.get("ts")
    if ts is not None and (type(ts) is not int or not 0 <= ts < MAX_TS):
        return None
    if ts is not None and max_skew_ms is not None and abs(ts - received_ms) > max_skew_ms:
        return None
    present = 2  # type, ts
    user = raw.get("user_id")
    if user is not None:
        if not (type(user) is str and 0 < len(user) <= MAX_ID and user.strip() is user and text_ok(user)):
            return None
        present += 1
    elif kind != "viewer_count":
        return None
    eid = raw.get("id")
    if eid is not None:
        if not (type(eid) is str and 0 < len(eid) <= MAX_ID and eid.strip() is eid and text_ok(eid)):
            return None
        present += 1
    nick = raw.get("nickname")
    if nick is not None:
        if not (type(nick) is str and len(nick) <= MAX_NICKNAME and nick.strip() is nick and text_ok(nick)):
            return None
        present += 1
    platform = raw.get("platform")
    if platform is not None:
        if not (type(platform) is str and len(platform) <= MAX_PLATFORM and platform.strip() is platform
                and text_ok(platform)):
            return None
        present += 1
    own = _OWN_FIELD[kind]
    if own is not None:
        value = raw.get(own, _MISSING)
        if kind == "comment":
            if not (type(value) is str and 0 < len(value) <= MAX_TEXT and value.strip() is value
                    and text_ok(value)):
                return None
        elif kind == "like":
            if value is _MISSING:
                present = -1  # a like without a count counts one, added below: never the usual case
            elif not (type(value) is int and 1 <= value <= MAX_COUNT):
                return None
        elif kind == "viewer_count":
            if not (type(value) is int and 0 <= value <= MAX_VIEWERS):
                return None
        elif not (type(value) is str and 0 < len(value) <= MAX_SKU and value.strip() is value
                   and text_ok(value)):  # sku
            return None
        if present > 0:
            present += 1
    if ts is not None and len(raw) == present:
        return raw  # the usual case: nothing to add or leave out, so the sender's dict is the event
    fields = (*_COMMON, own) if own is not None else _COMMON
    data = {key: value for key, value in raw.items() if value is not None and key in fields}
    data["ts"] = received_ms if ts is None else ts
    if kind == "like" and "count" not in data:
        data["count"] = 1
    return data


def plain_model(data: dict[str, Any]) -> Event:
    """The typed event of a dict `plain_event` returned, without validating it again. Only for
    those: their fields are strings and integers, already in the form the model holds them."""
    model: Event = _MODELS[data["type"]].model_construct(**data)
    return model
