"""Queries over regions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, bindparam, func
from sqlalchemy import select as core_select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ..region import Region, RegionLevel
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


# A list filter's region on every request: its path only, by a statement built once (issue 18 §2).
REGION_PATH = core_select(col(Region.path)).where(col(Region.code) == bindparam("code"))


async def region_path(session: AsyncSession, code: str) -> str | None:
    return await session.scalar(REGION_PATH, {"code": code})


async def get_region(session: AsyncSession, code: str) -> Region | None:
    return await session.get(Region, code)


async def add_regions(session: AsyncSession, regions: Sequence[Region]) -> None:
    session.add_all(regions)
    await session.flush()


async def count_regions(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Region)) or 0)
