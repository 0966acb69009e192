"""Queries over children. The scope predicate always comes from the caller (authz)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, cast

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ..child import Child, Guardian
from ..enrolment import EnrolmentEvent
from .paging import Keyset, PageQuery, PathRange, keyset_page_query, within_any
from .paths import SchoolPaths

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
    return keyset_page_query(col(Child.id), drive, where, after=after, limit=limit)


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
