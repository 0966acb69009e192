"""Reading and keeping the school calendars (models/school_calendar.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import delete, or_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ..base import utcnow
from ..school_calendar import CountyCalendar, DayKind, SchoolCalendar, SchoolCalendarDay, SchoolTerm


async def county_calendars(session: AsyncSession, county_paths: Iterable[str]) -> dict[str, CountyCalendar]:
    """Each county's calendar: its province's terms and marked days, its own days off (all years)."""
    counties = sorted(set(county_paths))
    if not counties:
        return {}
    provinces = sorted({c.split("/")[0] for c in counties})
    terms: dict[str, list[tuple[date, date]]] = {p: [] for p in provinces}
    for t in await session.scalars(select(SchoolTerm).where(col(SchoolTerm.province_code).in_(provinces))):
        terms[t.province_code].append((t.first_day, t.last_day))
    marked = await session.scalars(
        select(SchoolCalendarDay).where(
            or_(col(SchoolCalendarDay.region_path).in_(provinces), col(SchoolCalendarDay.region_path).in_(counties))
        )
    )
    province_days: dict[str, dict[date, DayKind]] = {p: {} for p in provinces}
    county_off: dict[str, set[date]] = {c: set() for c in counties}
    for d in marked:
        if d.region_path in province_days:
            province_days[d.region_path][d.day] = d.kind
        else:
            county_off[d.region_path].add(d.day)
    out = {}
    for county in counties:
        province = county.split("/")[0]
        out[county] = CountyCalendar(
            terms=tuple(sorted(terms[province])),
            province_days=province_days[province],
            county_days_off=frozenset(county_off[county]),
        )
    return out


async def county_calendar(session: AsyncSession, county_path: str) -> CountyCalendar:
    return (await county_calendars(session, [county_path]))[county_path]


async def calendar_row(
    session: AsyncSession, region_path: str, year: int, *, lock: bool = False
) -> SchoolCalendar | None:
    stmt = select(SchoolCalendar).where(
        col(SchoolCalendar.region_path) == region_path, col(SchoolCalendar.year) == year
    )
    return (await session.scalars(stmt.with_for_update() if lock else stmt)).first()


async def claim_new_calendar(session: AsyncSession, region_path: str, year: int, actor: str) -> SchoolCalendar | None:
    """Create the year's calendar row at version 1; None when another writer created it first."""
    stmt = (
        insert(SchoolCalendar)
        .values(
            region_path=region_path,
            year=year,
            province_code=region_path[:2],
            updated_by=actor,
            updated_at=utcnow(),
            version=1,
        )
        .on_conflict_do_nothing()
        .returning(col(SchoolCalendar.region_path))
    )
    if (await session.execute(stmt)).first() is None:
        return None
    return await calendar_row(session, region_path, year)


async def days_of(session: AsyncSession, region_paths: list[str], year: int) -> list[SchoolCalendarDay]:
    stmt = select(SchoolCalendarDay).where(
        col(SchoolCalendarDay.region_path).in_(region_paths),
        col(SchoolCalendarDay.day) >= date(year, 1, 1),
        col(SchoolCalendarDay.day) <= date(year, 12, 31),
    )
    return list(await session.scalars(stmt.order_by(col(SchoolCalendarDay.day))))


async def terms_of(session: AsyncSession, province_code: str, year: int) -> list[SchoolTerm]:
    stmt = select(SchoolTerm).where(
        col(SchoolTerm.province_code) == province_code,
        col(SchoolTerm.first_day) >= date(year, 1, 1),
        col(SchoolTerm.first_day) <= date(year, 12, 31),
    )
    return list(await session.scalars(stmt.order_by(col(SchoolTerm.first_day))))


async def other_terms(session: AsyncSession, province_code: str, year: int) -> list[SchoolTerm]:
    """The province's terms of other years (a new term must not overlap them)."""
    stmt = select(SchoolTerm).where(
        col(SchoolTerm.province_code) == province_code,
        or_(col(SchoolTerm.first_day) < date(year, 1, 1), col(SchoolTerm.first_day) > date(year, 12, 31)),
    )
    return list(await session.scalars(stmt))


async def replace_year(
    session: AsyncSession,
    region_path: str,
    year: int,
    days: list[tuple[date, DayKind, str]],
    terms: list[tuple[date, date]] | None,
) -> None:
    """The region's marked days of the year (and, for a province, its terms) become these."""
    province = region_path[:2]
    await session.execute(
        delete(SchoolCalendarDay).where(
            col(SchoolCalendarDay.region_path) == region_path,
            col(SchoolCalendarDay.day) >= date(year, 1, 1),
            col(SchoolCalendarDay.day) <= date(year, 12, 31),
        )
    )
    for day, kind, note in days:
        session.add(SchoolCalendarDay(region_path=region_path, day=day, kind=kind, note=note, province_code=province))
    if terms is not None:
        await session.execute(
            delete(SchoolTerm).where(
                col(SchoolTerm.province_code) == province,
                col(SchoolTerm.first_day) >= date(year, 1, 1),
                col(SchoolTerm.first_day) <= date(year, 12, 31),
            )
        )
        for first, last in terms:
            session.add(SchoolTerm(province_code=province, first_day=first, last_day=last))
    await session.flush()


async def province_terms(session: AsyncSession, province_code: str) -> tuple[tuple[date, date], ...]:
    """The province's recorded terms (first day, last day), in order."""
    rows = await session.scalars(
        select(SchoolTerm).where(col(SchoolTerm.province_code) == province_code).order_by(col(SchoolTerm.first_day))
    )
    return tuple((t.first_day, t.last_day) for t in rows)
