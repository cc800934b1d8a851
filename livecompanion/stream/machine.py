"""The show's state machine (pure): which segment goes live on next / previous / go to, and when it ends.

    ready --next--> live (segment 0) --next--> ... live (last) --next--> ended
    live --previous--> live (one back);  ready/live --goto i--> live (segment i)
    ended --reopen (a deliberate, confirmed action)--> live (the last segment again)

After the end, next, previous and goto are refused with 409 `ended` (contract section 5): a stray
click on ▶ must never put an ended show back on air. A segment going live starts its clock
(`segment_started_ms`); going to the segment that is already live is refused rather than silently
restarting its clock.
"""

from __future__ import annotations

from dataclasses import replace

from livecompanion.errors import Conflict, NotFound
from livecompanion.stream.document import Show


class ShowError(Conflict):
    """An operator action that does not fit where the show stands (HTTP 409, code `show_state`)."""

    def __init__(self, message: str, code: str = "show_state") -> None:
        super().__init__(code, message)


def ended_error() -> Conflict:
    return Conflict("ended", "直播已結束：如需繼續請先「重新開播」/ the stream has ended: reopen it first")


def _refuse_ended(show: Show) -> None:
    if show.status == "ended":
        raise ended_error()


def _go_live(show: Show, index: int, now_ms: int) -> Show:
    return replace(
        show,
        status="live",
        started_ms=show.started_ms if show.started_ms is not None else now_ms,
        ended_ms=None,
        segment_index=index,
        segment_started_ms=now_ms,
    )


def next_segment(show: Show, segment_count: int, now_ms: int) -> Show:
    _refuse_ended(show)
    if show.status == "ready" or show.segment_index is None:
        return _go_live(show, 0, now_ms)
    if show.segment_index + 1 >= segment_count:
        return end(show, now_ms)
    return _go_live(show, show.segment_index + 1, now_ms)


def previous_segment(show: Show, segment_count: int, now_ms: int) -> Show:
    _refuse_ended(show)
    if show.status == "ready" or show.segment_index is None:
        raise ShowError("直播還沒開始 / the stream has not started yet")
    if show.segment_index == 0:
        raise ShowError("already at the first segment")
    return _go_live(show, show.segment_index - 1, now_ms)


def goto_segment(show: Show, index: int, segment_count: int, now_ms: int) -> Show:
    _refuse_ended(show)
    if not 0 <= index < segment_count:
        raise NotFound(f"no segment {index}: this script has segments 0 to {segment_count - 1}")
    if show.status == "live" and show.segment_index == index:
        raise ShowError(f"segment {index} is already live")
    return _go_live(show, index, now_ms)


def end(show: Show, now_ms: int) -> Show:
    _refuse_ended(show)
    if show.status == "ready":
        raise ShowError("直播還沒開始 / the stream has not started yet")
    # segment_index stays: it says where the show ended, and `previous` resumes there.
    return replace(show, status="ended", ended_ms=now_ms, segment_started_ms=None)


def reopen(show: Show, segment_count: int, now_ms: int) -> Show:
    """Put an ended show back on air at the segment it ended on (its clock starts again)."""
    if show.status != "ended":
        raise ShowError("直播沒有結束，不需要重新開播 / the stream has not ended")
    return _go_live(show, min(show.segment_index or 0, segment_count - 1), now_ms)
