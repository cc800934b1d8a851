"""Typed events (contract section 2), validated by pydantic.

Every event comes out with `ts` as integer epoch milliseconds. An event without `ts` gets the time
it was received, which the caller passes in (`received_ms`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from livecompanion.events.limits import (
    AMOUNT_DIGITS,
    AMOUNT_PLACES,
    MAX_COUNT,
    MAX_ID,
    MAX_NICKNAME,
    MAX_PLATFORM,
    MAX_SEGMENT,
    MAX_SKU,
    MAX_TEXT,
    MAX_TS,
    MAX_TS_SKEW_MS,
    MAX_VIEWERS,
    ExplainAction,
    OrderStatus,
)
from livecompanion.inputs import FromOutside


def ts_to_ms(value: Any) -> int:
    """`ts` is ISO 8601 with an offset, or integer epoch milliseconds."""
    if isinstance(value, bool):
        raise ValueError("ts must be ISO 8601 with an offset or integer epoch milliseconds")
    if isinstance(value, int):
        if not 0 <= value < MAX_TS:
            raise ValueError("ts in epoch milliseconds is out of range")
        return value
    if isinstance(value, float) and value.is_integer():
        return ts_to_ms(int(value))
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
        except ValueError:
            raise ValueError(f"ts {value!r} is not ISO 8601") from None
        if parsed.tzinfo is None:
            raise ValueError(f"ts {value!r} has no UTC offset")
        return int(parsed.timestamp() * 1000)
    raise ValueError("ts must be ISO 8601 with an offset or integer epoch milliseconds")


class _Base(FromOutside):  # the text rule, no true/false for numbers
    # Platforms send more than we need; unknown fields are ignored, not errors.
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    ts: int
    id: Annotated[str, Field(min_length=1, max_length=MAX_ID)] | None = None
    user_id: Annotated[str, Field(min_length=1, max_length=MAX_ID)] | None = None
    nickname: Annotated[str, Field(max_length=MAX_NICKNAME)] | None = None
    platform: Annotated[str, Field(max_length=MAX_PLATFORM)] | None = None

    @field_validator("ts", mode="before")
    @classmethod
    def _ts(cls, value: Any) -> int:
        return ts_to_ms(value)

    @field_validator("id", "user_id", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        # Platforms often send numeric ids; they are still ids.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value


class _UserEvent(_Base):
    user_id: Annotated[str, Field(min_length=1, max_length=MAX_ID)]


class Impression(_UserEvent):
    type: Literal["impression"]


class Enter(_UserEvent):
    type: Literal["enter"]


class Leave(_UserEvent):
    type: Literal["leave"]


class ViewerCount(_Base):
    type: Literal["viewer_count"]
    count: Annotated[int, Field(ge=0, le=MAX_VIEWERS)]


class Comment(_UserEvent):
    type: Literal["comment"]
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]


class Like(_UserEvent):
    type: Literal["like"]
    count: Annotated[int, Field(ge=1, le=MAX_COUNT)] = 1


class Share(_UserEvent):
    type: Literal["share"]


class Follow(_UserEvent):
    type: Literal["follow"]


class ProductImpression(_UserEvent):
    type: Literal["product_impression"]
    sku: Annotated[str, Field(min_length=1, max_length=MAX_SKU)]


class ProductClick(_UserEvent):
    type: Literal["product_click"]
    sku: Annotated[str, Field(min_length=1, max_length=MAX_SKU)]


class Order(_UserEvent):
    type: Literal["order"]
    order_id: Annotated[str, Field(min_length=1, max_length=MAX_ID)]
    sku: Annotated[str, Field(min_length=1, max_length=MAX_SKU)]
    qty: Annotated[int, Field(ge=1, le=MAX_COUNT)]
    amount: Annotated[Decimal, Field(ge=0, max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES)]
    status: OrderStatus

    @field_validator("order_id", mode="before")
    @classmethod
    def _order_id_as_text(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value


class SegmentLive(_Base):
    type: Literal["segment"]
    segment: Annotated[str, Field(min_length=1, max_length=MAX_SEGMENT)]


class ProductExplain(_UserEvent):
    """講解: the host began (`start`) or ended (`stop`) explaining a product. A `start` while another
    product is being explained ends that one. `user_id` is required as for every type but
    viewer_count and segment (contract section 2); the service's own console sends "host"."""

    type: Literal["product_explain"]
    sku: Annotated[str, Field(min_length=1, max_length=MAX_SKU)]
    action: ExplainAction


