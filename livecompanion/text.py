"""One rule for every string that comes from outside: ids, names, texts, labels, keywords, prizes.

    reason = text_fault("abc\\x00")        # "control character U+0000 at position 4 ..." or None
    check_text(value)                      # raises ValueError(reason): pydantic validators use it
    refuse_controls(value)                 # the same, through lists and dicts (a field validator)
    shown = for_display("abc\\u202egnp.exe")   # "abcgnp.exe": bidi controls taken out

Why: a NUL byte is fine in SQLite and Redis but PostgreSQL refuses it (in text and in jsonb), so one
`\\u0000` in a `user_id` gave 500s on PostgreSQL, lost whole batches and poisoned a flash sale's
drain, while SQLite stored it. Refusing it at the door makes both backends accept and refuse the
same inputs (tests/storage/test_text_rule.py checks that property on both).

Refused: the C0 controls other than tab, line feed and carriage return (a line break is a line
break), DEL, the C1 controls U+0080-U+009F, and lone surrogates (not encodable as UTF-8, so not
storable anywhere). Everything else is kept as sent, including the bidirectional controls: they are
legitimate in right-to-left text, so they are stored and only neutralised where text is shown
(`for_display`): "abc\\u202egnp.exe" must not read "abcexe.png" on a screen.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["BIDI_CONTROLS", "check_text", "first_refused", "for_display", "refuse_controls", "text_fault", "text_ok"]

_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# Embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): they reorder what follows.
# The marks U+200E/U+200F/U+061C only nudge neutral characters and are left alone.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")


def first_refused(value: str) -> int | None:
    """The 0-based position of the first character the rule refuses, or None."""
    if value.isprintable():  # the usual case, in C: no control character of any kind
        return None
    found = _REFUSED.search(value)
    return None if found is None else found.start()


def text_fault(value: str) -> str | None:
    """Why `value` may not be stored, or None when it may."""
    at = first_refused(value)
    if at is None:
        return None
    char = value[at]
    kind = "a lone surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
    return (f"contains {kind} (U+{ord(char):04X}) at position {at + 1}; "
            "only tab and line breaks are allowed")


def text_ok(value: str) -> bool:
    """True when `value` may be stored (the fast check of ingest's hot path)."""
    return value.isprintable() or _REFUSED.search(value) is None


def check_text(value: str) -> str:
    """`value` unchanged, or ValueError saying which character is refused and where."""
    fault = text_fault(value)
    if fault is not None:
        raise ValueError(fault)
    return value


def refuse_controls(value: Any) -> Any:
    """`check_text` on a string, or on every string (keys too) in nested lists, tuples and dicts.

    Meant as a pydantic `field_validator("*", mode="after")`, so every string field of a model from
    outside obeys the rule and the error points at the field."""
    if isinstance(value, str):
        return check_text(value)
    if isinstance(value, (list, tuple)):
        for item in value:
            refuse_controls(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_controls(key)
            refuse_controls(item)
    return value


def for_display(value: str) -> str:
    """`value` without the bidirectional embeddings, overrides and isolates: shown in the order it
    was typed. What is stored is unchanged."""
    if value.isprintable() and value.isascii():
        return value
    return _BIDI.sub("", value)
