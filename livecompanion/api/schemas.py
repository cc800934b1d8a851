"""What the API answers, as models: /docs shows every answer and every error status from these.

The live document itself (`state`) is described in `realtime/README.md`; its sections belong to
several domains and grow, so it is an open object here. Error bodies are those of
`livecompanion.errors`; `answers(404, 409)` lists the statuses a route can give beside its own.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# ---- errors ------------------------------------------------------------------------------------


class ErrorBody(BaseModel):
    """401, 403, 404, 413, 501 and 503: a sentence for people. 409 and 410: a code for machines, and
    `message` with the sentence."""

    detail: str
    message: str | None = None


class InvalidItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class InvalidBody(BaseModel):
    """422: where the request is wrong (FastAPI's own shape)."""

    detail: list[InvalidItem]


_MEANING = {
    400: "the body could not be read (not UTF-8, not JSON where JSON is meant, or not all of it arrived), "
         "or the path holds a control character",
    401: "no token, or not a token of this service",
    403: "a token of a role that may not do this",
    404: "no such stream (or sale, lottery, cue, countdown)",
    409: "the state refuses it: `detail` is the code",
    410: "it has ended",
    413: "the body is over the limits",
    422: "the body or a parameter is wrong: `detail` says where",
    501: "this service cannot do that (not wired or not installed)",
    503: "a backend is unreachable or saturated: nothing was changed; retry after Retry-After",
}


def answers(*statuses: int, auth: bool = True) -> dict[int | str, dict[str, Any]]:
    """The error answers of a route for `responses=`: the given statuses, plus 401/403 with `auth`."""
    # 400 is always possible: a body that cannot be decoded, or a client that stopped sending it.
    wanted = sorted({400, *statuses, *((401, 403) if auth else ())})
    return {status: {"model": InvalidBody if status == 422 else ErrorBody, "description": _MEANING[status]}
            for status in wanted}


class ScriptRejected(BaseModel):
    """422 of `POST /api/streams`: the script's findings, each with its line and column."""

    detail: str
    findings: list[dict[str, Any]]


# ---- streams and the show ------------------------------------------------------------------------
# Answers keep keys a model does not name yet (extra="allow"): a domain that adds a field to what it
# returns never sees it silently dropped from the API.


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class StreamSummary(Answer):
    id: str
    title: str
    host: str | None
    status: str = Field(description="ready | live | ended")
    created_ms: int
    started_ms: int | None
    ended_ms: int | None
    archived_ms: int | None = Field(None, description="when it was archived (hidden from lists and comparisons)")


class StreamCreated(Answer):
    id: str
    title: str
    findings: list[dict[str, Any]] = Field(description="the validator's warnings, each with `text`")
    urls: dict[str, str] = Field(description="the stream's pages, each with the token its user needs")


class StreamState(Answer):
    id: str
    rev: int = Field(description="the live document's revision; the viewer socket continues from it")
    server_time: int = Field(description="epoch ms, for the screens' clock offset")
    state: dict[str, Any] = Field(description="the live document (realtime/README.md)")


class LiveSegment(Answer):
    index: int
    id: str
    title: str
    kind: str
    started_ms: int | None


class ShowMoved(Answer):
    status: str = Field(description="ready | live | ended")
    started_ms: int | None
    ended_ms: int | None
    segment: LiveSegment | None
    rev: int | None = Field(description="the live document's revision after the move (null: rebuilt)")


class CountdownStarted(Answer):
    id: str
    ends_at: int = Field(description="epoch ms: every screen counts to this second")
    label: str | None
    seconds: int


class Pinned(Answer):
    text: str
    nickname: str | None
    pinned_ms: int


class CueFired(Answer):
    key: str
    action: str
    fired_ms: int
    time_scale: float
    result: dict[str, Any] | None = Field(description="what the cue started (e.g. the sale's `id`)")


class PrompterCommand(Answer):
    action: str
    value: float | None
    at_ms: int


# ---- ingest --------------------------------------------------------------------------------------


class Rejection(Answer):
    index: int
    reason: str
    line: int | None = None


class IngestAnswer(Answer):
    accepted: int
    duplicates: int
    rejected: list[Rejection]


class IngestStats(Answer):
    writer: dict[str, Any]
    pending_events: int
    answer_ms: dict[str, float]
    live_queue_peak: int
    order_queue_peak: int
    after_commit_steps: dict[str, float]
    live_patches_published: int
    # Cyclic collections since start, per generation: collections, total_ms, longest_ms (collector.py).
    collector: dict[str, dict[str, float]]
    # Wakes of a 20 ms timer: checks, over_20_ms / over_50_ms / over_100_ms, worst_ms, and the last
    # stalls over 50 ms as [wall ms, ms late] (looplag.py).
    loop_lag: dict[str, Any]


class Health(Answer):
    status: str
    version: str


# ---- flash sales and lotteries -------------------------------------------------------------------


class FlashSaleScreen(Answer):
    """A sale as every screen shows it (`flash_sales.<id>` of the live document)."""

    id: str
    sku: str
    name: str | None
    list_price: int | float | None
    price: int | float
    benefits: list[str]
    stock: int
    remaining: int
    sold: int
    first_n: int | None
    first_n_left: int | None
    first_n_bonus: str | None
    per_user_limit: int
    started_ms: int
    ends_at: int = Field(description="epoch ms: every screen counts to this second")
    stopped_ms: int | None
    sold_out_ms: int | None
    status: str = Field(description="live | sold_out | stopped | ended")


class FlashSaleView(FlashSaleScreen):
    stream_id: str
    next_rank: int
    numbers_from: str = Field(description="live (the claim store) or record")
    record: dict[str, Any] = Field(description="the claims the record holds, by status")


class LotteryScreen(Answer):
    """A lottery as the screens show it (`lotteries.<id>`)."""

    id: str
    keyword: str
    prize: str | None
    winners_wanted: int
    started_ms: int
    ends_at: int
    entrants: int
    status: str = Field(description="open | drawn")
    winners: list[str] = Field(description="display names, masked")


class LotteryView(LotteryScreen):
    stream_id: str
    drawn_ms: int | None
    seed: str | None
    algorithm: str | None
    entrants_digest: str | None


class LotteryCheck(Answer):
    id: str
    algorithm: str
    seed: str
    winners_wanted: int
    entrants: list[str]
    entrants_digest: str
    recorded: dict[str, Any]
    recomputed: dict[str, Any]
    match: bool = Field(description="the draw re-run from the recorded entrants gives the recorded winners")
