"""Verification tasks of pushed-down lists (models/verification.py): opening, locking, listing, counting.

List functions take the scope predicate they are given (ARCHITECTURE §4); `task_scope` builds it from the
paths the use case supplies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, false, func, or_, select, text, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..province import ProvinceSetting
from ..roster_import import RosterRow, RowStatus
from ..verification import DEFAULT_VERIFICATION_DAYS, TaskStatus, VerificationTask
from .paging import Page, fetch_page
from .paths import within_path


def task_scope(county_paths: Sequence[str], sender_paths: Sequence[str]) -> ColumnElement[bool]:
    """Tasks routed into one of `county_paths` (a county, or a city or province above it), or of a batch
    sent from exactly one of `sender_paths` (a sender sees its own lists, not those sent below it). None: false."""
    t = VerificationTask
    clauses: list[ColumnElement[bool]] = [within_path(cast(Any, t.county_path), p) for p in county_paths]
    if sender_paths:
        clauses.append(col(t.sender_path).in_(list(sender_paths)))
    return or_(*clauses) if clauses else false()


async def valid_rows(session: AsyncSession, import_id: int) -> list[RosterRow]:
    """A batch's valid rows in file order (a pushed-down list: thousands of children, not millions)."""
    stmt = (
        select(RosterRow)
        .where(col(RosterRow.import_id) == import_id, col(RosterRow.status) == RowStatus.VALID)
        .order_by(col(RosterRow.line))
    )
    return list((await session.scalars(stmt)).all())


async def verification_days(session: AsyncSession, province_codes: Iterable[str]) -> dict[str, int]:
    """Each province's `verification_days` (the default where it has no settings row)."""
    codes = sorted(set(province_codes))
    stmt = select(col(ProvinceSetting.province_code), col(ProvinceSetting.verification_days)).where(
        col(ProvinceSetting.province_code).in_(codes)
    )
    found: dict[str, int] = dict((await session.execute(stmt)).all())
    return {code: found.get(code, DEFAULT_VERIFICATION_DAYS) for code in codes}


async def insert_tasks(session: AsyncSession, tasks: list[dict[str, Any]]) -> int:
    """Open tasks; a row that already has a live task keeps it (`ON CONFLICT DO NOTHING`). Returns how many."""
    if not tasks:
        return 0
    stmt = (
        insert(VerificationTask)
        .values(tasks)
        .on_conflict_do_nothing(index_elements=["import_id", "line"], index_where=text("status <> 'REROUTED'"))
    )
    return int(cast(Any, await session.execute(stmt)).rowcount)


