"""Queries over ledger entries and the derived school-age children ledger.

List functions take the scope predicate they are given (ARCHITECTURE §4); they never decide it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, and_, case, exists, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ..child import Child, SpecialGroup, Stage
from ..entry_counts import LedgerEntryPathCount
from ..ledger import DropoutCategory, EntryStatus, Handover, Ledger, LedgerEntry
from ..persuasion import CasePlan, DeferralRequest, DeferralStatus, PersuasionVisit
from .kept_counts import depth, scope_total
from .paging import (
    Keyset,
    Page,
    PageQuery,
    PathRange,
    branch_conditions,
    keyset_page_query,
    page_queries,
    sort_column,
    within_any,
)
from .paths import SchoolPaths, within_path

ENTRY_SCHOOL_PATH = SchoolPaths(cast(Any, LedgerEntry.school_path))
_SHARED = [col(LedgerEntry.responsible_path), cast(Any, LedgerEntry.handover_path)]
# Which paths of an entry each line's scope reads (module docstring of models/ledger.py).
ENTRY_SCOPE_COLUMNS: dict[str, list[Any]] = {
    "EDU": [ENTRY_SCHOOL_PATH, *_SHARED],
    "GOV": [col(LedgerEntry.household_path), col(LedgerEntry.residence_path), *_SHARED],
}


def entry_scope_paths(entry: LedgerEntry) -> dict[str, list[str | None]]:
    """Where an entry is seen: its school, the child's home regions, the responsible county, and the other
    side of a handover (the receiving county while it is pending, the sending county afterwards)."""
    shared = [entry.responsible_path, entry.handover_path]
    return {"EDU": [entry.school_path, *shared], "GOV": [entry.household_path, entry.residence_path, *shared]}


def entry_work_paths(entry: LedgerEntry) -> dict[str, list[str | None]]:
    """Where an entry is worked on: as above but for the other side of a handover, which reads the case
    (and the receiving county acknowledges it) but does not change it."""
    return {
        "EDU": [entry.school_path, entry.responsible_path],
        "GOV": [entry.household_path, entry.residence_path, entry.responsible_path],
    }


@dataclass(frozen=True)
class EntryFilter:
    ledger: Ledger | None = None
    statuses: tuple[EntryStatus, ...] = ()
    category: DropoutCategory | None = None
    missing_category: bool | None = None
    stage: Stage | None = None
    special_group: SpecialGroup | None = None
    region_path: str | None = None
    school_path: str | None = None
    opened_from: date | None = None
    opened_to: date | None = None
    not_visited_since: date | None = None
    deferral_pending: bool | None = None
    child_id: int | None = None


def entry_conditions(f: EntryFilter) -> list[ColumnElement[bool]]:
    e = LedgerEntry
    where: list[ColumnElement[bool]] = []
    if f.ledger is not None:
        where.append(col(e.ledger) == f.ledger)
    if f.statuses:
        where.append(col(e.status).in_(f.statuses))
    if f.category is not None:
        where.append(col(e.category) == f.category)
    if f.missing_category is not None:
        where.append(cast(Any, e.category).is_(None) if f.missing_category else cast(Any, e.category).is_not(None))
    if f.stage is not None:
        where.append(col(e.stage) == f.stage)
    if f.special_group is not None:
        in_group = select(Child.id).where(col(Child.special_groups).contains([f.special_group.value]))
        where.append(col(e.child_id).in_(in_group))
    if f.region_path is not None:
        where.append(within_any(entry_region_ranges(f.region_path)))
    if f.school_path is not None:
        where.append(within_path(ENTRY_SCHOOL_PATH, f.school_path))
    if f.opened_from is not None:
        where.append(col(e.opened_on) >= f.opened_from)
    if f.opened_to is not None:
        where.append(col(e.opened_on) <= f.opened_to)
    if f.not_visited_since is not None:
        where.append(col(e.status) != EntryStatus.CLOSED)
        where.append(func.coalesce(e.last_visit_on, e.opened_on) < f.not_visited_since)
    if f.deferral_pending is not None:
        pending = exists().where(
            col(DeferralRequest.entry_id) == col(e.id), col(DeferralRequest.status) == DeferralStatus.PENDING
        )
        where.append(pending if f.deferral_pending else ~pending)
    if f.child_id is not None:
        where.append(col(e.child_id) == f.child_id)
    return where


@page_queries
def entries_page_query(
    *, scope: list[PathRange] | None, filter: EntryFilter, after: Keyset | None, limit: int
) -> PageQuery:
    """Entries in `scope` matching the filter, read in the order of the narrowest ranges: the school
    filter's, else the region filter's, else the scope's (each range by path, then id)."""
    drive = scope
    where = entry_conditions(filter)
    if filter.school_path is not None:
        drive = [PathRange(ENTRY_SCHOOL_PATH, filter.school_path)]
    elif filter.region_path is not None:
        drive = entry_region_ranges(filter.region_path)
    if drive is not scope:
        where.append(within_any(scope))
    query = keyset_page_query(col(LedgerEntry.id), drive, where, after=after, limit=limit)
    if replace(filter, ledger=None, statuses=()) == EntryFilter():  # by ledger and status at most
        query = replace(query, count=entry_count(scope, filter.ledger, filter.statuses))
    return query


