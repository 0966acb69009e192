"""Queries over reports, their versions and frozen rows.

List functions take the scope predicate they are given (ARCHITECTURE §4); they never decide it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, delete, func, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col, select

from ..province import ProvinceSetting
from ..region import Region
from ..report import (
    Report,
    ReportAssessment,
    ReportChild,
    ReportFigure,
    ReportFinding,
    ReportRevision,
    ReportSource,
    ReportStatus,
    ReportVerdict,
)
from ..reporting_calendar import Cadence, ReportLevel
from ..school import School
from .paging import Keyset, PageQuery, keyset_page_query
from .paths import SchoolPaths, within_path

# A report is seen on the education line by its unit's path (a school's, or a region's).
REPORT_SCOPE_COLUMNS: dict[str, list[Any]] = {"EDU": [col(Report.unit_path)]}

T = TypeVar("T", bound=SQLModel)


def report_scope_paths(report: Report) -> dict[str, list[str | None]]:
    return {"EDU": [report.unit_path]}


def readable(scope: ColumnElement[bool], *, drafts_of: Iterable[str]) -> ColumnElement[bool]:
    """Reports in scope that were submitted, or are drafts of the caller's own units."""
    own = list(drafts_of)
    submitted = col(Report.first_submitted_at).is_not(None)
    return and_(scope, or_(submitted, col(Report.unit_path).in_(own)) if own else submitted)


@dataclass(frozen=True)
class ReportFilter:
    level: ReportLevel | None = None
    cadence: Cadence | None = None
    period: str | None = None
    statuses: tuple[ReportStatus, ...] = ()
    region_path: str | None = None


def reports_page_query(*, scope: ColumnElement[bool], filter: ReportFilter, after: int | None, limit: int) -> PageQuery:
    """A page of reports as statements, by id: the normal path runs it (`run_page`), the compiled path
    (issue 18 §2) builds its JSON over the same keys."""
    where = [scope]
    if filter.level is not None:
        where.append(col(Report.level) == filter.level)
    if filter.cadence is not None:
        where.append(col(Report.cadence) == filter.cadence)
    if filter.period is not None:
        where.append(col(Report.period) == filter.period)
    if filter.statuses:
        where.append(col(Report.status).in_(filter.statuses))
    if filter.region_path is not None:
        where.append(within_path(col(Report.unit_path), filter.region_path))
    start = Keyset(id=after) if after is not None else None
    return keyset_page_query(col(Report.id), None, where, after=start, limit=limit)


async def get_reports(session: AsyncSession, ids: Iterable[int]) -> dict[int, Report]:
    rows = await session.scalars(select(Report).where(col(Report.id).in_(list(ids))))
    return {row.id or 0: row for row in rows}


async def lock_report(session: AsyncSession, report_id: int) -> Report | None:
    """The report, locked for this transaction: version checks and status changes see the latest row
    (reloaded, should the session hold an older copy)."""
    stmt = select(Report).where(col(Report.id) == report_id).with_for_update().execution_options(populate_existing=True)
    return (await session.scalars(stmt)).first()


async def find_report(session: AsyncSession, unit_code: str, cadence: Cadence, period: str) -> Report | None:
    """The unit's report for the period, locked; until the transaction ends nobody else creates it either
    (a transaction-scoped advisory lock on the key, so two first drafts do not race to the insert)."""
    key = f"report:{unit_code}:{cadence.value}:{period}"
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
    stmt = (
        select(Report)
        .where(col(Report.unit_code) == unit_code, col(Report.cadence) == cadence, col(Report.period) == period)
        .with_for_update()
    )
    return (await session.scalars(stmt)).first()


async def add(session: AsyncSession, row: T) -> T:
    session.add(row)
    await session.flush()
    return row


async def revision_of(session: AsyncSession, report: Report) -> ReportRevision:
    """The report's current version."""
    stmt = select(ReportRevision).where(
        col(ReportRevision.report_id) == report.id, col(ReportRevision.number) == report.revision
    )
    return (await session.scalars(stmt)).one()


async def previous_revision(session: AsyncSession, revision: ReportRevision) -> ReportRevision | None:
    """The version before this one (the returned version a correction starts from)."""
    stmt = select(ReportRevision).where(
        col(ReportRevision.report_id) == revision.report_id, col(ReportRevision.number) == revision.number - 1
    )
    return (await session.scalars(stmt)).first()


async def revisions_of(session: AsyncSession, report_ids: Iterable[int]) -> dict[int, list[ReportRevision]]:
    stmt = (
        select(ReportRevision)
        .where(col(ReportRevision.report_id).in_(list(report_ids)))
        .order_by(col(ReportRevision.report_id), col(ReportRevision.number))
    )
    out: dict[int, list[ReportRevision]] = {}
    for row in await session.scalars(stmt):
        out.setdefault(row.report_id, []).append(row)
    return out


async def replace_snapshot(
    session: AsyncSession, revision_id: int, figures: Sequence[ReportFigure], children: Sequence[ReportChild]
) -> None:
    """A draft's rows, generated again: the old rows go (a draft was never submitted), the new ones come."""
    for model in (ReportFigure, ReportChild):
        await session.execute(delete(model).where(col(model.revision_id) == revision_id))
    await session.execute(delete(ReportSource).where(col(ReportSource.revision_id) == revision_id))
    session.add_all([*figures, *children])
    await session.flush()


async def add_sources(session: AsyncSession, revision_id: int, source_ids: Iterable[int]) -> None:
    session.add_all([ReportSource(revision_id=revision_id, source_revision_id=s) for s in source_ids])
    await session.flush()


