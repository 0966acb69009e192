"""Mutations of the ledgers' entries: opening, category, visits, plans, deferral, return, placement,
close-out and handover. Each takes one input and answers a payload with typed, bilingual errors."""

from __future__ import annotations

from datetime import date
from typing import TypeVar

import strawberry
from strawberry import relay

from models.ledger import CloseReason, DropoutCategory, EntrySource, Ledger, Placement
from models.ledger import Handover as HandoverRow
from models.ledger import LedgerEntry as EntryRow
from models.persuasion import CasePlan as CasePlanRow
from models.persuasion import DeferralBasis, LiabilityOutcome, Line, VisitMethod
from models.persuasion import DeferralRequest as DeferralRow
from models.persuasion import PersuasionVisit as VisitRow
from resolvers.ledgers import deferral, entries, handover, persuasion

from ..context import Info
from ..errors import LedgerError
from ..inputs import stored_in, text
from ..mutations import run_mutation
from ..nodes import node_id_of
from .entries import LedgerEntry
from .persuasion import CasePlan, DeferralRequest, Handover, PersuasionVisit, handover_from_row

T = TypeVar("T")


def _entry_id(gid: relay.GlobalID) -> str:
    return node_id_of(gid, "LedgerEntry")


@strawberry.type(description="台账记录操作结果 / result of a change to a ledger entry.")
class LedgerEntryPayload:
    entry: LedgerEntry | None = strawberry.field(default=None, description="改后的记录 / the entry after the change.")
    errors: list[LedgerError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


def _entry_payload(row: EntryRow) -> LedgerEntryPayload:
    return LedgerEntryPayload(entry=LedgerEntry.from_row(row))


async def _entry_of(info: Info, row: VisitRow | DeferralRow | HandoverRow | None) -> LedgerEntry | None:
    """The entry a visit, request or handover belongs to, as the caller now sees it (None if hidden)."""
    if row is None:
        return None
    found = (await entries.get_entries(info.context, [str(row.entry_id)])).get(str(row.entry_id))
    return LedgerEntry.from_row(found) if found else None


# --- entries -----------------------------------------------------------------------------------


@strawberry.input(description="纳入台账 / put a child found by comparison, door-to-door search or a list on a ledger.")
class OpenLedgerEntryInput:
    student_id: relay.GlobalID = strawberry.field(description="学生 ID / the child.")
    ledger: Ledger = strawberry.field(description="台账 / which ledger.")
    source: EntrySource = strawberry.field(description="发现途径 / how the child was found.")
    opened_on: date = strawberry.field(description="发现日期 / found on.")
    category: DropoutCategory | None = strawberry.field(default=None, description="辍学类别 / category, if known.")
    note: str | None = strawberry.field(metadata=stored_in(EntryRow, "note"), default=None, description="说明 / note.")


async def open_ledger_entry(info: Info, input: OpenLedgerEntryInput) -> LedgerEntryPayload:
    return await run_mutation(
        info,
        LedgerEntryPayload,
        lambda: entries.open_entry(
            info.context,
            student_id=node_id_of(input.student_id, "Student"),
            ledger=input.ledger,
            source=input.source,
            opened_on=input.opened_on,
            category=input.category,
            note=input.note,
        ),
        _entry_payload,
    )


@strawberry.input(description="确定辍学类别 / set the dropout category.")
class SetLedgerCategoryInput:
    entry_id: relay.GlobalID = strawberry.field(description="记录 ID / the entry.")
    category: DropoutCategory = strawberry.field(description="类别 A–T / category.")
    version: int = strawberry.field(description="读取时的版本 / the version you read.")


async def set_ledger_category(info: Info, input: SetLedgerCategoryInput) -> LedgerEntryPayload:
    return await run_mutation(
        info,
        LedgerEntryPayload,
        lambda: entries.set_category(
            info.context, entry_id=_entry_id(input.entry_id), category=input.category, version=input.version
        ),
        _entry_payload,
    )


@strawberry.input(description="标记返校 / the child is back at school.")
class MarkReturnedInput:
    entry_id: relay.GlobalID = strawberry.field(description="记录 ID / the entry.")
    returned_on: date = strawberry.field(description="返校日期 / back on.")
    version: int = strawberry.field(description="读取时的版本 / the version you read.")


async def mark_returned(info: Info, input: MarkReturnedInput) -> LedgerEntryPayload:
    return await run_mutation(
        info,
        LedgerEntryPayload,
        lambda: entries.mark_returned(
            info.context, entry_id=_entry_id(input.entry_id), returned_on=input.returned_on, version=input.version
        ),
        _entry_payload,
    )


@strawberry.input(description="分类安置 / place a returned child.")
class RecordPlacementInput:
    entry_id: relay.GlobalID = strawberry.field(description="记录 ID / the entry.")
    placement: Placement = strawberry.field(description="安置方式 / placement.")
    placed_on: date = strawberry.field(description="安置日期 / date.")
    school_code: str | None = strawberry.field(default=None, description="安置学校 / school.")
    note: str | None = strawberry.field(
        metadata=stored_in(EntryRow, "placement_note"), default=None, description="说明 / note."
    )
    version: int = strawberry.field(description="读取时的版本 / the version you read.")


async def record_placement(info: Info, input: RecordPlacementInput) -> LedgerEntryPayload:
    return await run_mutation(
        info,
        LedgerEntryPayload,
        lambda: entries.record_placement(
            info.context,
            entry_id=_entry_id(input.entry_id),
            placement=input.placement,
            school_code=input.school_code,
            placed_on=input.placed_on,
            note=input.note,
            version=input.version,
        ),
        _entry_payload,
    )


@strawberry.input(description="销号 / close an entry out, with the reason.")
class CloseOutLedgerEntryInput:
    entry_id: relay.GlobalID = strawberry.field(description="记录 ID / the entry.")
    reason: CloseReason = strawberry.field(description="原因 / reason.")
    note: str | None = strawberry.field(
        metadata=stored_in(EntryRow, "close_note"),
        default=None,
        description="说明（OTHER 必填）/ note, required for OTHER.",
    )
    version: int = strawberry.field(description="读取时的版本 / the version you read.")


async def close_out_ledger_entry(info: Info, input: CloseOutLedgerEntryInput) -> LedgerEntryPayload:
    return await run_mutation(
        info,
        LedgerEntryPayload,
        lambda: entries.close_out(
            info.context,
            entry_id=_entry_id(input.entry_id),
            reason=input.reason,
            note=input.note,
            version=input.version,
        ),
        _entry_payload,
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
    outcome: str = strawberry.field(metadata=stored_in(VisitRow, "outcome"), description="结果 / outcome.")
    next_step: str | None = strawberry.field(
        metadata=stored_in(VisitRow, "next_step"), default=None, description="下一步 / next step."
    )
    next_on: date | None = strawberry.field(default=None, description="下一步日期 / when.")
    correct_by: date | None = strawberry.field(
        default=None,
        description="改正期限（ORDER_TO_CORRECT 必填）/ the time limit to correct by (required on ORDER_TO_CORRECT).",
    )
    liability_outcome: LiabilityOutcome | None = strawberry.field(
        default=None,
        description="追究法律责任的结果（LEGAL_LIABILITY 必填）/ the outcome (required on LEGAL_LIABILITY).",
    )


@strawberry.type(description="劝返记录结果 / result of recordPersuasionVisit.")
class RecordPersuasionVisitPayload:
    visit: PersuasionVisit | None = strawberry.field(default=None, description="记录 / the visit.")
    entry: LedgerEntry | None = strawberry.field(default=None, description="台账记录 / the entry.")
    errors: list[LedgerError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


async def record_persuasion_visit(info: Info, input: RecordPersuasionVisitInput) -> RecordPersuasionVisitPayload:
    people = [persuasion.Participant(name=p.name, department=p.department, line=p.line) for p in input.participants]
    return await run_mutation(
        info,
        RecordPersuasionVisitPayload,
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
            correct_by=input.correct_by,
            liability_outcome=input.liability_outcome,
        ),
        lambda visit: _visit_payload(info, visit),
    )


async def _visit_payload(info: Info, visit: VisitRow) -> RecordPersuasionVisitPayload:
    return RecordPersuasionVisitPayload(visit=PersuasionVisit.from_row(visit), entry=await _entry_of(info, visit))


@strawberry.input(description="一人一案 / set a child's plan (version 0 or omitted to create).")
class SetCasePlanInput:
    student_id: relay.GlobalID = strawberry.field(description="学生 ID / the child.")
    goal: str = strawberry.field(metadata=stored_in(CasePlanRow, "goal"), description="目标 / goal.")
    responsible_edu: str = strawberry.field(
        metadata=stored_in(CasePlanRow, "responsible_edu"), description="教育线责任人 / education-line lead."
    )
    responsible_gov: str = strawberry.field(
        metadata=stored_in(CasePlanRow, "responsible_gov"), description="政府线责任人 / government-line lead."
    )
    steps: list[str] = strawberry.field(metadata=text(500), description="计划步骤 / planned steps.")
    version: int | None = strawberry.field(default=None, description="读取时的版本 / the version you read.")


@strawberry.type(description="一人一案结果 / result of setCasePlan.")
class SetCasePlanPayload:
    plan: CasePlan | None = strawberry.field(default=None, description="方案 / the plan.")
    errors: list[LedgerError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


async def set_case_plan(info: Info, input: SetCasePlanInput) -> SetCasePlanPayload:
    return await run_mutation(
        info,
        SetCasePlanPayload,
        lambda: persuasion.set_plan(
            info.context,
            student_id=node_id_of(input.student_id, "Student"),
            goal=input.goal,
            responsible_edu=input.responsible_edu,
            responsible_gov=input.responsible_gov,
            steps=input.steps,
            version=input.version,
        ),
        lambda plan: SetCasePlanPayload(plan=CasePlan.from_row(plan)),
    )


@strawberry.input(description="申请延缓入学或休学（001 §2.2）/ request deferral or suspension.")
class RequestDeferralInput:
    entry_id: relay.GlobalID = strawberry.field(description="记录 ID / the entry.")
    basis: DeferralBasis = strawberry.field(description="依据 / grounds.")
    grounds: str = strawberry.field(metadata=stored_in(DeferralRow, "grounds"), description="理由 / stated grounds.")
    document_ref: str | None = strawberry.field(
        metadata=stored_in(DeferralRow, "document_ref"),
        default=None,
        description="文书编号 / ruling or assessment ref.",
    )
    guardian_statement: str | None = strawberry.field(
        metadata=stored_in(DeferralRow, "guardian_statement"),
        default=None,
        description="监护人已履行法定义务、学生本人拒不返校的情况（JOINT_VISITS、JUDICIAL_RULING 必填）/ the guardian "
        "has met their legal duty but the child refuses (required on JOINT_VISITS and JUDICIAL_RULING).",
    )
    statement_visit_id: relay.GlobalID | None = strawberry.field(
        default=None,
        description="记录该情况的劝返（JOINT_VISITS 必填）/ the visit it was recorded on (required on JOINT_VISITS).",
    )


@strawberry.input(description="审批延缓申请（县领导小组：县政府）/ decide a deferral request (the county government).")
class DecideDeferralInput:
    deferral_id: relay.GlobalID = strawberry.field(description="申请 ID / the request.")
    approve: bool = strawberry.field(description="批准 / approve (false: reject).")
    note: str | None = strawberry.field(
        metadata=stored_in(DeferralRow, "decision_note"),
        default=None,
        description="意见（驳回必填）/ note, required to reject.",
    )


@strawberry.type(description="延缓申请结果 / result of requestDeferral or decideDeferral.")
class DeferralPayload:
    deferral: DeferralRequest | None = strawberry.field(default=None, description="申请 / the request.")
    entry: LedgerEntry | None = strawberry.field(default=None, description="台账记录 / the entry.")
    errors: list[LedgerError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


async def _deferral_payload(info: Info, row: DeferralRow) -> DeferralPayload:
    return DeferralPayload(deferral=DeferralRequest.from_row(row), entry=await _entry_of(info, row))


async def request_deferral(info: Info, input: RequestDeferralInput) -> DeferralPayload:
    return await run_mutation(
        info,
        DeferralPayload,
        lambda: deferral.request_deferral(
            info.context,
            entry_id=_entry_id(input.entry_id),
            basis=input.basis,
            grounds=input.grounds,
            document_ref=input.document_ref,
            guardian_statement=input.guardian_statement,
            statement_visit_id=node_id_of(input.statement_visit_id, "PersuasionVisit")
            if input.statement_visit_id is not None
            else None,
        ),
        lambda row: _deferral_payload(info, row),
    )


async def decide_deferral(info: Info, input: DecideDeferralInput) -> DeferralPayload:
    return await run_mutation(
        info,
        DeferralPayload,
        lambda: deferral.decide_deferral(
            info.context,
            deferral_id=node_id_of(input.deferral_id, "DeferralRequest"),
            approve=input.approve,
            note=input.note,
        ),
        lambda row: _deferral_payload(info, row),
    )


# --- migrant handover ----------------------------------------------------------------------------


@strawberry.input(description="书面移交（001 §2.2）/ hand the case to another county or province in writing.")
class HandOverLedgerEntryInput:
    entry_id: relay.GlobalID = strawberry.field(description="记录 ID / the entry.")
    to_region_code: str = strawberry.field(description="接收地区代码（县级及以上）/ the receiving county or above.")
    notice: str = strawberry.field(
        metadata=stored_in(HandoverRow, "notice"), description="书面通知 / the written notice."
    )
    version: int = strawberry.field(description="读取时的版本 / the version you read.")


@strawberry.input(description="接收移交 / acknowledge a handover.")
class AcknowledgeHandoverInput:
    handover_id: relay.GlobalID = strawberry.field(description="移交 ID / the handover.")


@strawberry.type(description="移交结果 / result of a handover or its acknowledgement.")
class HandoverPayload:
    handover: Handover | None = strawberry.field(default=None, description="移交 / the handover.")
    entry: LedgerEntry | None = strawberry.field(default=None, description="台账记录 / the entry.")
    errors: list[LedgerError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


async def _handover_payload(info: Info, row: HandoverRow) -> HandoverPayload:
    return HandoverPayload(handover=handover_from_row(row), entry=await _entry_of(info, row))


async def hand_over_ledger_entry(info: Info, input: HandOverLedgerEntryInput) -> HandoverPayload:
    return await run_mutation(
        info,
        HandoverPayload,
        lambda: handover.hand_over(
            info.context,
            entry_id=_entry_id(input.entry_id),
            to_region_code=input.to_region_code,
            notice=input.notice,
            version=input.version,
        ),
        lambda row: _handover_payload(info, row),
    )


async def acknowledge_handover(info: Info, input: AcknowledgeHandoverInput) -> HandoverPayload:
    return await run_mutation(
        info,
        HandoverPayload,
        lambda: handover.acknowledge(info.context, handover_id=node_id_of(input.handover_id, "Handover")),
        lambda row: _handover_payload(info, row),
    )