ENTRY_LINES = {line: [str(sort_column(c).key) for c in columns] for line, columns in ENTRY_SCOPE_COLUMNS.items()}


def entry_count(scope: list[PathRange] | None, ledger: Ledger | None, statuses: Sequence[EntryStatus]) -> Select[Any]:
    """How many entries of this ledger (any if None) in these statuses (any if none) lie in `scope`,
    exactly as `count(*)` would say, from `ledger_entry_path_count` (models/repos/kept_counts.py)."""
    kept = LedgerEntryPathCount
    own = [col(kept.ledger) == ledger] if ledger is not None else []
    own += [col(kept.status).in_(list(statuses))] if statuses else []
    rows = entry_conditions(EntryFilter(ledger=ledger, statuses=tuple(statuses)))

    def kept_sum(line: str, name: str, path: str | None) -> Any:
        where = [col(kept.line) == line, col(kept.column_name) == name, *own]
        if path is not None:
            where += [within_path(col(kept.path), path), col(kept.shared).in_(list(range(depth(path))))]
        return select(func.coalesce(func.sum(col(kept.entries)), 0)).where(*where).scalar_subquery()

    def counted(k: int) -> Any:
        assert scope is not None
        return (
            select(func.count()).select_from(LedgerEntry).where(*branch_conditions(scope, k), *rows).scalar_subquery()
        )

    return select(scope_total(scope, ENTRY_LINES, kept_sum, counted))


def entry_region_ranges(region_path: str) -> list[PathRange]:
    """An entry of this region: any of its paths inside it, each column once (the `regionCode` filter)."""
    columns = {str(sort_column(c)): c for line in ENTRY_SCOPE_COLUMNS.values() for c in line}
    return [PathRange(c, region_path) for c in columns.values()]


async def get_entries(session: AsyncSession, ids: Iterable[int]) -> dict[int, LedgerEntry]:
    rows = await session.scalars(select(LedgerEntry).where(col(LedgerEntry.id).in_(list(ids))))
    return {row.id or 0: row for row in rows}


async def lock_entry(session: AsyncSession, entry_id: int) -> LedgerEntry | None:
    """The entry, locked for this transaction: version checks and status changes see the latest row."""
    stmt = select(LedgerEntry).where(col(LedgerEntry.id) == entry_id).with_for_update()
    return (await session.scalars(stmt)).first()


def not_closed(status: Any) -> ColumnElement[bool]:
    """An entry not yet closed out (销号): a child has at most one (`ux_ledger_entry_active_child`), its
    current entry, whether read through the ORM or compiled (resolvers/compiled)."""
    return cast(ColumnElement[bool], status != EntryStatus.CLOSED.value)


async def active_entries(
    session: AsyncSession, child_ids: Iterable[int], *, lock: bool = True
) -> dict[int, LedgerEntry]:
    """Each child's entry that is not yet closed out (at most one: a unique index holds it); locked for
    a write unless `lock` is False."""
    stmt = select(LedgerEntry).where(col(LedgerEntry.child_id).in_(list(child_ids)), not_closed(LedgerEntry.status))
    if lock:  # in id order, as the children were locked (ARCHITECTURE §12)
        stmt = stmt.order_by(col(LedgerEntry.id)).with_for_update().execution_options(populate_existing=True)
    return {row.child_id: row for row in await session.scalars(stmt)}


async def last_closed_entry(session: AsyncSession, child_id: int) -> LedgerEntry | None:
    """The child's most recently closed entry, not counting a suspected entry closed by escalation."""
    stmt = (
        select(LedgerEntry)
        .where(col(LedgerEntry.child_id) == child_id, col(LedgerEntry.status) == EntryStatus.CLOSED)
        .order_by(col(LedgerEntry.closed_at).desc(), col(LedgerEntry.id).desc())
    )
    for row in await session.scalars(stmt):
        if row.close_reason != "ESCALATED_TO_DROPOUT":
            return row
    return None


async def move_child_paths(session: AsyncSession, child: Child) -> None:
    """A child's household or residence changed: entries follow, so the government line still sees them."""
    for entry in await session.scalars(select(LedgerEntry).where(col(LedgerEntry.child_id) == child.id)):
        entry.household_path = child.household_path
        entry.residence_path = child.residence_path
        session.add(entry)


async def visits_of(session: AsyncSession, entry_ids: Iterable[int]) -> dict[int, list[PersuasionVisit]]:
    stmt = (
        select(PersuasionVisit)
        .where(col(PersuasionVisit.entry_id).in_(list(entry_ids)))
        .order_by(col(PersuasionVisit.visited_on), col(PersuasionVisit.id))
    )
    out: dict[int, list[PersuasionVisit]] = {}
    for row in await session.scalars(stmt):
        out.setdefault(row.entry_id, []).append(row)
    return out


async def get_visits(session: AsyncSession, ids: Iterable[int]) -> dict[int, PersuasionVisit]:
    rows = await session.scalars(select(PersuasionVisit).where(col(PersuasionVisit.id).in_(list(ids))))
    return {row.id or 0: row for row in rows}


