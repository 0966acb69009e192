"""Reading and writing the province and city settings (models/province.py)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ..province import CitySetting, ProvinceSetting


async def province_setting(session: AsyncSession, province_code: str) -> ProvinceSetting | None:
    return await session.get(ProvinceSetting, province_code)


async def city_setting(session: AsyncSession, city_code: str) -> CitySetting | None:
    return await session.get(CitySetting, city_code)


async def lock_province_setting(session: AsyncSession, province_code: str) -> ProvinceSetting:
    """The province's row, locked for this transaction; created (the defaults, version 0) if missing.

    Two first writers at once: `ON CONFLICT DO NOTHING` makes the second wait for the first's row,
    so both then lock the same row and the second sees the first's version."""
    await session.execute(
        insert(ProvinceSetting).values(province_code=province_code, version=0).on_conflict_do_nothing()
    )
    stmt = (
        select(ProvinceSetting)
        .where(col(ProvinceSetting.province_code) == province_code)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one()


async def lock_city_setting(session: AsyncSession, city_code: str, province_code: str) -> CitySetting:
    """The city's row, locked for this transaction; created (off, version 0) if missing."""
    await session.execute(
        insert(CitySetting).values(city_code=city_code, province_code=province_code, version=0).on_conflict_do_nothing()
    )
    stmt = (
        select(CitySetting)
        .where(col(CitySetting.city_code) == city_code)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one()


async def term_survey_cities(session: AsyncSession, city_codes: Iterable[str]) -> set[str]:
    """The cities among these that keep Guyuan's term survey (POLICY 003 §2(二))."""
    codes = list(set(city_codes))
    if not codes:
        return set()
    stmt = select(CitySetting.city_code).where(
        col(CitySetting.city_code).in_(codes), col(CitySetting.term_survey_enabled)
    )
    return set(await session.scalars(stmt))
