"""Keyset paging over a stable, unique sort key: one statement for the page, one for the count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

T = TypeVar("T", bound=SQLModel)
R = TypeVar("R")


@dataclass(frozen=True)
class Page(Generic[R]):
    rows: list[R]
    has_next: bool
    total: int


async def fetch_page(
    session: AsyncSession,
    model: type[T],
    key: Any,
    where: list[ColumnElement[bool]],
    *,
    after: str | None,
    limit: int,
    key_type: type = str,
) -> Page[T]:
    """Rows of `model` matching `where`, ordered by the unique `key`, strictly after `after`."""
    stmt = select(model).where(*where).order_by(key).limit(limit + 1)
    if after is not None:
        try:
            stmt = stmt.where(key > key_type(after))
        except ValueError:
            return Page(rows=[], has_next=False, total=0)
    rows = list((await session.scalars(stmt)).all())
    total = await session.scalar(select(func.count()).select_from(model).where(*where))
    return Page(rows=rows[:limit], has_next=len(rows) > limit, total=int(total or 0))
