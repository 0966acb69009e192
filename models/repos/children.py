"""Queries over children. The scope predicate always comes from the caller (authz)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ..child import Child, Guardian
from ..child_counts import COHORT_LINES, ChildCohortCount, ChildPathCount
from ..enrolment import EnrolmentEvent
from .kept_counts import depth, scope_total
from .paging import (
    Keyset,
    PageQuery,
    PathRange,
    branch_conditions,
    keyset_page_query,
    page_queries,
    sort_column,
    within_any,
)
from .paths import SchoolPaths, within_path

# Which path of a child each line's scope is read from (ARCHITECTURE §3).
SCHOOL_PATH = SchoolPaths(cast(Any, Child.school_path))  # nullable: not enrolled
SCOPE_COLUMNS: dict[str, list[Any]] = {
    "EDU": [SCHOOL_PATH],
    "GOV": [col(Child.household_path), col(Child.residence_path)],  # either may be NULL: it then matches nothing
}


def scope_paths(child: Child) -> dict[str, list[str | None]]:
    return {"EDU": [child.school_path], "GOV": [child.household_path, child.residence_path]}


def region_ranges(region_path: str) -> list[PathRange]:
    """A child of this region: household, residence or school inside it (the `regionCode` filter)."""
    return [PathRange(column, region_path) for column in (*SCOPE_COLUMNS["GOV"], SCHOOL_PATH)]


def region_condition(region_path: str) -> ColumnElement[bool]:
    return within_any(region_ranges(region_path))


@page_queries
def children_page_query(
    *,
    scope: list[PathRange] | None,
    region_path: str | None,
    enrolled: bool | None,
    after: Keyset | None,
    limit: int,
    school_path: str | None = None,
    grades: tuple[int, int] | None = None,
    special_group: str | None = None,
    born: tuple[date, date] | None = None,
) -> PageQuery:
    """Children in `scope` matching the filters, read in the order of the narrowest ranges: the school
    filter's, else the region filter's, else the scope's (each range by path, then id)."""
    drive = scope
    where: list[ColumnElement[bool]] = []
    if school_path is not None or region_path is not None:
        drive = [PathRange(SCHOOL_PATH, school_path)] if school_path is not None else region_ranges(region_path or "")
        where.append(within_any(scope))
        if school_path is not None and region_path is not None:
            where.append(region_condition(region_path))
    if grades is not None:
        where.append(col(Child.grade).between(*grades))
    if special_group is not None:
        where.append(col(Child.special_groups).contains([special_group]))
    if born is not None:
        where += [col(Child.birth_date) > born[0], col(Child.birth_date) <= born[1]]
    if enrolled is not None:
        school = cast(Any, Child.school_code)
        where.append(school.is_not(None) if enrolled else school.is_(None))
    query = keyset_page_query(col(Child.id), drive, where, after=after, limit=limit)
    own_school = (
        school_path is not None
        and scope is not None
        and all((_column_name(r), r.path) == ("school_path", school_path) for r in scope)
    )
    if region_path is None and (school_path is None or own_school) and (grades, special_group) == (None, None):
        if born is None and enrolled is None:  # the list is its scope (a school filtered to itself)
            query = replace(query, count=scope_count(scope))
        else:
            query = replace(query, count=cohort_count(scope, born=born, enrolled=enrolled))
    return query


def cohort_count(
    scope: list[PathRange] | None, *, born: tuple[date, date] | None, enrolled: bool | None
) -> Select[Any]:
    """How many children in `scope` were born in (born[0], born[1]] (any day if None) and are enrolled (or
    not, or either), exactly as `count(*)` would say: the window's whole birth months summed from
    `child_cohort_count` (models/repos/kept_counts.py), its partial months (a cut-off that is not a month's
    last day) counted from `ix_child_birth_date`: under a month's births at each end."""
    kept = ChildCohortCount
    rows: list[ColumnElement[bool]] = []
    months: list[ColumnElement[bool]] = []
    partial: list[ColumnElement[bool]] = []
    if enrolled is not None:
        school = cast(Any, Child.school_code)
        rows.append(school.is_not(None) if enrolled else school.is_(None))
    if born is not None:
        first, last, ends = whole_months(*born)
        if first > last:  # no whole month: the rows are few
            window = [col(Child.birth_date) > born[0], col(Child.birth_date) <= born[1]]
            return select(func.count()).select_from(Child).where(within_any(scope), *window, *rows)
        months = [col(kept.born_month) >= first, col(kept.born_month) <= last]
        rows_in_months = [col(Child.birth_date) >= first, col(Child.birth_date) < next_month(last)]
        partial = [and_(col(Child.birth_date) > a, col(Child.birth_date) <= b) for a, b in ends]

    def kept_sum(line: str, name: str, path: str | None) -> Any:
        where = [col(kept.line) == line, col(kept.column_name) == name, *months]
        if enrolled is not None:
            where.append(col(kept.enrolled) == enrolled)
        if path is not None:
            where += [within_path(col(kept.path), path), col(kept.shared).in_(list(range(depth(path))))]
        return select(func.coalesce(func.sum(col(kept.children)), 0)).where(*where).scalar_subquery()

    def counted(k: int) -> Any:
        assert scope is not None
        where = [*branch_conditions(scope, k), *rows, *(rows_in_months if born is not None else [])]
        return select(func.count()).select_from(Child).where(*where).scalar_subquery()

    total = scope_total(scope, COHORT_LINES, kept_sum, counted)
    if partial:
        ends_count = select(func.count()).select_from(Child).where(within_any(scope), or_(*partial), *rows)
        total = total + ends_count.scalar_subquery()
    return select(total)


