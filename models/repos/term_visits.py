"""Queries over term-start visits (开学时节进校、入户实地深度调研, POLICY 004 §5) and the schools they cover.

List functions take the scope predicate they are given (ARCHITECTURE §4); they never decide it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, and_, func, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlmodel import col, select

from ..region import Region, RegionLevel
from ..school import School
from ..term_visit import TermVisit
from .paths import SchoolPaths, within_path


async def lock_visit(session: AsyncSession, school_code: str, term: str) -> TermVisit | None:
    """The school's visit for the term, locked; until the transaction ends nobody else creates it either
    (a transaction-scoped advisory lock on the key, so two first records do not race to the insert)."""
    key = f"term_visit:{school_code}:{term}"
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
    stmt = (
        select(TermVisit)
        .where(col(TermVisit.school_code) == school_code, col(TermVisit.term) == term)
        .with_for_update()
    )
    return (await session.scalars(stmt)).first()


async def save(session: AsyncSession, visit: TermVisit) -> TermVisit:
    session.add(visit)
    await session.flush()
    return visit


async def get_visits(session: AsyncSession, ids: Iterable[int]) -> dict[int, TermVisit]:
    rows = await session.scalars(select(TermVisit).where(col(TermVisit.id).in_(list(ids))))
    return {row.id or 0: row for row in rows}


def _within_any(column: ColumnElement[str] | Mapped[str] | SchoolPaths, paths: Sequence[str]) -> ColumnElement[bool]:
    return or_(*[within_path(column, p) for p in paths])


async def schools_with_visits(
    session: AsyncSession, *, scope: ColumnElement[bool], region_paths: Sequence[str], term: str
) -> list[tuple[School, TermVisit | None]]:
    """Every school inside the regions (counted like `reports.count_schools`), each with its visit for
    the term if it has one: one query, by school code."""
    stmt = (
        select(School, TermVisit)
        .outerjoin(TermVisit, and_(col(TermVisit.school_code) == col(School.code), col(TermVisit.term) == term))
        .where(scope, _within_any(SchoolPaths(col(School.path)), region_paths))
        .order_by(col(School.code))
    )
    return [(school, visit) for school, visit in (await session.execute(stmt)).all()]


async def counties_within(
    session: AsyncSession, *, scope: ColumnElement[bool], region_paths: Sequence[str]
) -> list[Region]:
    """The counties inside the regions (a county's own row when the region is a county), by code."""
    stmt = (
        select(Region)
        .where(scope, col(Region.level) == RegionLevel.COUNTY, _within_any(col(Region.path), region_paths))
        .order_by(col(Region.code))
    )
    return list(await session.scalars(stmt))
