"""Reading attendance (issue 14 §1): one child's month, and a class's month (各班考勤汇总, POLICY 004 §4),
each school day's status as the ledger rules see it (models/ledger_rules.py: recorded, on leave, present
by the class register, or unknown). Scoped like the child: CHILD:READ over the child or the school."""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass, field
from datetime import date, timedelta

from authz.errors import Forbidden
from models.attendance import AttendanceMark
from models.base import today
from models.child import Child
from models.ledger_rules import DayMark, LeaveReason, Mark
from models.period_statistics import month_start
from models.repos import attendance as attendance_repo
from models.repos import children as child_repo
from models.repos import school_calendar as calendar_repo
from models.repos import schools as school_repo
from models.school_calendar import CountyCalendar, county_of

from ..context import Context
from ..errors import BadInput
from ..paging import parse_id


class DayStatus(enum.StrEnum):
    PRESENT = "PRESENT"
    ABSENT = "ABSENT"  # absent without leave, recorded
    EXCUSED = "EXCUSED"  # on leave
    UNKNOWN = "UNKNOWN"  # a school day with no record: not absent


@dataclass(frozen=True)
class Day:
    day: date
    status: DayStatus
    leave_reason: LeaveReason | None = None
    leave_until: date | None = None


@dataclass
class Tally:
    present: int = 0
    absent: int = 0
    excused: int = 0
    unknown: int = 0

    def add(self, status: DayStatus) -> None:
        setattr(self, status.value.lower(), getattr(self, status.value.lower()) + 1)


@dataclass
class ChildMonth:
    child: Child
    days: list[Day]
    tally: Tally


@dataclass
class ClassMonth:
    school_code: str
    grade: int
    month: str
    school_days: list[date]
    registers_taken: int
    pupils: list[ChildMonth] = field(default_factory=list)

    @property
    def tally(self) -> Tally:
        out = Tally()
        for p in self.pupils:
            for d in p.days:
                out.add(d.status)
        return out


def month_range(month: str) -> tuple[date, date]:
    """The month's first day and its last day up to today (attendance is never recorded ahead)."""
    first = month_start(month)
    if first is None:
        raise BadInput("month", "BAD_PERIOD", f"月份须写作 YYYY-MM：{month}", f"a month is YYYY-MM: {month}")
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return first, min(last, today())


def _days(marks: list[DayMark], leave: dict[date, AttendanceMark], school_days: list[date]) -> list[Day]:
    known = {m.day: m.mark for m in marks}
    out = []
    for d in school_days:
        mark = known.get(d)
        status = DayStatus.UNKNOWN if mark is None else DayStatus(mark.value)
        row = leave.get(d) if mark is Mark.EXCUSED else None
        out.append(Day(d, status, row.leave_reason if row else None, row.leave_until if row else None))
    return out


async def _months(ctx: Context, children: list[Child], first: date, last: date) -> list[ChildMonth]:
    if last < first:
        return [ChildMonth(c, [], Tally()) for c in children]
    since = first - timedelta(days=1)
    marks = await attendance_repo.day_marks(ctx.session, children, since=since, as_of=last)
    rows = await attendance_repo.mark_rows(ctx.session, [c.id or 0 for c in children], first, last)
    calendars = await calendar_repo.county_calendars(ctx.session, {county_of(c.school_path or "") for c in children})
    out = []
    for child in children:
        cal = calendars.get(county_of(child.school_path or "")) or CountyCalendar()
        days = _days(marks.get(child.id or 0, []), rows.get(child.id or 0, {}), cal.school_days(first, last))
        tally = Tally()
        for d in days:
            tally.add(d.status)
        out.append(ChildMonth(child, days, tally))
    return out


async def student_attendance(ctx: Context, child_id: int, month: str) -> ChildMonth:
    """A child's school days of a month, for a reader of the child (CHILD:READ)."""
    first, last = month_range(month)
    child = (await child_repo.get_children(ctx.session, [child_id])).get(child_id)
    if child is None or ctx.access().allows("CHILD", "READ", child_repo.scope_paths(child)) is None:
        raise Forbidden()
    return (await _months(ctx, [child], first, last))[0]


async def class_attendance(ctx: Context, school_code: str, grade: int, month: str) -> ClassMonth:
    """各班考勤汇总: a class's month (the pupils now in it), for a reader of the school's children."""
    first, last = month_range(month)
    school = (await school_repo.get_schools(ctx.session, [school_code])).get(school_code)
    if school is None or ctx.access().allows("CHILD", "READ", {"EDU": [school.path]}) is None:
        raise Forbidden()
    pupils = await attendance_repo.class_members(ctx.session, school_code, grade)
    cal = await calendar_repo.county_calendar(ctx.session, county_of(school.path))
    school_days = cal.school_days(first, last) if first <= last else []
    taken = await attendance_repo.registers_taken(
        ctx.session, {(school_code, grade)}, since=first - timedelta(days=1), as_of=last
    )
    registers = len(set(taken.get((school_code, grade), [])) & set(school_days))
    summary = ClassMonth(school_code, grade, month, school_days, registers)
    summary.pupils = await _months(ctx, pupils, first, last)
    return summary


async def school_classes(ctx: Context, school_code: str, month: str) -> list[ClassMonth] | None:
    """Every class of the school that month (a school monthly report's 各班考勤汇总); None for a reader who
    may not read the school's children."""
    school = (await school_repo.get_schools(ctx.session, [school_code])).get(school_code)
    if school is None or ctx.access().allows("CHILD", "READ", {"EDU": [school.path]}) is None:
        return None
    grades = await attendance_repo.grades_of(ctx.session, school_code)
    return [await class_attendance(ctx, school_code, g, month) for g in grades]


def parse_child_id(raw: str) -> int:
    child_id = parse_id(raw)
    if child_id is None:
        raise Forbidden()
    return child_id
