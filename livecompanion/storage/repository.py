"""The base of the domains' repositories: a session the caller owns, rows that belong to a stream.

    async with db.session() as session:      # the service's unit of work
        sales = SaleRepository(session)
        sales.add(row)
        ...
        await session.commit()               # never a repository's decision

A repository reads and writes; it never opens a session nor commits, so one unit of work can make
several writes (of one domain or several) one transaction. It answers None for a row that is not
there: the service decides what that means to its caller.
"""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped


class _OfStream(Protocol):
    id: Mapped[str]
    stream_id: Mapped[str]


RowT = TypeVar("RowT", bound=_OfStream)


class StreamRowRepository(Generic[RowT]):
    """Rows of `model`, each belonging to one stream (flash sales, lotteries)."""

    model: type[RowT]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: RowT) -> None:
        self.session.add(row)

    async def get(self, stream_id: str, row_id: str) -> RowT | None:
        """The row with that id, if it is one of that stream's."""
        row = await self.session.get(self.model, row_id)
        return row if row is not None and row.stream_id == stream_id else None
