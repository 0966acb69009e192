"""Mutations of the ledgers: attendance and the rules, entries, visits, plans, deferral, placement,
close-out and handover. Each takes one input and answers a payload with typed, bilingual errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from enum import Enum
from typing import TypeVar

import strawberry
from strawberry import relay

from models.ledger import CloseReason, DropoutCategory, EntrySource, Ledger, Placement
from models.ledger import Handover as HandoverRow
from models.ledger import LedgerEntry as EntryRow
from models.persuasion import DeferralBasis, Line, VisitMethod
from models.persuasion import DeferralRequest as DeferralRow
from models.persuasion import PersuasionVisit as VisitRow
from resolvers.ledgers import entries, handover, persuasion, rules

from .case_work import CasePlan, DeferralRequest, Handover, PersuasionVisit, handover_from_row
from .context import Info
from .ledgers import LedgerEntry
from .mutations import run_mutation
from .nodes import node_id_of

T = TypeVar("T")


def _code(name: str, zh: str, en: str) -> object:
    return strawberry.enum_value(name, description=f"{zh} / {en}")


@strawberry.enum(description="台账操作的错误代码 / error codes of ledger mutations")
class LedgerErrorCode(Enum):
    REQUIRED = _code("REQUIRED", "必填", "a required value is missing")
    NOT_FOUND = _code("NOT_FOUND", "不存在或不在辖区内", "missing or outside your view")
    CONFLICT = _code("CONFLICT", "记录已被他人修改", "the record changed since you read it")
    OUT_OF_RANGE = _code("OUT_OF_RANGE", "超出允许范围", "out of the allowed range")
    FUTURE_DATE = _code("FUTURE_DATE", "日期晚于今天", "the date is in the future")
    NOT_IN_CLASS = _code("NOT_IN_CLASS", "学生不在此学校或班级", "the student is not in this school or class")
    RULE_OWNED = _code("RULE_OWNED", "由考勤规则自动处理", "the attendance rules do this")
    ALREADY_ON_LEDGER = _code("ALREADY_ON_LEDGER", "已有未销号的记录", "already has an entry not closed out")
    CLOSED = _code("CLOSED", "已销号", "closed out")
    BAD_STATUS = _code("BAD_STATUS", "当前状态不允许此操作", "not allowed in the entry's status")
    CATEGORY_REQUIRED = _code("CATEGORY_REQUIRED", "辍学记录须先定类别", "a dropout entry needs its category")
    DEFERRAL_NOT_APPROVED = _code("DEFERRAL_NOT_APPROVED", "无县级批准的延缓", "no deferral approved at county level")
    PLACEMENT_REQUIRED = _code("PLACEMENT_REQUIRED", "返校须先安置", "a returned child must be placed first")
    NOT_RETURNED = _code("NOT_RETURNED", "尚未返校", "the child has not returned")
    NOT_DISABLED = _code("NOT_DISABLED", "仅适用于残疾儿童", "for disabled children only")
    STILL_SCHOOL_AGE = _code("STILL_SCHOOL_AGE", "仍在义务教育年龄内", "still of compulsory-school age")
    METHOD_NEEDS_STAGE = _code("METHOD_NEEDS_STAGE", "方式与四步法阶段不符", "the method belongs to a later step")
    STAGE_SKIPPED = _code("STAGE_SKIPPED", "四步法不能跳步", "the four steps go in order")
    JOINT_NEEDS_DEPARTMENTS = _code("JOINT_NEEDS_DEPARTMENTS", "联合劝返须两个以上部门", "two or more departments")
    TOO_FEW_JOINT_VISITS = _code("TOO_FEW_JOINT_VISITS", "联合劝返不足三次", "fewer than three joint visits")
    DOCUMENT_REQUIRED = _code("DOCUMENT_REQUIRED", "须附文书", "the document is required")
    ALREADY_REQUESTED = _code("ALREADY_REQUESTED", "已有待审批申请", "a request awaits approval")
    ALREADY_DECIDED = _code("ALREADY_DECIDED", "已审批", "already decided")
    OWN_REQUEST = _code("OWN_REQUEST", "不能审批自己的申请", "nobody approves their own request")
    HANDOVER_PENDING = _code("HANDOVER_PENDING", "移交待接收", "a handover awaits acknowledgement")
    NOT_A_COUNTY = _code("NOT_A_COUNTY", "须移交给县级及以上", "hand over to a county or above")
    UNKNOWN_REGION = _code("UNKNOWN_REGION", "没有这个区划", "no such region")
    SAME_REGION = _code("SAME_REGION", "已由该地区负责", "that region is already responsible")
    ALREADY_ACKNOWLEDGED = _code("ALREADY_ACKNOWLEDGED", "已接收", "already acknowledged")


@strawberry.type(description="用户错误 / a typed, bilingual error naming the input field and the rule.")
class LedgerError:
    field: str = strawberry.field(description="出错的输入字段 / the input field.")
    code: LedgerErrorCode = strawberry.field(description="错误代码 / the rule broken.")
    message: str = strawberry.field(description="中英文说明，引用政策条款 / message citing the rule.")


async def _run(info: Info, work: Callable[[], Awaitable[T]]) -> tuple[T | None, list[LedgerError]]:
    return await run_mutation(info, work, LedgerError, LedgerErrorCode)


def _entry_id(gid: relay.GlobalID) -> str:
    return node_id_of(gid, "LedgerEntry")


@strawberry.type(description="台账记录操作结果 / result of a change to a ledger entry.")
class LedgerEntryPayload:
    entry: LedgerEntry | None = strawberry.field(description="改后的记录 / the entry after the change.")
    errors: list[LedgerError] = strawberry.field(description="错误 / typed errors.")


async def _entry_payload(info: Info, work: Callable[[], Awaitable[EntryRow]]) -> LedgerEntryPayload:
    row, errors = await _run(info, work)
    return LedgerEntryPayload(entry=LedgerEntry.from_row(row) if row else None, errors=errors)


async def _entry_of(info: Info, row: VisitRow | DeferralRow | HandoverRow | None) -> LedgerEntry | None:
    """The entry a visit, request or handover belongs to, as the caller now sees it (None if hidden)."""
    if row is None:
        return None
    found = (await entries.get_entries(info.context, [str(row.entry_id)])).get(str(row.entry_id))
    return LedgerEntry.from_row(found) if found else None


# --- attendance and the rules ------------------------------------------------------------------


@strawberry.input(description="一名缺勤学生 / one absent student.")
class AbsenceInput:
    student_id: relay.GlobalID = strawberry.field(description="学生 ID / the student.")
    excused: bool = strawberry.field(default=False, description="请假 / on leave (excused).")


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
    recorded: int = strawberry.field(description="登记的缺勤数 / absences recorded.")
    opened: list[LedgerEntry] = strawberry.field(description="新纳入疑似辍学 / suspected entries opened.")
    reopened: list[LedgerEntry] = strawberry.field(
        description="返校后再次缺勤一周以上，重新纳入 / returned entries opened again (absent a week and more again)."
    )
    escalated: list[LedgerEntry] = strawberry.field(description="转为辍学 / dropout entries opened.")
    returned: list[LedgerEntry] = strawberry.field(description="已返校 / entries marked returned.")
    errors: list[LedgerError] = strawberry.field(description="错误 / typed errors.")


def _rules_payload(recorded: int, outcome: rules.RulesOutcome | None, errors: list[LedgerError]) -> LedgerRulesPayload:
    def nodes(rows: list[EntryRow]) -> list[LedgerEntry]:
        return [LedgerEntry.from_row(r) for r in rows]

    o = outcome or rules.RulesOutcome()
    return LedgerRulesPayload(
        recorded=recorded,
        opened=nodes(o.opened),
        reopened=nodes(o.reopened),
        escalated=nodes(o.escalated),
        returned=nodes(o.returned),
        errors=errors,
    )


async def record_attendance(info: Info, input: RecordAttendanceInput) -> LedgerRulesPayload:
    absences = [rules.Absence(child_id=node_id_of(a.student_id, "Student"), excused=a.excused) for a in input.absences]
    result, errors = await _run(
        info,
        lambda: rules.record_attendance(
            info.context,
            day=input.day,
            absences=absences,
            school_code=input.class_of.school_code if input.class_of else None,
            grade=input.class_of.grade if input.class_of else None,
        ),
    )
    recorded, outcome = result if result else (0, None)
    return _rules_payload(recorded, outcome, errors)


@strawberry.input(description="执行台账规则 / run the ledger rules as of a date.")
class RunLedgerRulesInput:
    as_of: date = strawberry.field(description="截至日期 / as of this date.")


async def run_ledger_rules(info: Info, input: RunLedgerRulesInput) -> LedgerRulesPayload:
    outcome, errors = await _run(info, lambda: rules.sweep(info.context, input.as_of))
    return _rules_payload(0, outcome, errors)


# --- entries -----------------------------------------------------------------------------------


@strawberry.input(description="纳入台账 / put a child found by comparison, door-to-door search or a list on a ledger.")
class OpenLedgerEntryInput:
    student_id: relay.GlobalID = strawberry.field(description="学生 ID / the child.")
    ledger: Ledger = strawberry.field(description="台账 / which ledger.")
    source: EntrySource = strawberry.field(description="发现途径 / how the child was found.")
    opened_on: date = strawberry.field(description="发现日期 / found on.")
    category: DropoutCategory | None = strawberry.field(default=None, description="辍学类别 / category, if known.")
    note: str | None = strawberry.field(default=None, description="说明 / note.")


async def open_ledger_entry(info: Info, input: OpenLedgerEntryInput) -> LedgerEntryPayload:
    return await _entry_payload(
        info,
        lambda: entries.open_entry(
            info.context,
            student_id=node_id_of(input.student_id, "Student"),
            ledger=input.ledger,
            source=input.source,
            opened_on=input.opened_on,
            category=input.category,
            note=input.note,
        ),
    )


@strawberry.input(description="确定辍学类别 / set the dropout category.")
class SetLedgerCategoryInput:
    entry_id: relay.GlobalID = strawberry.field(description="记录 ID / the entry.")
    category: DropoutCategory = strawberry.field(description="类别 A–T / category.")
    version: int = strawberry.field(description="读取时的版本 / the version you read.")


async def set_ledger_category(info: Info, input: SetLedgerCategoryInput) -> LedgerEntryPayload:
    return await _entry_payload(
        info,
        lambda: entries.set_category(
            info.context, entry_id=_entry_id(input.entry_id), category=input.category, version=input.version
        ),
    )


@strawberry.input(description="标记返校 / the child is back at school.")
class MarkReturnedInput:
    entry_id: relay.GlobalID = strawberry.field(description="记录 ID / the entry.")
    returned_on: date = strawberry.field(description="返校日期 / back on.")
    version: int = strawberry.field(description="读取时的版本 / the version you read.")


async def mark_returned(info: Info, input: MarkReturnedInput) -> LedgerEntryPayload:
    return await _entry_payload(
        info,
        lambda: entries.mark_returned(
            info.context, entry_id=_entry_id(input.entry_id), returned_on=input.returned_on, version=input.version
        ),
    )


@strawberry.input(description="分类安置 / place a returned child.")
class RecordPlacementInput:
    entry_id: relay.GlobalID = strawberry.field(description="记录 ID / the entry.")
    placement: Placement = strawberry.field(description="安置方式 / placement.")
    placed_on: date = strawberry.field(description="安置日期 / date.")
    school_code: str | None = strawberry.field(default=None, description="安置学校 / school.")
    note: str | None = strawberry.field(default=None, description="说明 / note.")
    version: int = strawberry.field(description="读取时的版本 / the version you read.")


async def record_placement(info: Info, input: RecordPlacementInput) -> LedgerEntryPayload:
    return await _entry_payload(
        info,
        lambda: entries.record_placement(
            info.context,
            entry_id=_entry_id(input.entry_id),
            placement=input.placement,
            school_code=input.school_code,
            placed_on=input.placed_on,
            note=input.note,
            version=input.version,
        ),
    )


@strawberry.input(description="销号 / close an entry out, with the reason.")
class CloseOutLedgerEntryInput:
    entry_id: relay.GlobalID = strawberry.field(description="记录 ID / the entry.")
    reason: CloseReason = strawberry.field(description="原因 / reason.")
    note: str | None = strawberry.field(default=None, description="说明（OTHER 必填）/ note, required for OTHER.")
    version: int = strawberry.field(description="读取时的版本 / the version you read.")


async def close_out_ledger_entry(info: Info, input: CloseOutLedgerEntryInput) -> LedgerEntryPayload:
    return await _entry_payload(
        info,
        lambda: entries.close_out(
            info.context,
            entry_id=_entry_id(input.entry_id),
            reason=input.reason,
            note=input.note,
            version=input.version,
        ),
    )


# --- persuasion, plans, deferral -----------------------------------------------------------------


@strawberry.input(description="参加人员 / someone who took part.")
class ParticipantInput:
    name: str = strawberry.field(description="姓名 / name.")
    department: str = strawberry.field(description="部门 / department.")
    line: Line = strawberry.field(description="所属线 / line.")


@strawberry.input(description="记录一次劝返 / record a persuasion attempt.")
class RecordPersuasionVisitInput:
    entry_id: relay.GlobalID = strawberry.field(description="记录 ID / the entry.")
    visited_on: date = strawberry.field(description="日期 / date.")
    method: VisitMethod = strawberry.field(description="方式 / method.")
    stage: int = strawberry.field(description="四步法阶段 1–4 / four-step stage.")
    participants: list[ParticipantInput] = strawberry.field(description="参加人员 / who took part.")
    outcome: str = strawberry.field(description="结果 / outcome.")
    next_step: str | None = strawberry.field(default=None, description="下一步 / next step.")
    next_on: date | None = strawberry.field(default=None, description="下一步日期 / when.")


@strawberry.type(description="劝返记录结果 / result of recordPersuasionVisit.")
class RecordPersuasionVisitPayload:
    visit: PersuasionVisit | None = strawberry.field(description="记录 / the visit.")
    entry: LedgerEntry | None = strawberry.field(description="台账记录 / the entry.")
    errors: list[LedgerError] = strawberry.field(description="错误 / typed errors.")


async def record_persuasion_visit(info: Info, input: RecordPersuasionVisitInput) -> RecordPersuasionVisitPayload:
    people = [persuasion.Participant(name=p.name, department=p.department, line=p.line) for p in input.participants]
    visit, errors = await _run(
        info,
        lambda: persuasion.record_visit(
            info.context,
            entry_id=_entry_id(input.entry_id),
            visited_on=input.visited_on,
            method=input.method,
            stage=input.stage,
            participants=people,
            outcome=input.outcome,
            next_step=input.next_step,
            next_on=input.next_on,
        ),
    )
    entry = await _entry_of(info, visit)
    return RecordPersuasionVisitPayload(
        visit=PersuasionVisit.from_row(visit) if visit else None,
        entry=entry,
        errors=errors,
    )


@strawberry.input(description="一人一案 / set a child's plan (version 0 or omitted to create).")
class SetCasePlanInput:
    student_id: relay.GlobalID = strawberry.field(description="学生 ID / the child.")
    goal: str = strawberry.field(description="目标 / goal.")
    responsible_edu: str = strawberry.field(description="教育线责任人 / education-line lead.")
    responsible_gov: str = strawberry.field(description="政府线责任人 / government-line lead.")
    steps: list[str] = strawberry.field(description="计划步骤 / planned steps.")
    version: int | None = strawberry.field(default=None, description="读取时的版本 / the version you read.")


@strawberry.type(description="一人一案结果 / result of setCasePlan.")
class SetCasePlanPayload:
    plan: CasePlan | None = strawberry.field(description="方案 / the plan.")
    errors: list[LedgerError] = strawberry.field(description="错误 / typed errors.")


async def set_case_plan(info: Info, input: SetCasePlanInput) -> SetCasePlanPayload:
    plan, errors = await _run(
        info,
        lambda: persuasion.set_plan(
            info.context,
            student_id=node_id_of(input.student_id, "Student"),
            goal=input.goal,
            responsible_edu=input.responsible_edu,
            responsible_gov=input.responsible_gov,
            steps=input.steps,
            version=input.version,
        ),
    )
    return SetCasePlanPayload(plan=CasePlan.from_row(plan) if plan else None, errors=errors)


@strawberry.input(description="申请延缓入学或休学（001 §2.2）/ request deferral or suspension.")
class RequestDeferralInput:
    entry_id: relay.GlobalID = strawberry.field(description="记录 ID / the entry.")
    basis: DeferralBasis = strawberry.field(description="依据 / grounds.")
    grounds: str = strawberry.field(description="理由 / stated grounds.")
    document_ref: str | None = strawberry.field(default=None, description="文书编号 / ruling or assessment ref.")


@strawberry.input(description="审批延缓申请（县级）/ decide a deferral request (county level).")
class DecideDeferralInput:
    deferral_id: relay.GlobalID = strawberry.field(description="申请 ID / the request.")
    approve: bool = strawberry.field(description="批准 / approve (false: reject).")
    note: str | None = strawberry.field(default=None, description="意见（驳回必填）/ note, required to reject.")


@strawberry.type(description="延缓申请结果 / result of requestDeferral or decideDeferral.")
class DeferralPayload:
    deferral: DeferralRequest | None = strawberry.field(description="申请 / the request.")
    entry: LedgerEntry | None = strawberry.field(description="台账记录 / the entry.")
    errors: list[LedgerError] = strawberry.field(description="错误 / typed errors.")


async def _deferral_payload(info: Info, work: Callable[[], Awaitable[DeferralRow]]) -> DeferralPayload:
    row, errors = await _run(info, work)
    entry = await _entry_of(info, row)
    return DeferralPayload(
        deferral=DeferralRequest.from_row(row) if row else None,
        entry=entry,
        errors=errors,
    )


async def request_deferral(info: Info, input: RequestDeferralInput) -> DeferralPayload:
    return await _deferral_payload(
        info,
        lambda: persuasion.request_deferral(
            info.context,
            entry_id=_entry_id(input.entry_id),
            basis=input.basis,
            grounds=input.grounds,
            document_ref=input.document_ref,
        ),
    )


async def decide_deferral(info: Info, input: DecideDeferralInput) -> DeferralPayload:
    return await _deferral_payload(
        info,
        lambda: persuasion.decide_deferral(
            info.context,
            deferral_id=node_id_of(input.deferral_id, "DeferralRequest"),
            approve=input.approve,
            note=input.note,
        ),
    )


# --- migrant handover ----------------------------------------------------------------------------


@strawberry.input(description="书面移交（001 §2.2）/ hand the case to another county or province in writing.")
class HandOverLedgerEntryInput:
    entry_id: relay.GlobalID = strawberry.field(description="记录 ID / the entry.")
    to_region_code: str = strawberry.field(description="接收地区代码（县级及以上）/ the receiving county or above.")
    notice: str = strawberry.field(description="书面通知 / the written notice.")
    version: int = strawberry.field(description="读取时的版本 / the version you read.")


@strawberry.input(description="接收移交 / acknowledge a handover.")
class AcknowledgeHandoverInput:
    handover_id: relay.GlobalID = strawberry.field(description="移交 ID / the handover.")


@strawberry.type(description="移交结果 / result of a handover or its acknowledgement.")
class HandoverPayload:
    handover: Handover | None = strawberry.field(description="移交 / the handover.")
    entry: LedgerEntry | None = strawberry.field(description="台账记录 / the entry.")
    errors: list[LedgerError] = strawberry.field(description="错误 / typed errors.")


async def _handover_payload(info: Info, work: Callable[[], Awaitable[HandoverRow]]) -> HandoverPayload:
    row, errors = await _run(info, work)
    entry = await _entry_of(info, row)
    return HandoverPayload(
        handover=handover_from_row(row) if row else None,
        entry=entry,
        errors=errors,
    )


async def hand_over_ledger_entry(info: Info, input: HandOverLedgerEntryInput) -> HandoverPayload:
    return await _handover_payload(
        info,
        lambda: handover.hand_over(
            info.context,
            entry_id=_entry_id(input.entry_id),
            to_region_code=input.to_region_code,
            notice=input.notice,
            version=input.version,
        ),
    )


async def acknowledge_handover(info: Info, input: AcknowledgeHandoverInput) -> HandoverPayload:
    return await _handover_payload(
        info, lambda: handover.acknowledge(info.context, handover_id=node_id_of(input.handover_id, "Handover"))
    )
