"""Attendance readable through the API (issue 14 §1): a child's month, a class's month (各班考勤汇总)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from models.ledger_rules import LeaveReason
from models.reporting_calendar import Cadence, ReportLevel
from resolvers.ledgers import attendance_reads as reads
from resolvers.ledgers.attendance_reads import DayStatus

from ..context import Info
from ..enums import described
from ..inputs import ints

if TYPE_CHECKING:
    from ..students.types import Student

described(
    LeaveReason,
    {
        LeaveReason.ILLNESS: "病假 / illness",
        LeaveReason.FAMILY: "事假（家庭原因）/ family reasons",
        LeaveReason.OTHER: "其他 / other",
    },
    "请假事由（POLICY 002 二(七)）/ why leave was given",
)
described(
    DayStatus,
    {
        DayStatus.PRESENT: "到校（整班点名未列入）/ present: the class register was taken without listing the child",
        DayStatus.ABSENT: "无故缺勤（有记录）/ absent without leave, recorded",
        DayStatus.EXCUSED: "请假 / on leave",
        DayStatus.UNKNOWN: "无记录：不计缺勤 / no record: unknown, not counted as absent",
    },
    "上课日考勤 / a school day's attendance",
)


@strawberry.type(description="一个上课日 / one school day.")
class AttendanceDay:
    day: date = strawberry.field(description="日期 / the school day.")
    status: DayStatus = strawberry.field(description="考勤 / attendance.")
    leave_reason: LeaveReason | None = strawberry.field(
        description="请假事由（请假首日）/ leave reason, on its first day."
    )
    leave_until: date | None = strawberry.field(
        description="请假截止日 / the leave's last day, if longer than the day."
    )


@strawberry.type(description="上课日计数 / school days counted by status.")
class AttendanceTally:
    present: int = strawberry.field(description="到校 / present.")
    absent: int = strawberry.field(description="无故缺勤 / absent without leave.")
    excused: int = strawberry.field(description="请假 / on leave.")
    unknown: int = strawberry.field(description="无记录 / unknown.")


def _tally(t: reads.Tally) -> AttendanceTally:
    return AttendanceTally(present=t.present, absent=t.absent, excused=t.excused, unknown=t.unknown)


@strawberry.type(description="学生月考勤 / a child's school days of a month (up to today).")
class StudentAttendance:
    month: str = strawberry.field(description="月份 YYYY-MM / the month.")
    school_days: int = strawberry.field(description="上课日数（截至今日）/ school days (up to today).")
    totals: AttendanceTally = strawberry.field(description="合计 / totals.")
    days: list[AttendanceDay] = strawberry.field(description="每个上课日 / each school day.")


def student_month(month: str, found: reads.ChildMonth) -> StudentAttendance:
    return StudentAttendance(
        month=month,
        school_days=len(found.days),
        totals=_tally(found.tally),
        days=[
            AttendanceDay(day=d.day, status=d.status, leave_reason=d.leave_reason, leave_until=d.leave_until)
            for d in found.days
        ],
    )


@strawberry.type(description="班级中一名学生的月考勤 / one pupil's month in the class summary.")
class ClassAttendancePupil:
    child_id: strawberry.Private[int]
    totals: AttendanceTally = strawberry.field(description="合计 / the pupil's totals.")

    @strawberry.field(description="学生 / the pupil.")  # type: ignore[untyped-decorator]
    async def student(self, info: Info) -> Annotated[Student, strawberry.lazy("schema.students.types")]:
        from ..students.types import Student

        [node] = await Student.resolve_nodes(info=info, node_ids=[str(self.child_id)])
        assert node is not None
        return node


@strawberry.type(description="各班考勤汇总（POLICY 004 §4）/ a class's monthly attendance summary.")
class ClassAttendance:
    school_code: str = strawberry.field(description="学校代码 / school.")
    grade: int = strawberry.field(description="年级 / grade (the class).")
    month: str = strawberry.field(description="月份 YYYY-MM / the month.")
    school_days: int = strawberry.field(description="上课日数（截至今日）/ school days, up to today.")
    registers_taken: int = strawberry.field(description="整班点名天数 / school days the class register was taken.")
    pupil_count: int = strawberry.field(description="在班学生数 / pupils now in the class.")
    totals: AttendanceTally = strawberry.field(description="学生·上课日合计 / pupil-days by status.")
    pupils: list[ClassAttendancePupil] = strawberry.field(description="每名学生 / each pupil.")


def class_month(found: reads.ClassMonth) -> ClassAttendance:
    return ClassAttendance(
        school_code=found.school_code,
        grade=found.grade,
        month=found.month,
        school_days=len(found.school_days),
        registers_taken=found.registers_taken,
        pupil_count=len(found.pupils),
        totals=_tally(found.tally),
        pupils=[ClassAttendancePupil(child_id=p.child.id or 0, totals=_tally(p.tally)) for p in found.pupils],
    )


async def student_attendance(root: Any, info: Info, month: str) -> StudentAttendance:
    """`Student.attendance`: the child's month."""
    return student_month(month, await reads.student_attendance(info.context, root.child_id, month))


async def report_class_attendance(root: Any, info: Info) -> list[ClassAttendance] | None:
    """`Report.classAttendance`: a school's monthly report carries each class's month (POLICY 004 §4)."""
    if root.level is not ReportLevel.SCHOOL or root.cadence is not Cadence.MONTH:
        return None
    classes = await reads.school_classes(info.context, root.unit_code, root.period)
    return None if classes is None else [class_month(c) for c in classes]


async def class_attendance(
    info: Info, school_code: str, grade: Annotated[int, strawberry.argument(metadata=ints(1, 9))], month: str
) -> ClassAttendance:
    return class_month(await reads.class_attendance(info.context, school_code, grade, month))
