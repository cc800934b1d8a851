"""The tables of the record. One file, so that the schema reads in one sitting and Alembic sees it whole.

Times are integer epoch milliseconds (`*_ms`), as in the events, so that no database's timezone
handling gets between the platforms' clocks and the report. Money is Numeric(14, 2).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints, so migrations can drop and alter them on SQLite (batch mode) and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(14, 2)
# BigInteger autoincrement works on PostgreSQL (bigserial) but SQLite only autoincrements INTEGER.
BigId = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # Read by SQLAlchemy from the class; never mutated.
    type_annotation_map = {dict[str, Any]: JSON, Decimal: Money}  # noqa: RUF012


class StreamRow(Base):
    """A live stream: its script and where the show stands (what survives a restart)."""

    __tablename__ = "streams"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    host: Mapped[str | None] = mapped_column(String(200))
    script_source: Mapped[str] = mapped_column(Text)  # as uploaded (YAML or JSON text)
    script: Mapped[dict[str, Any]] = mapped_column(JSON)  # the validated script, as JSON
    created_ms: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="ready")  # ready | live | ended
    started_ms: Mapped[int | None] = mapped_column(BigInteger)
    ended_ms: Mapped[int | None] = mapped_column(BigInteger)
    segment_index: Mapped[int | None] = mapped_column(Integer)  # None before the first segment
    segment_started_ms: Mapped[int | None] = mapped_column(BigInteger)
    pinned: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {"text", "nickname", "pinned_ms"}
    fired_cues: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {"<segment>/<cue index>": ms}
    archived_ms: Mapped[int | None] = mapped_column(BigInteger)  # hidden from lists and comparisons
    # Question groups the host has answered: {question key: ms}; asked again later, they come back.
    answered: Mapped[dict[str, Any] | None] = mapped_column(JSON)


# The few event types that are looked up by time (the live numbers rebuilt after a restart).
LOOKED_UP_BY_TS = "type IN ('order', 'viewer_count', 'segment')"


class EventRow(Base):
    """The append-only event log. `event_id` is the sender's id (unique per stream when given).

    Every index here is paid for by every event ingested, so there are only two: the primary key
    and the uniqueness that settles duplicates, plus a partial index over the rare types looked up
    by time. No foreign key to `streams` either: checking it cost PostgreSQL a trigger and a row
    lock per event, a quarter of its ingest time; ingest checks the stream once (404) and streams
    are never deleted.
    """

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("stream_id", "event_id", name="uq_events_stream_event_id"),
        Index(
            "ix_events_stream_type_ts", "stream_id", "type", "ts_ms",
            postgresql_where=text(LOOKED_UP_BY_TS), sqlite_where=text(LOOKED_UP_BY_TS),
        ),
    )

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    stream_id: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str | None] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(32))
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)  # the whole validated event
    received_ms: Mapped[int] = mapped_column(BigInteger)


class OrderRow(Base):
    """An order's current status: moved by later `order` events with the same order_id."""

    __tablename__ = "orders"

    stream_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("streams.id", ondelete="CASCADE"), primary_key=True
    )
    order_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(200))
    sku: Mapped[str] = mapped_column(String(100))
    qty: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(16))
    status_ts_ms: Mapped[int] = mapped_column(BigInteger)  # ts of the event that set the status
    paid_ts_ms: Mapped[int | None] = mapped_column(BigInteger)  # first paid event, if any
    flagged: Mapped[str | None] = mapped_column(String(200))  # e.g. paid after its claim was released


class CountdownRow(Base):
    __tablename__ = "countdowns"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    stream_id: Mapped[str] = mapped_column(String(32), ForeignKey("streams.id", ondelete="CASCADE"), index=True)
    label: Mapped[str | None] = mapped_column(String(200))
    seconds: Mapped[int] = mapped_column(Integer)
    started_ms: Mapped[int] = mapped_column(BigInteger)
    ends_ms: Mapped[int] = mapped_column(BigInteger)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)


