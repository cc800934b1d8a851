import pytest

from livecompanion.scripts.durations import TargetRange, parse_duration, parse_target


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("8m", 480), ("1h5m", 3900), ("1m30s", 90), (300, 300), ("300", 300), ("1.5m", 90),
     (" 8m ", 480), ("2h", 7200)],
)
def test_single_durations(text: object, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [("5-10m", 300, 600), ("90s-2m", 90, 120), ("5~10m", 300, 600), ("5 - 10m", 300, 600), ("8m", 480, 480),
     ("1h-1h30m", 3600, 5400), ("5-10分鐘", 300, 600), ("5-10分", 300, 600), ("90秒", 90, 90),
     ("1小時5分", 3900, 3900), ("5至10分钟", 300, 600), ("10 mins", 600, 600)],
)
def test_targets_and_ranges(text: str, low: int, high: int) -> None:
    assert parse_target(text) == TargetRange(low, high)


@pytest.mark.parametrize(
    ("text", "says"),
    [("abc", "not a duration"), ("10-5m", "runs backwards"), ("5m1h", "units go h, m, s"), ("0", "longer than zero"),
     ("1-2-3m", "not a duration"), ("25h", "longer than a day"), (True, "not a duration"),
     ("五分鐘", "not a duration")],
)
def test_bad_durations_say_why(text: object, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_target(text)


def test_range_prints_back_as_written() -> None:
    assert str(parse_target("5-10m")) == "5m-10m"
    assert str(parse_target("1h5m")) == "1h5m"
