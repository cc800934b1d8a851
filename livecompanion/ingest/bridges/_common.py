"""What every bridge needs: reading loosely typed platform JSON strictly, and building event dicts.

A bridge reads what an open-source client or a webhook hands it, so fields come as numbers or
strings, camelCase or snake_case. Helpers here accept those variants and raise ValueError naming
the field when something required is missing or wrong.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

Event = dict[str, Any]


def as_mapping(value: Any, where: str) -> Mapping[str, Any]:
    if type(value) is dict:  # what JSON decodes to: skips the abstract-class check (~4% of a bridge's CPU)
        return value
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def pick(data: Mapping[str, Any], *names: str) -> Any:
    """The first of `names` present in `data` with a value that is not None."""
    for name in names:
        value = data.get(name)
        if value is not None:
            return value
    return None


def as_id(value: Any, where: str, *, required: bool = True) -> str | None:
    """A platform id as text. Numbers are ids too; 0 and "" mean "not given" (protobuf defaults)."""
    text: str | None = None
    if isinstance(value, bool):
        raise ValueError(f"{where}: an id cannot be true/false")
    if isinstance(value, int):
        text = str(value) if value != 0 else None
    elif isinstance(value, str):
        text = value.strip() or None
        if text == "0":
            text = None
    elif value is not None:
        raise ValueError(f"{where}: expected an id (text or number), got {type(value).__name__}")
    if text is None and required:
        raise ValueError(f"{where}: missing")
    return text


def need_id(value: Any, where: str) -> str:
    """Like `as_id`, for an id that must be there."""
    found = as_id(value, where, required=True)
    assert found is not None
    return found


def as_int(value: Any, where: str, *, default: int | None = None) -> int:
    """An integer given as a number or as digits in a string (how protobuf JSON sends int64)."""
    if value is None:
        if default is None:
            raise ValueError(f"{where}: missing")
        return default
    if isinstance(value, bool):
        raise ValueError(f"{where}: expected a number, got true/false")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ValueError(f"{where}: expected a whole number, got {value!r}")


def epoch_ms(value: Any, where: str) -> int | None:
    """Epoch time in seconds, milliseconds, microseconds or nanoseconds (told apart by size), or
    ISO 8601 with an offset, as epoch milliseconds. None or 0 (protobuf default): not given."""
    if value is None:
        return None
    if isinstance(value, str) and not value.strip().isdigit():
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            raise ValueError(f"{where}: {value!r} is not a time") from None
        if parsed.tzinfo is None:
            raise ValueError(f"{where}: {value!r} has no UTC offset")
        return int(parsed.timestamp() * 1000)
    number = as_int(value, where)
    if number <= 0:
        return None
    if number < 10**11:  # seconds (until the year 5138)
        return number * 1000
    if number < 10**14:
        return number
    if number < 10**17:
        return number // 1000
    return number // 1_000_000


def parse_amount(value: Any, where: str) -> Decimal:
    """A non-negative amount given as a number or as text ("99.00")."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{where}: missing")
    try:
        found = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{where}: {value!r} is not an amount") from None
    if not found.is_finite() or found < 0:
        raise ValueError(f"{where}: {value!r} is not an amount")
    return found


def as_text(value: Any, where: str) -> str:
    """Chat text: a string (may be empty)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected text, got {type(value).__name__}")
    return value


def derived_id(platform: str, *parts: Any) -> str:
    """An event id for platforms without message ids, from what makes a message unique (user,
    server time, content): a re-delivered message gets the same id, a new one a different id."""
    digest = hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:24]
    return f"{platform}:h:{digest}"


def event(
    type_: str,
    platform: str,
    *,
    id: str | None,
    ts: int | None,
    user_id: str | None = None,
    nickname: str | None = None,
    **fields: Any,
) -> Event:
    """An event dict for `livecompanion.events.parse_event` (contract section 2); unset fields left out."""
    out: Event = {"type": type_, "platform": platform}
    if id is not None:
        out["id"] = id if len(id) <= 200 else derived_id(platform, id)
    if ts is not None:
        out["ts"] = ts
    if user_id is not None:
        out["user_id"] = user_id[:200]
    if nickname:
        out["nickname"] = nickname.strip()[:200]
    out.update(fields)
    return out
