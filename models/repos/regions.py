"""Queries over regions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ..region import Region, RegionLevel
from .driver import fetch_one
from .paging import Page, fetch_page


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


async def region_path(session: AsyncSession, code: str) -> str | None:
    """A list filter's region, through the driver (models/repos/driver.py: every filtered page asks)."""
    row = await fetch_one(session, "SELECT path FROM region WHERE code = %s", (code,))
    return row[0] if row is not None else None


async def get_region(session: AsyncSession, code: str) -> Region | None:
    return await session.get(Region, code)


async def add_regions(session: AsyncSession, regions: Sequence[Region]) -> None:
    session.add_all(regions)
    await session.flush()


async def count_regions(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Region)) or 0)
