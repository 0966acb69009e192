"""The three reads behind the reporting-status tree (who has not submitted for a period): the regions,
the schools (monthly reports) and the period's reports under one path, plus the provinces' settings.

Each is one query over a subtree, never one per node. List functions take the scope predicate they
are given (ARCHITECTURE §4); they never decide it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ..province import ProvinceSetting
from ..region import Region, RegionLevel
from ..report import Report, ReportStatus
from ..reporting_calendar import Cadence
from ..school import School
from .paths import SchoolPaths, within_path

# Regions and schools as the reporting chain sees them: on the education line, by their paths.
REGION_SCOPE_COLUMNS: dict[str, list[Any]] = {"EDU": [col(Region.path)]}
SCHOOL_SCOPE_COLUMNS: dict[str, list[Any]] = {"EDU": [SchoolPaths(col(School.path))]}


class Place(NamedTuple):
    """A region or a school as the tree shows it."""

    code: str
    name: str
    path: str
    level: RegionLevel | None  # None for a school


class PeriodReport(NamedTuple):
    id: int
    unit_code: str
    status: ReportStatus
    first_submitted_at: datetime | None
    days_late: int | None


async def regions_below(
    session: AsyncSession, *, scope: ColumnElement[bool], root_path: str, levels: Iterable[RegionLevel]
) -> list[Place]:
    """Regions of these levels inside `root_path` (the root's own row included when its level is listed)."""
    stmt = (
        select(col(Region.code), col(Region.name), col(Region.path), col(Region.level))
        .where(scope, within_path(col(Region.path), root_path), col(Region.level).in_(list(levels)))
        .order_by(col(Region.path))
    )
    return [Place(code, name, path, level) for code, name, path, level in (await session.execute(stmt)).all()]


async def schools_below(session: AsyncSession, *, scope: ColumnElement[bool], root_path: str) -> list[Place]:
    """Schools inside `root_path`, counted like `reports.count_schools`."""
    stmt = (
        select(col(School.code), col(School.name), col(School.path))
        .where(scope, within_path(SchoolPaths(col(School.path)), root_path))
        .order_by(col(School.code))
    )
    return [Place(code, name, path, None) for code, name, path in (await session.execute(stmt)).all()]


async def reports_of_period(
    session: AsyncSession, *, scope: ColumnElement[bool], root_path: str, cadence: Cadence, period: str
) -> list[PeriodReport]:
    """The reports of one period whose unit lies inside `root_path`."""
    columns: list[Any] = [Report.id, Report.unit_code, Report.status, Report.first_submitted_at, Report.days_late]
    stmt = select(*columns).where(
        scope,
        within_path(col(Report.unit_path), root_path),
        col(Report.cadence) == cadence,
        col(Report.period) == period,
    )
    return [PeriodReport(*row) for row in (await session.execute(stmt)).all()]


async def province_settings(session: AsyncSession, codes: Iterable[str]) -> dict[str, ProvinceSetting]:
    rows = await session.scalars(select(ProvinceSetting).where(col(ProvinceSetting.province_code).in_(list(codes))))
    return {row.province_code: row for row in rows}