def whole_months(after: date, by: date) -> tuple[date, date, list[tuple[date, date]]]:
    """The first days of the first and last whole months of the days in (after, by], and the parts of
    months at either end, as (after, by] pairs."""
    start = after + timedelta(days=1)
    first = start if start.day == 1 else next_month(start.replace(day=1))
    end_month = by.replace(day=1)
    last = end_month if next_month(end_month) == by + timedelta(days=1) else previous_month(end_month)
    ends = []
    if start < first:
        ends.append((after, first - timedelta(days=1)))
    if next_month(last) <= by:
        ends.append((next_month(last) - timedelta(days=1), by))
    return first, last, ends


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def previous_month(day: date) -> date:
    return date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)


def scope_count(scope: Sequence[PathRange] | None) -> Select[Any]:
    """How many children lie in `scope` (None: all), exactly as `count(*)` over the list's ranges would
    say, read from the kept counts (models/child_counts.py): a few thousand rows at province scope instead
    of every child's index entry (issue 18 §1).

    Each range adds the children in it and in no earlier range. The first range of each column sums its
    paths' counts (ranges on one column never overlap: `authz.access.ranges_over`). A residence range
    after the household range of the same region adds the children living there whose household lies
    outside it: the residence counts sharing fewer path components with the household than the region
    has. Any other overlap (a scope over both lines, or several regions on the government line) is
    counted from the rows, the residence ranges through the partial index of children living elsewhere.
    """
    kept = ChildPathCount
    if scope is None:
        return _kept_sum(col(kept.column_name) == "household_path", *_shared_any("household_path"))  # one a child
    parts: list[Any] = []
    for k, branch in enumerate(scope):
        name = _column_name(branch)
        same = [e for e in scope[:k] if _column_name(e) == name]
        other = [e for e in scope[:k] if _column_name(e) != name]
        conds = [col(kept.column_name) == name, within_path(col(kept.path), branch.path)]
        if any(_overlap(e.path, branch.path) for e in same):
            parts.append(_row_count(scope, k))
        elif not other:
            parts.append(_kept_sum(*conds, *_shared_any(name)).scalar_subquery())
        elif (
            name == "residence_path"
            and branch.path
            and all(_column_name(e) == "household_path" and e.path == branch.path for e in other)
        ):
            shallower = list(range(branch.path.count("/") + 1))  # each value one index range (column, shared, path)
            parts.append(_kept_sum(*conds, col(kept.shared).in_(shallower)).scalar_subquery())
        else:
            parts.append(_row_count(scope, k))
    return select(sum(parts, literal(0)))


def _kept_sum(*where: ColumnElement[bool]) -> Select[Any]:
    return select(func.coalesce(func.sum(col(ChildPathCount.children)), 0)).where(*where)


def _shared_any(name: str) -> list[ColumnElement[bool]]:
    """Only residences are split by `shared`; the other columns' rows all hold 0 (one index range)."""
    return [] if name == "residence_path" else [col(ChildPathCount.shared) == 0]


def _row_count(scope: Sequence[PathRange], k: int) -> Any:
    return select(func.count()).select_from(Child).where(*branch_conditions(scope, k)).scalar_subquery()


def _column_name(r: PathRange) -> str:
    return str(sort_column(r.column).key)


def _overlap(a: str, b: str) -> bool:
    return not a or not b or a == b or a.startswith(b + "/") or b.startswith(a + "/")


async def get_children(session: AsyncSession, ids: Iterable[int]) -> dict[int, Child]:
    rows = await session.scalars(select(Child).where(col(Child.id).in_(list(ids))))
    return {row.id or 0: row for row in rows}


async def guardians_of(session: AsyncSession, child_ids: Iterable[int]) -> dict[int, list[Guardian]]:
    rows = await session.scalars(
        select(Guardian).where(col(Guardian.child_id).in_(list(child_ids))).order_by(col(Guardian.id))
    )
    out: dict[int, list[Guardian]] = {}
    for row in rows:
        out.setdefault(row.child_id, []).append(row)
    return out


async def lock_child(session: AsyncSession, child_id: int) -> Child | None:
    """The child, locked for this transaction (version checks see the latest row)."""
    return (await session.scalars(select(Child).where(col(Child.id) == child_id).with_for_update())).first()


async def lock_children(session: AsyncSession, child_ids: Iterable[int]) -> list[Child]:
    """The children, read afresh and locked in id order (ARCHITECTURE §12): every writer of a child's
    entries, plan or attendance locks the children first and in this one order, so two writers of the
    same children wait for each other instead of deadlocking or both inserting. FOR NO KEY UPDATE still
    lets other rows refer to the child (foreign keys take only a key-share lock)."""
    stmt = (
        select(Child)
        .where(col(Child.id).in_(sorted(set(child_ids))))
        .order_by(col(Child.id))
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return list(await session.scalars(stmt))


async def child_with_national_id(session: AsyncSession, national_id: str) -> int | None:
    result = await session.scalar(select(Child.id).where(col(Child.national_id) == national_id))
    return int(result) if result is not None else None


async def replace_guardians(session: AsyncSession, child: Child, guardians: list[Guardian]) -> None:
    """Guardians are contact details, not history: the new list replaces the old one."""
    from sqlalchemy import delete

    await session.execute(delete(Guardian).where(col(Guardian.child_id) == child.id))
    session.add_all(guardians)


async def enrolment_events_of(session: AsyncSession, child_ids: Iterable[int]) -> dict[int, list[EnrolmentEvent]]:
    stmt = (
        select(EnrolmentEvent)
        .where(col(EnrolmentEvent.child_id).in_(list(child_ids)))
        .order_by(col(EnrolmentEvent.on), col(EnrolmentEvent.id))
    )
    out: dict[int, list[EnrolmentEvent]] = {}
    for row in await session.scalars(stmt):
        out.setdefault(row.child_id, []).append(row)
    return out
