"""Reading and writing attendance, and finding the children the ledger rules must look at."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import ColumnElement, or_, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from .. import ledger_rules as rules
from ..attendance import AttendanceMark, ClassRegister
from ..child import Child
from ..ledger import EntryStatus, LedgerEntry
from ..ledger_rules import DayMark, Mark, Recorded

# The longest leave one record may cover (validated at input: resolvers/ledgers/rules.py).
LONGEST_LEAVE = timedelta(days=92)


async def upsert_marks(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    """Record marks; a second record of the same child and day replaces the first (a correction)."""
    if not rows:
        return
    stmt = insert(AttendanceMark).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["child_id", "day"],
        set_={
            "mark": stmt.excluded.mark,
            "leave_reason": stmt.excluded.leave_reason,
            "leave_until": stmt.excluded.leave_until,
            "school_code": stmt.excluded.school_code,
            "recorded_by": stmt.excluded.recorded_by,
            "recorded_at": stmt.excluded.recorded_at,
        },
    )
    await session.execute(stmt)


async def upsert_register(session: AsyncSession, row: dict[str, object]) -> None:
    stmt = insert(ClassRegister).values(row)
    stmt = stmt.on_conflict_do_update(
        index_elements=["school_code", "grade", "day"],
        set_={"recorded_by": stmt.excluded.recorded_by, "recorded_at": stmt.excluded.recorded_at},
    )
    await session.execute(stmt)


async def rule_candidates(
    session: AsyncSession, *, scope: ColumnElement[bool] | None, since: date, as_of: date
) -> list[Child]:
    """Children the rules may act on: absent without leave lately, or with an entry not yet closed."""
    absent = select(AttendanceMark.child_id).where(
        col(AttendanceMark.mark) == Mark.ABSENT, col(AttendanceMark.day) > since, col(AttendanceMark.day) <= as_of
    )
    active = select(LedgerEntry.child_id).where(col(LedgerEntry.status).in_([EntryStatus.OPEN, EntryStatus.RETURNED]))
    stmt = (
        select(Child)
        .where(scope if scope is not None else true(), or_(col(Child.id).in_(absent), col(Child.id).in_(active)))
        .order_by(col(Child.id))
    )
    return list(await session.scalars(stmt))


async def day_marks(
    session: AsyncSession, children: Iterable[Child], *, since: date, as_of: date
) -> dict[int, list[DayMark]]:
    """Each child's known days after `since` to `as_of` (models/ledger_rules.day_marks: recorded marks,
    leave, class registers that make the unlisted children present)."""
    children = list(children)
    recorded = await recorded_marks(session, [c.id or 0 for c in children], since=since, as_of=as_of)
    taken = await registers_taken(session, {(c.school_code, c.grade) for c in children}, since=since, as_of=as_of)
    first = since + timedelta(days=1)
    return {
        c.id or 0: rules.day_marks(recorded.get(c.id or 0, {}), taken.get((c.school_code, c.grade), []), first, as_of)
        for c in children
    }


async def recorded_marks(
    session: AsyncSession, child_ids: list[int], *, since: date, as_of: date
) -> dict[int, dict[date, Recorded]]:
    """Marks recorded after `since` to `as_of`, and the leaves begun within a leave's reach before it."""
    stmt = select(AttendanceMark).where(
        col(AttendanceMark.child_id).in_(child_ids),
        col(AttendanceMark.day) > since - LONGEST_LEAVE,
        col(AttendanceMark.day) <= as_of,
    )
    out: dict[int, dict[date, Recorded]] = {}
    for m in await session.scalars(stmt):
        if m.day > since or (m.leave_until is not None and m.leave_until > since):
            out.setdefault(m.child_id, {})[m.day] = Recorded(m.mark, m.leave_until)
    return out


async def registers_taken(
    session: AsyncSession, classes: set[tuple[str | None, int | None]], *, since: date, as_of: date
) -> dict[tuple[str | None, int | None], list[date]]:
    """The days each class's register was taken, after `since` to `as_of`."""
    schools = sorted({s for s, g in classes if s and g})
    if not schools:
        return {}
    registers = await session.scalars(
        select(ClassRegister).where(
            col(ClassRegister.school_code).in_(schools), col(ClassRegister.day) > since, col(ClassRegister.day) <= as_of
        )
    )
    taken: dict[tuple[str | None, int | None], list[date]] = {}
    for r in registers:
        if (r.school_code, r.grade) in classes:
            taken.setdefault((r.school_code, r.grade), []).append(r.day)
    return taken


async def class_members(session: AsyncSession, school_code: str, grade: int) -> list[Child]:
    stmt = select(Child).where(col(Child.school_code) == school_code, col(Child.grade) == grade)
    return list(await session.scalars(stmt.order_by(col(Child.id))))


async def mark_rows(
    session: AsyncSession, child_ids: list[int], first: date, last: date
) -> dict[int, dict[date, AttendanceMark]]:
    """The recorded marks themselves (with their leave) from `first` to `last`."""
    stmt = select(AttendanceMark).where(
        col(AttendanceMark.child_id).in_(child_ids), col(AttendanceMark.day).between(first, last)
    )
    out: dict[int, dict[date, AttendanceMark]] = {}
    for m in await session.scalars(stmt):
        out.setdefault(m.child_id, {})[m.day] = m
    return out


async def grades_of(session: AsyncSession, school_code: str) -> list[int]:
    """The grades the school has pupils in."""
    stmt = select(Child.grade).where(col(Child.school_code) == school_code, col(Child.grade).is_not(None)).distinct()
    return sorted(g for g in await session.scalars(stmt) if g is not None)