class Alert(_Base):
    """A 場控 alert raised (or acknowledged) by the service (livecompanion/alerts), kept in the log so
    the report can mark it. `id` is `alert:<key>` (raised) or `alert:<key>/ack`: raised once."""

    BOOLEAN_FIELDS: ClassVar[frozenset[str]] = frozenset({"acked"})

    type: Literal["alert"]
    key: Annotated[str, Field(min_length=1, max_length=MAX_ID)]
    kind: Annotated[str, Field(min_length=1, max_length=40)]
    level: Literal["info", "warn", "error"] = "warn"
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
    segment: Annotated[str, Field(max_length=MAX_SEGMENT)] | None = None
    acked: bool = False


Event = Annotated[
    Impression | Enter | Leave | ViewerCount | Comment | Like | Share | Follow | ProductImpression | ProductClick
    | Order | SegmentLive | ProductExplain | Alert,
    Field(discriminator="type"),
]

EVENT_TYPES = (
    "impression", "enter", "leave", "viewer_count", "comment", "like", "share", "follow",
    "product_impression", "product_click", "order", "segment", "product_explain", "alert",
)

# mypy takes the alias of an Annotated union for a value here (with a warm cache it does not, hence
# unused-ignore); pydantic reads it as the type it is.
_adapter: TypeAdapter[Event] = TypeAdapter(Event)  # type: ignore[arg-type, unused-ignore]


def _reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"]]
        # The discriminator puts the type name first in the location; the field is what matters.
        if loc and loc[0] in EVENT_TYPES:
            loc = loc[1:]
        where = ".".join(loc)
        msg = err["msg"]
        if err["type"] == "union_tag_invalid":
            msg = f"type must be one of {', '.join(EVENT_TYPES)}"
            where = "type"
        elif err["type"] == "union_tag_not_found":
            msg, where = "field required", "type"
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


def _iso(ms: int) -> str:
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return f"{ms} ms"


def check_ts_window(ts: int, received_ms: int, max_skew_ms: int = MAX_TS_SKEW_MS) -> None:
    """Raise ValueError if `ts` is more than `max_skew_ms` from the server's clock `received_ms`."""
    if abs(ts - received_ms) > max_skew_ms:
        raise ValueError(
            f"ts: {_iso(ts)} is more than {max_skew_ms // 3_600_000} hours from the server's clock "
            f"({_iso(received_ms)}); send the platform's time in epoch milliseconds, or leave ts out"
        )


def parse_event(raw: Any, received_ms: int, *, max_skew_ms: int | None = None) -> Event:
    """Validate one decoded JSON value as an event. Raises ValueError with a readable reason.
    With `max_skew_ms` (ingest), a `ts` further than that from `received_ms` is refused too."""
    if not isinstance(raw, dict):
        raise ValueError(f"an event is a JSON object, got {type(raw).__name__}")
    if raw.get("ts") is None:
        raw = {**raw, "ts": received_ms}
    try:
        event = _adapter.validate_python(raw)
    except ValidationError as exc:
        raise ValueError(_reason(exc)) from None
    if max_skew_ms is not None:
        check_ts_window(event.ts, received_ms, max_skew_ms)
    return event


def event_to_dict(event: Event) -> dict[str, Any]:
    """The event as stored and sent on: JSON-ready, without unset optional fields."""
    data = event.model_dump(mode="json", exclude_none=True)
    return data
