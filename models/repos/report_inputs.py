"""What a school report is generated from: enrolment history, ledger entries and attendance of one school.

The counting rules are in `models/report_tables.py`; these queries only fetch what they read.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, cast

from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from ..attendance import AttendanceMark, ClassRegister
from ..base import CHINA_TIME
from ..enrolment import EnrolmentEvent
from ..ledger import Ledger, LedgerEntry
from ..ledger_rules import DayMark, Mark
from ..school import School
from .regions import SchoolPaths, within_path


async def enrolment_histories(session: AsyncSession, school_code: str, day: date) -> dict[int, list[EnrolmentEvent]]:
    """Enrolment changes on or before `day` of every child who had one at this school by then."""
    at_school = select(EnrolmentEvent.child_id).where(
        col(EnrolmentEvent.school_code) == school_code, col(EnrolmentEvent.on) <= day
    )
    stmt = (
        select(EnrolmentEvent)
        .where(col(EnrolmentEvent.child_id).in_(at_school), col(EnrolmentEvent.on) <= day)
        .order_by(col(EnrolmentEvent.child_id), col(EnrolmentEvent.on), col(EnrolmentEvent.id))
    )
    out: dict[int, list[EnrolmentEvent]] = {}
    for row in await session.scalars(stmt):
        out.setdefault(row.child_id, []).append(row)
    return out


async def entries_of_school(session: AsyncSession, school_code: str, start: date, end: date) -> list[LedgerEntry]:
    """Entries flagged at the school that were on a ledger at any time from `start` to `end` (China time)."""
    since = datetime.combine(start, time.min, tzinfo=CHINA_TIME)
    closed_at = cast(Any, LedgerEntry.closed_at)
    stmt = (
        select(LedgerEntry)
        .where(
            col(LedgerEntry.school_code) == school_code,
            col(LedgerEntry.opened_on) <= end,
            or_(closed_at.is_(None), closed_at >= since),
        )
        .order_by(col(LedgerEntry.opened_on), col(LedgerEntry.id))
    )
    return list(await session.scalars(stmt))


async def attendance_in(
    session: AsyncSession, school_code: str, grades: dict[int, int], start: date, end: date
) -> dict[int, list[DayMark]]:
    """Each child's school days from `start` to `end`: its own marks, and the days the register of its
    class then (the school and the grade it was in) was taken with no mark for it, as present."""
    days: dict[int, dict[date, Mark]] = {child_id: {} for child_id in grades}
    marks = await session.scalars(
        select(AttendanceMark).where(
            col(AttendanceMark.child_id).in_(list(grades)), col(AttendanceMark.day).between(start, end)
        )
    )
    for mark in marks:
        days[mark.child_id][mark.day] = mark.mark
    registers = await session.scalars(
        select(ClassRegister).where(
            col(ClassRegister.school_code) == school_code, col(ClassRegister.day).between(start, end)
        )
    )
    taken: dict[int, list[date]] = {}
    for register in registers:
        taken.setdefault(register.grade, []).append(register.day)
    for child_id, grade in grades.items():
        for day in taken.get(grade, []):
            days[child_id].setdefault(day, Mark.PRESENT)
    return {child_id: [DayMark(d, m) for d, m in sorted(by_day.items())] for child_id, by_day in days.items()}


async def cohort_histories(
    session: AsyncSession, region_path: str, start: date, as_of: date
) -> tuple[dict[int, list[EnrolmentEvent]], dict[str, str], set[int]]:
    """For the consolidation rate: the enrolment histories (to `as_of`) of every child enrolled at a school
    of the region on `start` or after, the school paths those histories name, and which of those children
    are on the dropout ledger at the end of `as_of`."""
    in_region = (
        select(EnrolmentEvent.child_id)
        .join(School, col(School.code) == col(EnrolmentEvent.school_code))
        .where(within_path(SchoolPaths(col(School.path)), region_path), col(EnrolmentEvent.on) <= as_of)
    )
    stmt = (
        select(EnrolmentEvent)
        .where(col(EnrolmentEvent.child_id).in_(in_region), col(EnrolmentEvent.on) <= as_of)
        .order_by(col(EnrolmentEvent.child_id), col(EnrolmentEvent.on), col(EnrolmentEvent.id))
    )
    histories: dict[int, list[EnrolmentEvent]] = {}
    for row in await session.scalars(stmt):
        histories.setdefault(row.child_id, []).append(row)
    codes = {e.school_code for events in histories.values() for e in events}
    paths = dict((await session.execute(select(School.code, School.path).where(col(School.code).in_(codes)))).all())
    after_end = datetime.combine(as_of, time.max, tzinfo=CHINA_TIME)
    closed_at = cast(Any, LedgerEntry.closed_at)
    dropouts = select(LedgerEntry.child_id).where(
        col(LedgerEntry.child_id).in_(list(histories)),
        col(LedgerEntry.ledger) == Ledger.DROPOUT,
        col(LedgerEntry.opened_on) <= as_of,
        or_(closed_at.is_(None), closed_at > after_end),
    )
    return histories, paths, set(await session.scalars(dropouts))
