"""Comparisons (models/comparison.py): reading runs and findings within the scope predicate the caller is
given (ARCHITECTURE §4). Running the comparisons of a county is models/repos/comparison_runs.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..comparison import ComparisonFinding, ComparisonRun, DismissReason, FindingKind, FindingState
from .paging import Page, fetch_page
from .paths import SchoolPaths, within_path

# A finding is scoped like a child on both lines (ARCHITECTURE §3), and also by the county that raised it.
FINDING_SCOPE_COLUMNS: dict[str, list[Any]] = {
    "EDU": [SchoolPaths(cast(Any, ComparisonFinding.school_path)), col(ComparisonFinding.county_path)],
    "GOV": [
        col(ComparisonFinding.household_path),
        col(ComparisonFinding.residence_path),
        col(ComparisonFinding.county_path),
    ],
}
# Runs and counts hold no personal data: they are read by place, the county compared.
RUN_SCOPE_COLUMNS: dict[str, list[Any]] = {"PLACE": [col(ComparisonRun.county_path)]}
COUNT_SCOPE_COLUMNS: dict[str, list[Any]] = {"PLACE": [col(ComparisonFinding.county_path)]}


def finding_scope_paths(finding: ComparisonFinding) -> dict[str, list[str | None]]:
    county = finding.county_path
    return {
        "EDU": [finding.school_path, county],
        "GOV": [finding.household_path, finding.residence_path, county],
    }


async def list_runs(
    session: AsyncSession, *, scope: ColumnElement[bool], region_path: str | None, after: str | None, limit: int
) -> Page[ComparisonRun]:
    """Runs within `scope` (over `RUN_SCOPE_COLUMNS`), oldest first."""
    where = [scope]
    if region_path is not None:
        where.append(within_path(col(ComparisonRun.county_path), region_path))
    key = col(ComparisonRun.id)
    return await fetch_page(session, ComparisonRun, key, where, after=after, limit=limit, key_type=int)


async def runs_by_id(session: AsyncSession, ids: Iterable[int], *, scope: ColumnElement[bool]) -> list[ComparisonRun]:
    wanted = list(ids)
    if not wanted:
        return []
    return list((await session.scalars(select(ComparisonRun).where(col(ComparisonRun.id).in_(wanted), scope))).all())


@dataclass(frozen=True)
class FindingFilter:
    state: FindingState | None = None
    kind: FindingKind | None = None
    region_path: str | None = None
    reason: DismissReason | None = None
    run_id: int | None = None


def _finding_conditions(f: FindingFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.state is not None:
        where.append(col(ComparisonFinding.state) == f.state)
    if f.kind is not None:
        where.append(col(ComparisonFinding.kind) == f.kind)
    if f.reason is not None:
        where.append(col(ComparisonFinding.dismiss_reason) == f.reason)
    if f.region_path is not None:
        where.append(within_path(col(ComparisonFinding.county_path), f.region_path))
    if f.run_id is not None:
        where.append(col(ComparisonFinding.run_id) == f.run_id)
    return where


async def list_findings(
    session: AsyncSession, *, scope: ColumnElement[bool], filter: FindingFilter, after: str | None, limit: int
) -> Page[ComparisonFinding]:
    """Findings within `scope` (over `FINDING_SCOPE_COLUMNS`), oldest first."""
    where = [scope, *_finding_conditions(filter)]
    return await fetch_page(
        session, ComparisonFinding, col(ComparisonFinding.id), where, after=after, limit=limit, key_type=int
    )


@dataclass(frozen=True)
class FindingCount:
    county_path: str
    kind: FindingKind
    state: FindingState
    reason: DismissReason | None
    count: int


async def count_findings(
    session: AsyncSession, *, scope: ColumnElement[bool], region_path: str | None
) -> list[FindingCount]:
    """Findings counted by county, kind, state and dismissal reason, within `scope` (over
    `COUNT_SCOPE_COLUMNS`): no personal data."""
    f = ComparisonFinding
    keys = (col(f.county_path), col(f.kind), col(f.state), col(f.dismiss_reason))
    stmt = select(*keys, func.count()).where(scope).group_by(*keys).order_by(*keys)
    if region_path is not None:
        stmt = stmt.where(within_path(col(f.county_path), region_path))
    return [FindingCount(*row) for row in (await session.execute(stmt)).all()]


async def get_findings(session: AsyncSession, ids: Sequence[int]) -> dict[int, ComparisonFinding]:
    if not ids:
        return {}
    rows = await session.scalars(select(ComparisonFinding).where(col(ComparisonFinding.id).in_(list(ids))))
    return {row.id or 0: row for row in rows}


async def lock_findings(session: AsyncSession, ids: Sequence[int]) -> dict[int, ComparisonFinding]:
    """The findings, locked in id order (two bulk decisions never deadlock) and read afresh."""
    stmt = (
        select(ComparisonFinding)
        .where(col(ComparisonFinding.id).in_(list(ids)))
        .order_by(col(ComparisonFinding.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.id or 0: row for row in await session.scalars(stmt)}


async def findings_of_entries(session: AsyncSession, entry_ids: Sequence[int]) -> dict[int, list[ComparisonFinding]]:
    """The findings put on the ledger as each entry, or tied to it."""
    stmt = (
        select(ComparisonFinding)
        .where(col(ComparisonFinding.ledger_entry_id).in_(list(entry_ids)))
        .order_by(col(ComparisonFinding.id))
    )
    out: dict[int, list[ComparisonFinding]] = {}
    for row in await session.scalars(stmt):
        out.setdefault(row.ledger_entry_id or 0, []).append(row)
    return out
