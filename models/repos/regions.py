"""Queries over regions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlmodel import col, select

from ..region import Region, RegionLevel
from ..school import is_school_path
from .paging import Page, fetch_page


@dataclass(frozen=True)
class SchoolPaths:
    """A column that only ever holds school paths (a school's own, or a child's school)."""

    column: Any


def within_path(column: ColumnElement[str] | Mapped[str] | SchoolPaths, path: str) -> ColumnElement[bool]:
    """`column` is `path` or lies below it: the jurisdiction prefix test (ARCHITECTURE §3).

    Paths hold only digits and "/", and "/" sorts just below "0" in the C collation, so the
    subtree is exactly the range [path, path + "0"): one index range scan, index-only for counts.
    A column of school paths never equals a region's path, so there the test is the plain
    `LIKE 'path/%'` a person would write (PostgreSQL estimates it best: bench/AUTHZ.md), or
    equality for a school.
    """
    if path == "":
        return true()  # the nation contains everything
    if isinstance(column, SchoolPaths):
        if is_school_path(path):
            return column.column == path  # type: ignore[no-any-return]
        return column.column.like(path + "/%")  # type: ignore[no-any-return]
    return and_(column >= path, column < path + "0")


async def list_regions(
    session: AsyncSession,
    *,
    scope: ColumnElement[bool],
    parent_code: str | None,
    level: RegionLevel | None,
    after: str | None,
    limit: int,
) -> Page[Region]:
    where = [scope]
    if parent_code is not None:
        where.append(col(Region.parent_code) == parent_code)
    if level is not None:
        where.append(col(Region.level) == level)
    return await fetch_page(session, Region, col(Region.code), where, after=after, limit=limit)


async def get_regions(session: AsyncSession, codes: Iterable[str]) -> dict[str, Region]:
    rows = await session.scalars(select(Region).where(col(Region.code).in_(list(codes))))
    return {row.code: row for row in rows}


async def get_region(session: AsyncSession, code: str) -> Region | None:
    return await session.get(Region, code)


async def add_regions(session: AsyncSession, regions: Sequence[Region]) -> None:
    session.add_all(regions)
    await session.flush()


async def count_regions(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Region)) or 0)
