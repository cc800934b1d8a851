"""The live script (contract section 1) as typed models.

Field names in Python say what a value is (`at_seconds`, `duration_seconds`); the YAML names of the
contract (`at`, `duration`) are their aliases. A stored script (`model_dump`) validates again as is.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, Field, field_validator, model_validator

from livecompanion.inputs import FromOutside
from livecompanion.scripts.durations import TargetRange, parse_duration, parse_target
from livecompanion.scripts.obs_section import ObsSection

SEGMENT_KINDS = ("opening", "product", "value", "closing", "wrapup")
SegmentKind = Literal["opening", "product", "value", "closing", "wrapup"]
CUE_ACTIONS = ("countdown", "flash_sale", "lottery", "pin", "note", "product_explain")

# Contract section 4: every name a script may set a target for.
METRICS = (
    "exposure_uv", "viewer_uv", "views", "product_exposure_uv", "product_click_uv", "buyer_uv",
    "enter_rate", "product_exposure_rate", "click_rate", "click_conversion_rate",
    "watch_conversion_rate", "orders", "gmv", "items_sold", "refund_amount", "gpm", "uv_value", "aov",
    "avg_watch_seconds", "peak_viewers", "comments", "likes", "interaction_rate", "follow_rate", "opm",
    "product_clicks", "ctor", "watch_click_rate", "pcu", "viewer_seconds", "acu",
)

Text = Annotated[str, Field(min_length=1, max_length=20_000)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
Sku = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^\S+$")]
Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]


class _Model(FromOutside):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


def _seconds(value: Any) -> int:
    return parse_duration(value)


class _Cue(_Model):
    at_seconds: int = Field(alias="at")

    @field_validator("at_seconds", mode="before")
    @classmethod
    def _at(cls, value: Any) -> int:
        if value in (0, "0", "0s", "0m"):
            return 0  # "at the start of the segment"
        return _seconds(value)


class CountdownCue(_Cue):
    action: Literal["countdown"]
    seconds: int
    label: ShortText | None = None

    _seconds_ok = field_validator("seconds", mode="before")(classmethod(lambda cls, v: _seconds(v)))


class FlashSaleCue(_Cue):
    action: Literal["flash_sale"]
    sku: Sku
    price: Money
    stock: int
    duration_seconds: int = Field(alias="duration")
    first_n: Annotated[int, Field(ge=1)] | None = None
    first_n_bonus: ShortText | None = None
    per_user_limit: Annotated[int, Field(ge=1, le=1000)] = 1

    _duration_ok = field_validator("duration_seconds", mode="before")(classmethod(lambda cls, v: _seconds(v)))

    @field_validator("stock")
    @classmethod
    def _stock(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("a flash sale needs a positive stock")
        return value


class LotteryCue(_Cue):
    action: Literal["lottery"]
    keyword: ShortText
    winners: Annotated[int, Field(ge=1, le=10_000)]
    duration_seconds: int = Field(alias="duration")
    prize: ShortText | None = None

    _duration_ok = field_validator("duration_seconds", mode="before")(classmethod(lambda cls, v: _seconds(v)))


class PinCue(_Cue):
    action: Literal["pin"]
    text: Text
    nickname: ShortText | None = None


class NoteCue(_Cue):
    action: Literal["note"]
    text: Text


class ProductExplainCue(_Cue):
    """講解: start (or, with `mode: stop`, end) explaining a product; the report measures each 講解."""

    action: Literal["product_explain"]
    sku: Sku
    mode: Literal["start", "stop"] = "start"


Cue = Annotated[
    CountdownCue | FlashSaleCue | LotteryCue | PinCue | NoteCue | ProductExplainCue, Field(discriminator="action")
]


# A shop's product id (or item:variant id). Only the shops whose pushes name items: 有贊 and the
# generic webhook (抖店 and 微信小店 push order ids only; see livecompanion/shops).
ShopProductId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^\S+$")]


class Product(_Model):
    sku: Sku
    name: ShortText
    list_price: Money | None = None
    live_price: Money | None = None
    benefits: list[ShortText] = Field(default_factory=list)
    # shop -> the shop's product (or product-sku) ids that are this sku, e.g. {youzan: ["920537227"]}
    shop_ids: dict[Literal["youzan", "generic"], list[ShopProductId]] = Field(
        default_factory=dict
    )

    @field_validator("shop_ids", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        # Shop ids are often numbers in YAML (920537227); they are ids, so text.
        if isinstance(value, dict):
            return {
                shop: [str(i) if isinstance(i, int) and not isinstance(i, bool) else i for i in ids]
                if isinstance(ids, list)
                else ids
                for shop, ids in value.items()
            }
        return value


class Segment(_Model):
    id: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\s/]+$")] | None = None
    kind: SegmentKind
    title: ShortText | None = None
    target: TargetRange | None = None
    product: Sku | None = None
    text: str = ""
    cues: list[Cue] = Field(default_factory=list)

    @field_validator("target", mode="before")
    @classmethod
    def _target(cls, value: Any) -> Any:
        if value is None or isinstance(value, TargetRange):
            return value
        if isinstance(value, dict) and set(value) == {"min_seconds", "max_seconds"}:
            return TargetRange(int(value["min_seconds"]), int(value["max_seconds"]))
        return parse_target(value)

    @field_validator("text", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return "" if value is None else value


Percent = Annotated[float, Field(gt=0, le=100)]
Seconds = Annotated[int, Field(ge=1, le=24 * 3600)]


class AlertSettings(_Model):
    """The `alerts:` section: thresholds of the 場控 alerts (livecompanion/alerts). Every key is
    optional; the defaults are what an operator of a mid-sized room would set."""

    BOOLEAN_FIELDS: ClassVar[frozenset[str]] = frozenset({"ad_law"})

    viewers_drop_percent: Percent = 20  # online count falls more than this ...
    viewers_drop_seconds: Seconds = 60  # ... within this many seconds
    viewers_min: Annotated[int, Field(ge=0)] = 50  # rooms smaller than this do not alarm on drops
    comments_collapse_percent: Percent = 70  # comments in the last minute vs the minute before
    comments_min_per_min: Annotated[int, Field(ge=1)] = 20  # the minute before had at least this many
    overtime_grace_seconds: Annotated[int, Field(ge=0, le=3600)] = 0
    cue_late_seconds: Annotated[int, Field(ge=0, le=3600)] = 15  # a due cue not fired after this
    stock_low_percent: Percent = 10
    unsold_percent: Percent = 50  # a sale ends with more than this share of its stock unsold
    question_count: Annotated[int, Field(ge=2)] = 20  # asked this many times ...
    question_seconds: Seconds = 300  # ... within this many seconds, and not marked answered
    source_silent_seconds: Seconds = 30
    gmv_pace_margin_percent: Percent = 20  # at the current rate the `gmv` target is missed by more
    gmv_pace_after_seconds: Seconds = 900  # judged only after this much of the show
    ad_law: bool = True  # pins and notes about to be shown are linted


class Script(_Model):
    title: ShortText
    host: ShortText | None = None
    timezone: str = "UTC"
    duration: TargetRange | None = None  # optional: the stream's planned length, checked against segments
    targets: dict[str, float] = Field(default_factory=dict)
    products: list[Product] = Field(default_factory=list)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    segments: Annotated[list[Segment], Field(min_length=1)]
    obs: ObsSection | None = None  # optional: OBS Studio scenes that follow the show (scripts/obs_section.py)

    _duration_ok = field_validator("duration", mode="before")(
        classmethod(lambda cls, v: Segment._target(v))  # same forms as a segment's target
    )

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone '{value}' (use an IANA name such as Asia/Shanghai)") from None
        return value

    @field_validator("targets")
    @classmethod
    def _targets(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = [name for name in value if name not in METRICS]
        if unknown:
            raise ValueError(f"unknown target metric '{unknown[0]}' (one of: {', '.join(METRICS)})")
        return value

    @model_validator(mode="after")
    def _default_ids(self) -> Script:
        # Default id "<kind>-<n>": the n-th segment of that kind, counting from 1.
        counts: dict[str, int] = {}
        segments = []
        for segment in self.segments:
            counts[segment.kind] = counts.get(segment.kind, 0) + 1
            if segment.id is None:
                segment = segment.model_copy(update={"id": f"{segment.kind}-{counts[segment.kind]}"})
            segments.append(segment)
        object.__setattr__(self, "segments", segments)
        return self

    def product(self, sku: str) -> Product | None:
        return next((p for p in self.products if p.sku == sku), None)

    def segment_ids(self) -> list[str]:
        return [s.id or "" for s in self.segments]