class FlashSaleRow(Base):
    __tablename__ = "flash_sales"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    stream_id: Mapped[str] = mapped_column(String(32), ForeignKey("streams.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(100))
    price: Mapped[Decimal] = mapped_column(Money)
    stock: Mapped[int] = mapped_column(Integer)
    sold: Mapped[int] = mapped_column(Integer, default=0)  # units claimed and not released
    next_rank: Mapped[int] = mapped_column(Integer, default=1)  # next rank to hand out; never reused
    first_n: Mapped[int | None] = mapped_column(Integer)
    first_n_bonus: Mapped[str | None] = mapped_column(String(200))
    per_user_limit: Mapped[int] = mapped_column(Integer, default=1)
    started_ms: Mapped[int] = mapped_column(BigInteger)
    ends_ms: Mapped[int] = mapped_column(BigInteger)
    stopped_ms: Mapped[int | None] = mapped_column(BigInteger)  # the operator stopped it early
    sold_out_ms: Mapped[int | None] = mapped_column(BigInteger)
    # With Redis: how far the record holds the sale's Redis claim log ("<epoch>/<stream entry id>").
    drained: Mapped[str | None] = mapped_column(String(64))


class ClaimRow(Base):
    """One buyer's claim of units in a flash sale. `order_id` is the caller's idempotency key."""

    __tablename__ = "claims"
    __table_args__ = (
        UniqueConstraint("sale_id", "order_id", name="uq_claims_sale_order"),
        UniqueConstraint("sale_id", "rank", name="uq_claims_sale_rank"),  # ranks are never reused
        Index("ix_claims_sale_user", "sale_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sale_id: Mapped[str] = mapped_column(String(32), ForeignKey("flash_sales.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(200))
    order_id: Mapped[str | None] = mapped_column(String(200))
    qty: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer)  # rank of the claim's first unit, 1-based
    bonus: Mapped[bool] = mapped_column(Boolean)
    # claimed | paid | released | late_paid (paid after release: flagged, holds no stock); see sales/rules.py
    status: Mapped[str] = mapped_column(String(16), default="claimed")
    claimed_ms: Mapped[int] = mapped_column(BigInteger)
    released_ms: Mapped[int | None] = mapped_column(BigInteger)


class LotteryRow(Base):
    __tablename__ = "lotteries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    stream_id: Mapped[str] = mapped_column(String(32), ForeignKey("streams.id", ondelete="CASCADE"), index=True)
    keyword: Mapped[str] = mapped_column(String(100))
    winners_wanted: Mapped[int] = mapped_column(Integer)
    prize: Mapped[str | None] = mapped_column(String(200))
    started_ms: Mapped[int] = mapped_column(BigInteger)
    ends_ms: Mapped[int] = mapped_column(BigInteger)
    drawn_ms: Mapped[int | None] = mapped_column(BigInteger)
    seed: Mapped[str | None] = mapped_column(String(128))  # recorded so anyone can re-run the draw
    winners: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {"user_ids": [...], "nicknames": [...]}
    excluded: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {"user_ids": [...]} host, blocked


class LotteryEntryRow(Base):
    __tablename__ = "lottery_entries"

    lottery_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("lotteries.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    nickname: Mapped[str | None] = mapped_column(String(200))
    entered_ms: Mapped[int] = mapped_column(BigInteger)


class IdempotencyRow(Base):
    """An operator action's `Idempotency-Key`, claimed before the action runs (the primary key makes
    the claim atomic across instances), its answer stored after. `scope` is the stream id, or
    `service` for `POST /api/streams`. `status` is NULL while the first request is under way."""

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    claimed_ms: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[str | None] = mapped_column(Text)
    answered_ms: Mapped[int | None] = mapped_column(BigInteger)


def table_of(model: type[Base]) -> Table:
    """A model's Core table, typed as one (the ORM types `__table__` as a generic FromClause), for
    the hot paths that write with Core statements on a bare connection."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


FLASH_SALES = table_of(FlashSaleRow)
CLAIMS = table_of(ClaimRow)
