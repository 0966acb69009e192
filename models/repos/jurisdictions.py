"""Jurisdictions: a region, a school, or the nation. Their paths always come from the database row."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

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