async def lock_task(session: AsyncSession, task_id: int) -> VerificationTask | None:
    """The task, locked for this transaction and read afresh: concurrent verifications queue here."""
    stmt = (
        select(VerificationTask)
        .where(col(VerificationTask.id) == task_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).first()


async def tasks_by_id(session: AsyncSession, ids: list[int], *, scope: ColumnElement[bool]) -> list[VerificationTask]:
    if not ids:
        return []
    stmt = select(VerificationTask).where(col(VerificationTask.id).in_(ids), scope)
    return list((await session.scalars(stmt)).all())


async def rows_of_tasks(session: AsyncSession, tasks: Iterable[VerificationTask]) -> dict[tuple[int, int], RosterRow]:
    keys = {(t.import_id, t.line) for t in tasks}
    if not keys:
        return {}
    stmt = select(RosterRow).where(func.row(col(RosterRow.import_id), col(RosterRow.line)).in_(list(keys)))
    return {(r.import_id, r.line): r for r in (await session.scalars(stmt)).all()}


@dataclass(frozen=True)
class TaskFilter:
    import_id: int | None = None
    status: TaskStatus | None = None
    overdue: bool | None = None
    region_path: str | None = None


def _filters(f: TaskFilter, today: date) -> list[ColumnElement[bool]]:
    t = VerificationTask
    where: list[ColumnElement[bool]] = []
    if f.import_id is not None:
        where.append(col(t.import_id) == f.import_id)
    if f.status is not None:
        where.append(col(t.status) == f.status)
    late = and_(col(t.status) == TaskStatus.OPEN, col(t.due_on) < today)
    if f.overdue is True:
        where.append(late)
    elif f.overdue is False:
        where.append(~late)
    if f.region_path is not None:
        where.append(within_path(cast(Any, t.county_path), f.region_path) if f.region_path else true())
    return where


async def list_tasks(
    session: AsyncSession, *, scope: ColumnElement[bool], task_filter: TaskFilter, today: date, after: str | None,
    limit: int,
) -> Page[VerificationTask]:  # fmt: skip
    """Tasks within `scope` and the filter, oldest first."""
    where = [scope, *_filters(task_filter, today)]
    return await fetch_page(
        session, VerificationTask, col(VerificationTask.id), where, after=after, limit=limit, key_type=int
    )


@dataclass(frozen=True)
class TaskGroup:
    """Tasks of one county (None: unroutable) in one state, counted."""

    county_path: str | None
    status: TaskStatus
    outcome: str | None
    reason: str | None
    overdue: bool
    count: int


async def count_tasks(
    session: AsyncSession, *, scope: ColumnElement[bool], import_id: int | None, today: date
) -> list[TaskGroup]:
    """Tasks within `scope` (of one batch, or all) counted by county, state, outcome, reason and lateness."""
    t = VerificationTask
    late = and_(col(t.status) == TaskStatus.OPEN, col(t.due_on) < today)
    keys = (col(t.county_path), col(t.status), col(t.outcome), col(t.not_dropout_reason), late)
    stmt = select(*keys, func.count()).where(scope).group_by(*keys)
    if import_id is not None:
        stmt = stmt.where(col(t.import_id) == import_id)
    return [
        TaskGroup(path, TaskStatus(status), outcome, reason, bool(overdue), int(n))
        for path, status, outcome, reason, overdue, n in (await session.execute(stmt)).all()
    ]


# One pushed-down row registered as a child (the rule of `roster_imports.REGISTER_SQL`, for one row, with the
# province of the county verifying it: a ministry's batch has none of its own). The residence is the household
# region when the list gives none (现住址默认户籍地).
REGISTER_ROW_SQL = """
WITH born AS (
    INSERT INTO child (name, gender, birth_date, national_id, registry_number, special_groups, school_code,
                       grade, school_path, household_region_code, household_path, residence_region_code,
                       residence_path, no_household_reason, no_id_reason, province_code)
    SELECT r.name, r.gender, r.birth_date, r.national_id, r.registry_number, '{}'::varchar[],
           r.school_code, r.grade, r.school_path, r.household_region_code, r.household_path,
           coalesce(r.residence_region_code, r.household_region_code), coalesce(r.residence_path, r.household_path),
           CASE WHEN r.household_region_code IS NULL THEN :no_household END, r.no_id_reason, :province
      FROM roster_row r
     WHERE r.import_id = :import_id AND r.line = :line AND r.status = 'VALID'
    ON CONFLICT DO NOTHING
    RETURNING id, school_code, grade, province_code
), enrolled AS (
    INSERT INTO enrolment_event (child_id, change, "on", school_code, grade, recorded_by, province_code)
    SELECT id, 'ENROL', :as_of, school_code, grade, :actor, province_code FROM born WHERE school_code IS NOT NULL
), tied AS (
    UPDATE roster_row r SET child_id = b.id FROM born b WHERE r.import_id = :import_id AND r.line = :line
)
SELECT id FROM born
"""


async def register_row(
    session: AsyncSession, *, import_id: int, line: int, province: str, as_of: date, actor: str, no_household: str
) -> int | None:
    """Register a pushed-down row as a child; None if a child took its national ID meanwhile (the caller
    then finds that child by the ID)."""
    params = {
        "import_id": import_id, "line": line, "province": province, "as_of": as_of, "actor": actor,
        "no_household": no_household,
    }  # fmt: skip
    found = await session.scalar(text(REGISTER_ROW_SQL), params)
    return int(found) if found is not None else None
