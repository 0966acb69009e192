"""Jurisdictions: a region, a school, or the nation. Their paths always come from the database row."""

from __future__ import annotations

from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ..region import NATION_CODE, NATION_PATH, Region
from ..school import School


async def path_of(session: AsyncSession, code: str) -> str | None:
    """The jurisdiction path of a division code, a 10-digit school code, or CN (the nation: "")."""
    if code == NATION_CODE:
        return NATION_PATH
    if len(code) == 10 and code.isascii() and code.isdigit():
        school = await session.get(School, code)
        return school.path if school else None
    region = await session.get(Region, code)
    return region.path if region else None


async def paths_in_province(session: AsyncSession, province_code: str) -> tuple[dict[str, str], dict[str, str]]:
    """Every region's and school's path in a province, by code: a roster's rows are checked against them
    without a query per row (a county's regions and schools are a few hundred; a province's, tens of thousands)."""
    prefix = province_code + "/%"
    regions = await session.execute(
        select(Region.code, Region.path).where(or_(col(Region.path) == province_code, col(Region.path).like(prefix)))
    )
    schools = await session.execute(select(School.code, School.path).where(col(School.path).like(prefix)))
    return dict(regions.all()), dict(schools.all())


async def paths_in_nation(session: AsyncSession) -> tuple[dict[str, str], dict[str, str]]:
    """`paths_in_province` for every province: a ministry's pushed-down list may name any place."""
    regions = await session.execute(select(Region.code, Region.path))
    schools = await session.execute(select(School.code, School.path))
    return dict(regions.all()), dict(schools.all())
