"""What the live numbers' sections hold (contract section 5): pure functions of the tallies.

live.py decides when a stream's sections are published; this module says what they say: the
metrics, the merged top questions, the order ticker with buyers masked, and each section's digest
(a section is sent only when its digest changed). No I/O here.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import orjson

from livecompanion.ingest.comments import question_key
from livecompanion.ingest.counters import LiveTally
from livecompanion.text import for_display  # shown on screens: bidi overrides taken out


def mask_nickname(name: str | None) -> str:
    """Show a buyer without naming them: first and last character kept (小林 -> 小*, 张小林 -> 张*林)."""
    name = (name or "").strip()
    if not name:
        return "*"
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" + name[-1]


def money(cents: int) -> int | float:
    return cents // 100 if cents % 100 == 0 else round(cents / 100, 2)


def cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def ticker_entry(nickname: str | None, user_id: str, sku: str, qty: int, ts: int) -> dict[str, Any]:
    # Without a nickname the buyer's platform id is masked the same way: never shown whole.
    return {"nickname": for_display(mask_nickname(nickname or user_id)), "sku": sku, "qty": qty, "ts": ts}


def merge_questions(lists: list[list[dict[str, Any]]], top: int) -> list[dict[str, Any]]:
    """Each instance's top questions merged by question key; the wording most asked is shown."""
    merged: dict[str, dict[str, Any]] = {}
    for entries in lists:
        for entry in entries:
            key = entry.get("key") or question_key(entry["text"])
            seen = merged.get(key)
            if seen is None:
                merged[key] = {
                    "text": entry["text"],
                    "count": entry["count"],
                    "_best": entry["count"],
                    "_last": entry.get("last", 0),
                }
            else:
                seen["count"] += entry["count"]
                seen["_last"] = max(seen["_last"], entry.get("last", 0))
                if entry["count"] > seen["_best"]:
                    seen["text"], seen["_best"] = entry["text"], entry["count"]
    ranked = sorted(merged.items(), key=lambda kq: (kq[1]["count"], kq[1]["_last"]), reverse=True)[:top]
    return [{"text": for_display(q["text"]), "count": q["count"], "key": key, "last": q["_last"]}
            for key, q in ranked]


def build_sections(tally: LiveTally, top_questions: int) -> dict[str, Any]:
    intents = dict(sorted(tally.intents.items(), key=lambda kv: (-kv[1], kv[0])))
    return {
        "metrics": {
            "viewers": tally.viewer_count if tally.viewer_count is not None else tally.in_room,
            "comments_per_min": tally.comments_per_min,
            "orders": tally.orders,
            "gmv": money(tally.gmv_cents),
            "intent": intents,
        },
        "questions": merge_questions(tally.question_lists, top_questions),
        "ticker": tally.ticker,
    }


def section_digest(value: Any) -> str:
    """What a section holds, in 16 hex digits: a section is published again only when this changes."""
    return hashlib.blake2b(orjson.dumps(value), digest_size=8).hexdigest()
