"""Reading and writing attendance, and finding the children the ledger rules must look at."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import ColumnElement, or_, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ..attendance import AttendanceMark, ClassRegister
from ..child import Child
from ..ledger import EntryStatus, LedgerEntry
from ..ledger_rules import DayMark, Mark


async def upsert_marks(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    """Record marks; a second record of the same child and day replaces the first (a correction)."""
    if not rows:
        return
    stmt = insert(AttendanceMark).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["child_id", "day"],
        set_={
            "mark": stmt.excluded.mark,
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
    """Each child's marks from `since` to `as_of`, with the days its class register was taken and the
    child had no mark counted as present."""
    children = list(children)
    ids = [c.id for c in children]
    marks: dict[int, dict[date, Mark]] = {c.id or 0: {} for c in children}
    stmt = select(AttendanceMark).where(
        col(AttendanceMark.child_id).in_(ids), col(AttendanceMark.day) > since, col(AttendanceMark.day) <= as_of
    )
    for m in await session.scalars(stmt):
        marks[m.child_id][m.day] = m.mark
    classes = {(c.school_code, c.grade) for c in children if c.school_code and c.grade}
    if classes:
        schools = sorted({s for s, _ in classes})
        registers = await session.scalars(
            select(ClassRegister).where(
                col(ClassRegister.school_code).in_(schools),
                col(ClassRegister.day) > since,
                col(ClassRegister.day) <= as_of,
            )
        )
        taken: dict[tuple[str, int], list[date]] = {}
        for r in registers:
            taken.setdefault((r.school_code, r.grade), []).append(r.day)
        for c in children:
            for day in taken.get((c.school_code or "", c.grade or 0), []):
                marks[c.id or 0].setdefault(day, Mark.PRESENT)
    return {child_id: [DayMark(d, m) for d, m in sorted(days.items())] for child_id, days in marks.items()}


async def class_members(session: AsyncSession, school_code: str, grade: int) -> list[Child]:
    stmt = select(Child).where(col(Child.school_code) == school_code, col(Child.grade) == grade)
    return list(await session.scalars(stmt.order_by(col(Child.id))))
