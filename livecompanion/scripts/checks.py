"""Whole-script checks (errors) and warnings, on the located YAML data.

They work on the raw data rather than the validated model so that a script with a type error in
one place still gets its duplicate ids and unknown skus reported in the same pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from livecompanion.scripts.durations import TargetRange, format_seconds, parse_duration, parse_target
from livecompanion.scripts.findings import Finding
from livecompanion.scripts.models import SEGMENT_KINDS
from livecompanion.scripts.obs_section import obs_errors, obs_warnings
from livecompanion.scripts.yamlsource import Located, Path, text_position

# Seed 000's typical target per kind (seconds); a target far outside gets a `pacing` warning.
TYPICAL = {
    "opening": (5 * 60, 10 * 60),
    "product": (15 * 60, 20 * 60),
    "value": (10 * 60, 15 * 60),
    "closing": (15 * 60, 20 * 60),
    "wrapup": (10 * 60, 15 * 60),
}
LENGTH_TOLERANCE = 0.2  # a planned stream length 20% outside the segments' own total is "far"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dicts(value: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    for i, item in enumerate(_list(value)):
        if isinstance(item, dict):
            yield i, item


def _target(value: Any) -> TargetRange | None:
    try:
        return parse_target(value) if value is not None else None
    except ValueError:
        return None


def _error(located: Located, file: str, path: Path, message: str) -> Finding:
    line, col = located.position(path)
    return Finding(file, line, col, "error", message)


def cross_checks(located: Located, file: str) -> list[Finding]:
    data = located.data if isinstance(located.data, dict) else {}
    findings: list[Finding] = []

    skus: set[str] = set()
    for i, product in _dicts(data.get("products")):
        sku = product.get("sku")
        if isinstance(sku, str):
            if sku in skus:
                findings.append(_error(located, file, ("products", i, "sku"), f"duplicate sku '{sku}'"))
            skus.add(sku)

    # A shop product id names one sku: the same id under two products (or twice) would make an
    # order's sku depend on which came first.
    shop_ids: dict[tuple[str, str], str] = {}
    for i, product in _dicts(data.get("products")):
        mapping = product.get("shop_ids")
        if not isinstance(mapping, dict):
            continue
        for shop, listed in mapping.items():
            for j, shop_id in enumerate(_list(listed)):
                if not isinstance(shop_id, (str, int)) or isinstance(shop_id, bool):
                    continue
                key = (str(shop), str(shop_id))
                if key in shop_ids:
                    findings.append(
                        _error(
                            located, file, ("products", i, "shop_ids", shop, j),
                            f"duplicate {shop} id '{shop_id}' (also on {shop_ids[key]})",
                        )
                    )
                else:
                    shop_ids[key] = f"products[{i}]"

    def known_sku(path: Path, sku: Any, what: str) -> None:
        if isinstance(sku, str) and sku not in skus:
            hint = f" (products: {', '.join(sorted(skus))})" if skus else " (the script lists no products)"
            findings.append(_error(located, file, path, f"{what} names unknown sku '{sku}'{hint}"))

    ids: dict[str, int] = {}
    kind_counts: dict[str, int] = {}
    for i, segment in _dicts(data.get("segments")):
        kind = segment.get("kind")
        if kind in SEGMENT_KINDS:
            kind_counts[kind] = kind_counts.get(kind, 0) + 1
        seg_id = segment.get("id")
        if seg_id is None and kind in SEGMENT_KINDS:
            seg_id = f"{kind}-{kind_counts[kind]}"
        if isinstance(seg_id, str):
            if seg_id in ids:
                where = ("segments", i, "id") if "id" in segment else ("segments", i)
                findings.append(_error(
                    located, file, where, f"duplicate segment id '{seg_id}' (also segments[{ids[seg_id]}])"
                ))
            else:
                ids[seg_id] = i
        known_sku(("segments", i, "product"), segment.get("product"), f"segments[{i}].product")

        target = _target(segment.get("target"))
        for j, cue in _dicts(segment.get("cues")):
            cue_path = ("segments", i, "cues", j)
            if cue.get("action") in ("flash_sale", "product_explain"):
                known_sku((*cue_path, "sku"), cue.get("sku"), f"segments[{i}].cues[{j}] ({cue['action']})")
            try:
                at = parse_duration(cue["at"]) if cue.get("at") not in (None, 0, "0") else 0
            except ValueError:
                continue
            if target is not None and at > target.max_seconds:
                findings.append(_error(
                    located, file, (*cue_path, "at"),
                    f"segments[{i}].cues[{j}].at: {format_seconds(at)} is beyond the segment's target "
                    f"of {target}",
                ))
    findings.extend(obs_errors(located, file))
    return findings


def _texts(data: dict[str, Any]) -> Iterator[Path]:
    """Paths of every text a host or viewer will see."""
    if isinstance(data.get("title"), str):
        yield ("title",)
    for i, product in _dicts(data.get("products")):
        if isinstance(product.get("name"), str):
            yield ("products", i, "name")
        for k, benefit in enumerate(_list(product.get("benefits"))):
            if isinstance(benefit, str):
                yield ("products", i, "benefits", k)
    for i, segment in _dicts(data.get("segments")):
        for key in ("title", "text"):
            if isinstance(segment.get(key), str):
                yield ("segments", i, key)
        for j, cue in _dicts(segment.get("cues")):
            for key in ("label", "text", "prize", "first_n_bonus", "keyword"):
                if isinstance(cue.get(key), str):
                    yield ("segments", i, "cues", j, key)


def _value(data: Any, path: Path) -> Any:
    for part in path:
        data = data[part]
    return data


def ad_law_warnings(located: Located, file: str) -> list[Finding]:
    from livecompanion.scripts.adlaw import find_ad_law_terms

    findings = []
    data = located.data if isinstance(located.data, dict) else {}
    for path in _texts(data):
        text = _value(data, path)
        for hit in find_ad_law_terms(text):
            line, col = text_position(located, path, hit.start)
            findings.append(Finding(
                file, line, col, "warning", f"'{hit.term}': {hit.reason}", rule=hit.rule,
            ))
    return findings


def length_warnings(located: Located, file: str) -> list[Finding]:
    data = located.data if isinstance(located.data, dict) else {}
    findings = []
    total_min = total_max = 0
    for i, segment in _dicts(data.get("segments")):
        target = _target(segment.get("target"))
        if target is None:
            continue
        total_min += target.min_seconds
        total_max += target.max_seconds
        kind = segment.get("kind")  # not yet validated: may be any YAML value, a list too
        typical = TYPICAL.get(kind) if isinstance(kind, str) else None
        if typical and (target.max_seconds < typical[0] / 3 or target.min_seconds > typical[1] * 3):
            line, col = located.position(("segments", i, "target"))
            findings.append(Finding(
                file, line, col, "warning",
                f"segments[{i}].target {target} is far from the usual "
                f"{format_seconds(typical[0])}-{format_seconds(typical[1])} for a {segment.get('kind')} segment",
                rule="pacing",
            ))
    planned = _target(data.get("duration"))
    if planned is not None and total_max:
        low = total_min * (1 - LENGTH_TOLERANCE)
        high = total_max * (1 + LENGTH_TOLERANCE)
        if planned.max_seconds < low or planned.min_seconds > high:
            line, col = located.position(("duration",))
            findings.append(Finding(
                file, line, col, "warning",
                f"duration {planned} is far from the segments' own targets, which add up to "
                f"{TargetRange(total_min, total_max)}",
                rule="length",
            ))
    return findings


def warnings(located: Located, file: str) -> list[Finding]:
    return ad_law_warnings(located, file) + length_warnings(located, file) + obs_warnings(located, file)
