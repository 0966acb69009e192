"""Attendance and the ledger rules as mutations: recording a day's absences, and running the rules
(the rules themselves are in resolvers/ledgers/rules.py and models/ledger_rules.py)."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry import relay

from models.ledger import LedgerEntry as EntryRow
from models.ledger_rules import LeaveReason
from resolvers.ledgers import rules

from ..context import Info
from ..errors import LedgerError
from ..mutations import run_mutation
from ..nodes import node_id_of
from . import attendance_reads  # noqa: F401 - describes the LeaveReason enum first
from .entries import LedgerEntry


@strawberry.input(description="请假（POLICY 002 二(七)）/ leave: its reason and, for more than the day, its last day.")
class LeaveInput:
    reason: LeaveReason = strawberry.field(description="事由 / reason: ILLNESS, FAMILY, OTHER.")
    until: date | None = strawberry.field(
        default=None,
        description="请假截止日（含），不填为当天 / the last day on leave (included); null: that day only. After the "
        "day, at most 92 days later (OUT_OF_RANGE). Later school days up to it count as on leave unless recorded.",
    )


@strawberry.input(description="一名缺勤学生 / one absent student.")
class AbsenceInput:
    student_id: relay.GlobalID = strawberry.field(description="学生 ID / the student.")
    leave: LeaveInput | None = strawberry.field(
        default=None, description="请假则填，不填为无故缺勤 / leave, if on leave; null: absent without leave."
    )


@strawberry.input(description="班级 / a class: school and grade.")
class ClassInput:
    school_code: str = strawberry.field(description="学校代码 / school code.")
    grade: int = strawberry.field(description="年级 1–9 / grade.")


@strawberry.input(description="登记考勤 / record a day's absences, singly or as a class register.")
class RecordAttendanceInput:
    day: date = strawberry.field(description="上课日 / the school day.")
    absences: list[AbsenceInput] = strawberry.field(description="缺勤学生 / who was absent.")
    class_of: ClassInput | None = strawberry.field(
        default=None,
        description="整班点名：其余学生视为到校 / a class register: everyone else in the class was present.",
    )


@strawberry.type(description="规则执行结果 / what the ledger rules did.")
class LedgerRulesPayload:
    recorded: int = strawberry.field(default=0, description="登记的缺勤数 / absences recorded.")
    opened: list[LedgerEntry] = strawberry.field(
        default_factory=list, description="新纳入疑似辍学 / suspected entries opened."
    )
    reopened: list[LedgerEntry] = strawberry.field(
        default_factory=list,
        description="返校后再次缺勤一周以上，重新纳入 / returned entries opened again (absent a week and more again).",
    )
    escalated: list[LedgerEntry] = strawberry.field(
        default_factory=list, description="转为辍学 / dropout entries opened."
    )
    returned: list[LedgerEntry] = strawberry.field(
        default_factory=list, description="已返校 / entries marked returned."
    )
    errors: list[LedgerError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


def _rules_payload(recorded: int, outcome: rules.RulesOutcome) -> LedgerRulesPayload:
    def nodes(rows: list[EntryRow]) -> list[LedgerEntry]:
        return [LedgerEntry.from_row(r) for r in rows]

    return LedgerRulesPayload(
        recorded=recorded,
        opened=nodes(outcome.opened),
        reopened=nodes(outcome.reopened),
        escalated=nodes(outcome.escalated),
        returned=nodes(outcome.returned),
    )


async def record_attendance(info: Info, input: RecordAttendanceInput) -> LedgerRulesPayload:
    absences = [
        rules.Absence(
            child_id=node_id_of(a.student_id, "Student"),
            leave_reason=a.leave.reason if a.leave else None,
            leave_until=a.leave.until if a.leave else None,
        )
        for a in input.absences
    ]
    return await run_mutation(
        info,
        LedgerRulesPayload,
        lambda: rules.record_attendance(
            info.context,
            day=input.day,
            absences=absences,
            school_code=input.class_of.school_code if input.class_of else None,
            grade=input.class_of.grade if input.class_of else None,
        ),
        lambda result: _rules_payload(*result),
    )


@strawberry.input(description="执行台账规则 / run the ledger rules as of a date.")
class RunLedgerRulesInput:
    as_of: date = strawberry.field(description="截至日期 / as of this date.")


async def run_ledger_rules(info: Info, input: RunLedgerRulesInput) -> LedgerRulesPayload:
    return await run_mutation(
        info, LedgerRulesPayload, lambda: rules.sweep(info.context, input.as_of), lambda o: _rules_payload(0, o)
    )