async def visits_of_child(session: AsyncSession, child_id: int) -> list[PersuasionVisit]:
    stmt = select(PersuasionVisit).where(col(PersuasionVisit.child_id) == child_id)
    return list(await session.scalars(stmt.order_by(col(PersuasionVisit.visited_on))))


async def deferrals_of(session: AsyncSession, entry_ids: Iterable[int]) -> dict[int, list[DeferralRequest]]:
    stmt = (
        select(DeferralRequest)
        .where(col(DeferralRequest.entry_id).in_(list(entry_ids)))
        .order_by(col(DeferralRequest.id))
    )
    out: dict[int, list[DeferralRequest]] = {}
    for row in await session.scalars(stmt):
        out.setdefault(row.entry_id, []).append(row)
    return out


async def get_deferrals(session: AsyncSession, ids: Iterable[int]) -> dict[int, DeferralRequest]:
    rows = await session.scalars(select(DeferralRequest).where(col(DeferralRequest.id).in_(list(ids))))
    return {row.id or 0: row for row in rows}


async def lock_deferral(session: AsyncSession, deferral_id: int) -> DeferralRequest | None:
    stmt = select(DeferralRequest).where(col(DeferralRequest.id) == deferral_id).with_for_update()
    return (await session.scalars(stmt)).first()


async def handovers_of(session: AsyncSession, entry_ids: Iterable[int]) -> dict[int, list[Handover]]:
    stmt = select(Handover).where(col(Handover.entry_id).in_(list(entry_ids))).order_by(col(Handover.id))
    out: dict[int, list[Handover]] = {}
    for row in await session.scalars(stmt):
        out.setdefault(row.entry_id, []).append(row)
    return out


async def get_handovers(session: AsyncSession, ids: Iterable[int]) -> dict[int, Handover]:
    rows = await session.scalars(select(Handover).where(col(Handover.id).in_(list(ids))))
    return {row.id or 0: row for row in rows}


async def lock_handover(session: AsyncSession, handover_id: int) -> Handover | None:
    stmt = select(Handover).where(col(Handover.id) == handover_id).with_for_update()
    return (await session.scalars(stmt)).first()


async def get_plans(session: AsyncSession, ids: Iterable[int]) -> dict[int, CasePlan]:
    rows = await session.scalars(select(CasePlan).where(col(CasePlan.id).in_(list(ids))))
    return {row.id or 0: row for row in rows}


async def latest_entries_of(session: AsyncSession, child_ids: Iterable[int]) -> dict[int, LedgerEntry]:
    """Each child's most recent entry (a case plan is seen where it is: the change feed's rule too)."""
    stmt = select(LedgerEntry).where(col(LedgerEntry.child_id).in_(list(child_ids))).order_by(col(LedgerEntry.id))
    return {row.child_id: row for row in await session.scalars(stmt)}  # the last one per child wins


async def plans_of(session: AsyncSession, child_ids: Iterable[int]) -> dict[int, CasePlan]:
    rows = await session.scalars(select(CasePlan).where(col(CasePlan.child_id).in_(list(child_ids))))
    return {row.child_id: row for row in rows}


async def lock_plan(session: AsyncSession, child_id: int) -> CasePlan | None:
    stmt = (
        select(CasePlan)
        .where(col(CasePlan.child_id) == child_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).first()


@dataclass(frozen=True)
class SchoolAgeRow:
    child: Child
    entry: LedgerEntry | None


def schooling_status(row: SchoolAgeRow) -> str:
    """在学状态 of a school-age child, by name (schema's SchoolingStatus): at school or not when on no
    ledger; else the ledger while the entry is open, or the entry's status (returned, deferred…)."""
    entry = row.entry
    if entry is None:
        return "ENROLLED" if row.child.school_code else "OUT_OF_SCHOOL"
    if entry.status is EntryStatus.OPEN:
        return entry.ledger.value
    return entry.status.value


def schooling_status_sql(school_code: Any, entry_ledger: Any, entry_status: Any) -> ColumnElement[str]:
    """`schooling_status` in SQL, over the child's school code and its entry's ledger and status (both
    null: no entry). A test holds the two equal over every combination."""
    return case(
        (entry_status.is_(None), case((func.coalesce(school_code, "") != "", "ENROLLED"), else_="OUT_OF_SCHOOL")),
        (entry_status == EntryStatus.OPEN.value, entry_ledger),
        else_=entry_status,
    )


async def with_open_entries(session: AsyncSession, page: Page[Child]) -> Page[SchoolAgeRow]:
    """The school-age ledger's page: each child with its open entry, if any."""
    entries = await session.scalars(
        select(LedgerEntry).where(
            and_(
                col(LedgerEntry.child_id).in_([c.id for c in page.rows]),
                not_closed(LedgerEntry.status),
            )
        )
    )
    by_child = {e.child_id: e for e in entries}
    rows = [SchoolAgeRow(child=c, entry=by_child.get(c.id or 0)) for c in page.rows]
    return Page(rows=rows, has_next=page.has_next, total=page.total, cursors=page.cursors)
