"""Durations as hosts write them: `90s`, `8m`, `1h5m`, `1m30s`, bare seconds (`300`), ranges `5-10m`,
and the same with Chinese units (`5-10分鐘`, `90秒`, `1小時5分`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PART = re.compile(r"(\d+(?:\.\d+)?)([hms])")
_SINGLE = re.compile(r"^(?:\d+(?:\.\d+)?[hms])+$")
_RANGE_SEP = re.compile(r"\s*[-~–〜至]\s*")
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1}
# Hosts write Chinese units too: 5分鐘, 90秒, 1小時5分.
_CHINESE_UNITS = (
    ("mins", "m"), ("secs", "s"), ("hrs", "h"), ("小時", "h"), ("小时", "h"), ("鐘頭", "h"), ("钟头", "h"),
    ("分鐘", "m"), ("分钟", "m"), ("秒鐘", "s"), ("秒钟", "s"), ("時", "h"), ("时", "h"), ("分", "m"), ("秒", "s"),
    ("min", "m"), ("sec", "s"), ("hr", "h"),
)


def _ascii_units(text: str) -> str:
    for word, unit in _CHINESE_UNITS:
        text = text.replace(word, unit)
    return text
MAX_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class TargetRange:
    min_seconds: int
    max_seconds: int

    def __str__(self) -> str:
        if self.min_seconds == self.max_seconds:
            return format_seconds(self.max_seconds)
        return f"{format_seconds(self.min_seconds)}-{format_seconds(self.max_seconds)}"


def format_seconds(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s" if secs else ""]
    return "".join(parts) or "0s"


def parse_duration(value: object) -> int:
    """Seconds in a single duration. Raises ValueError saying what is wrong."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration (write 90s, 8m, 1h5m or seconds)")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, float) and value.is_integer():
        seconds = int(value)
    elif isinstance(value, str):
        text = _ascii_units(value.strip().lower().replace(" ", ""))
        if text.isdigit():
            seconds = int(text)
        elif _SINGLE.match(text):
            units = [unit for _, unit in _PART.findall(text)]
            if len(set(units)) != len(units) or units != sorted(units, key="hms".index):
                raise ValueError(f"'{value}' is not a duration: units go h, m, s, each once")
            total: float = sum(float(num) * _UNIT_SECONDS[unit] for num, unit in _PART.findall(text))
            if not total.is_integer():
                raise ValueError(f"'{value}' is not a whole number of seconds")
            seconds = int(total)
        else:
            raise ValueError(f"'{value}' is not a duration (write 90s, 8m, 1h5m or seconds)")
    else:
        raise ValueError(f"{value!r} is not a duration (write 90s, 8m, 1h5m or seconds)")
    if seconds <= 0:
        raise ValueError(f"duration '{value}' must be longer than zero")
    if seconds > MAX_SECONDS:
        raise ValueError(f"duration '{value}' is longer than a day")
    return seconds


def parse_target(value: object) -> TargetRange:
    """A single duration or a range such as `5-10m` (the unit of the right side carries left)."""
    if isinstance(value, str):
        parts = _RANGE_SEP.split(_ascii_units(value.strip().lower()))
        if len(parts) == 2 and all(parts):
            low, high = parts
            unit = high[-1:].lower()
            if low.replace(".", "", 1).isdigit() and unit in _UNIT_SECONDS:
                low += unit
            try:
                lo, hi = parse_duration(low), parse_duration(high)
            except ValueError:
                raise ValueError(f"'{value}' is not a duration (write 90s, 8m, 1h5m or seconds)") from None
            if lo > hi:
                raise ValueError(f"range '{value}' runs backwards: {format_seconds(lo)} > {format_seconds(hi)}")
            return TargetRange(lo, hi)
        if len(parts) > 2:
            raise ValueError(f"'{value}' is not a duration or a range like 5-10m")
    seconds = parse_duration(value)
    return TargetRange(seconds, seconds)