async def _by_revision(
    session: AsyncSession, model: type[T], revision_ids: Iterable[int], *order: Any
) -> dict[int, list[T]]:
    stmt = select(model).where(col(model.revision_id).in_(list(revision_ids))).order_by(*order)  # type: ignore[attr-defined]
    out: dict[int, list[T]] = {}
    for row in await session.scalars(stmt):
        out.setdefault(row.revision_id, []).append(row)  # type: ignore[attr-defined]
    return out


async def parts_by_id(session: AsyncSession, model: type[T], ids: Iterable[int]) -> list[tuple[T, int]]:
    """Rows of a report's part (a version, verdict, finding or assessment) by id, each with its report's id."""
    wanted = list(ids)
    if not wanted:
        return []
    if model is ReportRevision:
        stmt = select(model, col(ReportRevision.report_id)).where(col(ReportRevision.id).in_(wanted))
    else:
        stmt = (
            select(model, col(ReportRevision.report_id))
            .join(ReportRevision, col(ReportRevision.id) == model.revision_id)  # type: ignore[attr-defined]
            .where(model.id.in_(wanted))  # type: ignore[attr-defined]
        )
    return [(row, report_id) for row, report_id in (await session.execute(stmt)).all()]


async def figures_of(session: AsyncSession, revision_ids: Iterable[int]) -> dict[int, list[ReportFigure]]:
    return await _by_revision(session, ReportFigure, revision_ids, col(ReportFigure.stage))


async def children_of(session: AsyncSession, revision_ids: Iterable[int]) -> dict[int, list[ReportChild]]:
    """Listed children by version: Table 2 (dropouts) first, then the suspected list, each by 序号."""
    return await _by_revision(
        session, ReportChild, revision_ids, col(ReportChild.ledger), col(ReportChild.seq), col(ReportChild.id)
    )


async def verdicts_of(session: AsyncSession, revision_ids: Iterable[int]) -> dict[int, list[ReportVerdict]]:
    return await _by_revision(session, ReportVerdict, revision_ids, col(ReportVerdict.id))


async def findings_of(session: AsyncSession, revision_ids: Iterable[int]) -> dict[int, list[ReportFinding]]:
    return await _by_revision(session, ReportFinding, revision_ids, col(ReportFinding.id))


async def assessments_of(session: AsyncSession, revision_ids: Iterable[int]) -> dict[int, list[ReportAssessment]]:
    return await _by_revision(session, ReportAssessment, revision_ids, col(ReportAssessment.subject_code))


async def sources_of(session: AsyncSession, revision_ids: Iterable[int]) -> dict[int, list[ReportRevision]]:
    """The versions each aggregate version summed, with their reports' order (by report id)."""
    stmt = (
        select(col(ReportSource.revision_id), ReportRevision)
        .join(ReportRevision, col(ReportRevision.id) == col(ReportSource.source_revision_id))
        .where(col(ReportSource.revision_id).in_(list(revision_ids)))
        .order_by(col(ReportRevision.report_id))
    )
    out: dict[int, list[ReportRevision]] = {}
    for revision_id, source in (await session.execute(stmt)).all():
        out.setdefault(int(revision_id), []).append(source)
    return out


async def approved_reports(
    session: AsyncSession, *, under_path: str, cadence: Cadence, periods: Sequence[str], lock: bool = False
) -> list[tuple[Report, ReportRevision]]:
    """Approved reports of units inside `under_path` for these periods, each with its current version;
    with `lock`, share-locked so that none is returned until this transaction ends."""
    stmt = (
        select(Report, ReportRevision)
        .join(
            ReportRevision,
            (col(ReportRevision.report_id) == col(Report.id)) & (col(ReportRevision.number) == col(Report.revision)),
        )
        .where(
            within_path(col(Report.unit_path), under_path),
            col(Report.cadence) == cadence,
            col(Report.period).in_(list(periods)),
            col(Report.status) == ReportStatus.APPROVED,
        )
        .order_by(col(Report.unit_code), col(Report.period))
    )
    if lock:
        stmt = stmt.with_for_update(read=True, of=Report)
    return [(report, revision) for report, revision in (await session.execute(stmt)).all()]


async def aggregates_summing(session: AsyncSession, source_revision_id: int) -> list[Report]:
    """Reports whose current version summed this version (the county's quarter over a school's month)."""
    stmt = (
        select(Report)
        .join(
            ReportRevision,
            (col(ReportRevision.report_id) == col(Report.id)) & (col(ReportRevision.number) == col(Report.revision)),
        )
        .join(ReportSource, col(ReportSource.revision_id) == col(ReportRevision.id))
        .where(col(ReportSource.source_revision_id) == source_revision_id)
    )
    return list(await session.scalars(stmt))


async def count_schools(session: AsyncSession, region_path: str) -> int:
    stmt = select(func.count()).select_from(School).where(within_path(SchoolPaths(col(School.path)), region_path))
    return int(await session.scalar(stmt) or 0)


async def province_setting(session: AsyncSession, province_code: str) -> ProvinceSetting | None:
    return await session.get(ProvinceSetting, province_code)


async def sub_regions(session: AsyncSession, parent_code: str) -> list[Region]:
    """The regions directly below one (a city's counties, a province's cities), by code."""
    stmt = select(Region).where(col(Region.parent_code) == parent_code).order_by(col(Region.code))
    return list(await session.scalars(stmt))
