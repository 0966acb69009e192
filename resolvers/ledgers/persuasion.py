"""Getting children back: persuasion visits (seed 004 §9), the one plan per child, deferral (seed 001 §2.2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from models.base import today, utcnow
from models.child import SpecialGroup
from models.ledger import DropoutCategory, EntryStatus, LedgerEntry
from models.persuasion import (
    JOINT_VISITS_FOR_DEFERRAL,
    MIN_STAGE_OF_METHOD,
    CasePlan,
    DeferralBasis,
    DeferralRequest,
    DeferralStatus,
    Line,
    PersuasionVisit,
    VisitMethod,
)
from models.repos import children as child_repo
from models.repos import ledger as ledger_repo

from ..audit import record_change
from ..context import Context
from ..errors import BadInput
from ..paging import parse_id
from ..versioning import check_version
from .common import audit_entry, entry_for, require_not_closed, save_entry
from .entries import child_for_ledger


@dataclass(frozen=True)
class Participant:
    name: str
    department: str
    line: Line


async def record_visit(
    ctx: Context,
    *,
    entry_id: str,
    visited_on: date,
    method: VisitMethod,
    stage: int,
    participants: list[Participant],
    outcome: str,
    next_step: str | None,
    next_on: date | None,
) -> PersuasionVisit:
    """Record one persuasion attempt. The four steps (seed 000 §2) are taken in order, none skipped."""
    entry = await entry_for(ctx, entry_id, "WRITE", obj="VISIT")
    require_not_closed(entry)
    if not entry.opened_on <= visited_on <= today():
        raise BadInput(
            "visitedOn", "OUT_OF_RANGE", "劝返日期须在建档日与今天之间", "the visit lies between opening and today"
        )
    if not 1 <= stage <= 4:
        raise BadInput(
            "stage", "OUT_OF_RANGE", "四步法阶段为 1–4（000 §2）", "the four-step stage is 1–4 (seed 000 §2)"
        )
    if stage < MIN_STAGE_OF_METHOD.get(method, 1):
        raise BadInput(
            "stage",
            "METHOD_NEEDS_STAGE",
            f"该方式属于四步法第 {MIN_STAGE_OF_METHOD[method]} 步（000 §2）",
            f"this method belongs to step {MIN_STAGE_OF_METHOD[method]} of the four steps (seed 000 §2)",
        )
    earlier = await ledger_repo.visits_of_child(ctx.session, entry.child_id)
    reached = max((v.stage for v in earlier if v.visited_on <= visited_on), default=0)  # reached by that day
    if stage > reached + 1:
        raise BadInput(
            "stage",
            "STAGE_SKIPPED",
            f"四步法须依次进行：尚未进行第 {reached + 1} 步（000 §2）",
            f"the four steps go in order: step {reached + 1} has not been taken (seed 000 §2)",
        )
    if not participants:
        raise BadInput("participants", "REQUIRED", "须填写参加人员", "name who took part")
    if method is VisitMethod.JOINT_VISIT and len({p.department.strip() for p in participants} - {""}) < 2:
        raise BadInput(
            "participants",
            "JOINT_NEEDS_DEPARTMENTS",
            "联合劝返须有两个以上部门参加（001 §2.2）",
            "a joint visit needs people from two or more departments (seed 001 §2.2)",
        )
    if not outcome.strip():
        raise BadInput("outcome", "REQUIRED", "须填写劝返结果", "record the outcome")
    if next_on is not None and next_on < visited_on:
        raise BadInput(
            "nextOn", "OUT_OF_RANGE", "下一步日期不能早于本次", "the next step cannot come before this visit"
        )
    visit = PersuasionVisit(
        entry_id=entry.id or 0,
        child_id=entry.child_id,
        visited_on=visited_on,
        method=method,
        stage=stage,
        participants=[{"name": p.name, "department": p.department, "line": p.line.value} for p in participants],
        outcome=outcome.strip(),
        next_step=next_step,
        next_on=next_on,
        recorded_by=ctx.actor,
        province_code=entry.province_code,
    )
    ctx.session.add(visit)
    if entry.last_visit_on is None or visited_on > entry.last_visit_on:
        entry.last_visit_on = visited_on
    await save_entry(ctx, entry, "ledger.record_visit", method=method, stage=stage, visited_on=visited_on)
    return visit


async def set_plan(
    ctx: Context,
    *,
    student_id: str,
    goal: str,
    responsible_edu: str,
    responsible_gov: str,
    steps: list[str],
    version: int | None,
) -> CasePlan:
    """One plan per child (一人一案, seed 004 §9): created once, then updated with its version."""
    child = await child_for_ledger(ctx, student_id, "WRITE")
    for name, value in (("goal", goal), ("responsibleEdu", responsible_edu), ("responsibleGov", responsible_gov)):
        if not value.strip():
            raise BadInput(
                name, "REQUIRED", "一人一案须写明目标和两线责任人", "a plan names its goal and both lines' leads"
            )
    plan = await ledger_repo.lock_plan(ctx.session, child.id or 0)
    if plan is None:
        if version not in (None, 0):
            raise BadInput("version", "CONFLICT", "该学生还没有方案", "the student has no plan yet")
        plan = CasePlan(
            child_id=child.id or 0,
            province_code=child.province_code,
            updated_by=ctx.actor,
            goal="",
            responsible_edu="",
            responsible_gov="",
            version=0,
        )
    else:
        check_version(plan, version if version is not None else -1)
    plan.goal, plan.responsible_edu, plan.responsible_gov = (
        goal.strip(),
        responsible_edu.strip(),
        responsible_gov.strip(),
    )
    plan.steps = [s.strip() for s in steps if s.strip()]
    plan.updated_by = ctx.actor
    plan.version += 1
    ctx.session.add(plan)
    await ctx.session.flush()
    await record_change(
        ctx,
        action="ledger.set_plan",
        target_type="Student",
        target_id=str(child.id),
        scope_path=child.household_path,
        summary={"version": plan.version},
    )
    return plan


async def request_deferral(
    ctx: Context, *, entry_id: str, basis: DeferralBasis, grounds: str, document_ref: str | None
) -> DeferralRequest:
    """Ask for deferral or suspension (seed 001 §2.2): only on one of its three grounds."""
    entry = await entry_for(ctx, entry_id, "WRITE")
    require_not_closed(entry)
    if entry.status is not EntryStatus.OPEN:
        raise BadInput(
            "entryId", "BAD_STATUS", "只有在册（OPEN）的记录可申请延缓", "only an OPEN entry can be deferred"
        )
    if not grounds.strip():
        raise BadInput("grounds", "REQUIRED", "须写明申请理由", "state the grounds")
    pending = (await ledger_repo.deferrals_of(ctx.session, [entry.id or 0])).get(entry.id or 0, [])
    if any(d.status is DeferralStatus.PENDING for d in pending):
        raise BadInput("entryId", "ALREADY_REQUESTED", "已有待审批的申请", "a request is already awaiting approval")
    await _check_basis(ctx, entry, basis, document_ref)
    request = DeferralRequest(
        entry_id=entry.id or 0,
        child_id=entry.child_id,
        basis=basis,
        grounds=grounds.strip(),
        document_ref=(document_ref or "").strip() or None,
        requested_by=ctx.actor,
        province_code=entry.province_code,
    )
    ctx.session.add(request)
    await ctx.session.flush()
    await audit_entry(ctx, entry, "ledger.request_deferral", basis=basis, request=request.id)
    return request


async def _check_basis(ctx: Context, entry: LedgerEntry, basis: DeferralBasis, document_ref: str | None) -> None:
    if basis is DeferralBasis.JOINT_VISITS:
        visits = await ledger_repo.visits_of_child(ctx.session, entry.child_id)
        joint = sum(v.method is VisitMethod.JOINT_VISIT for v in visits)
        if joint < JOINT_VISITS_FOR_DEFERRAL:
            raise BadInput(
                "basis",
                "TOO_FEW_JOINT_VISITS",
                f"须经多部门联合劝返三次以上（现有 {joint} 次，001 §2.2）",
                f"needs three or more joint persuasion visits (has {joint}; seed 001 §2.2)",
            )
        return
    if not (document_ref or "").strip():
        raise BadInput(
            "documentRef",
            "DOCUMENT_REQUIRED",
            "须附司法裁判或专家委员会评估文书编号（001 §2.2）",
            "attach the ruling or the expert-committee assessment (seed 001 §2.2)",
        )
    if basis is DeferralBasis.EXPERT_ASSESSMENT:
        child = (await child_repo.get_children(ctx.session, [entry.child_id]))[entry.child_id]
        if SpecialGroup.DISABLED.value not in child.special_groups:
            raise BadInput(
                "basis",
                "NOT_DISABLED",
                "专家委员会评估仅适用于残疾儿童（001 §2.2）",
                "an expert-committee assessment applies to disabled children only (seed 001 §2.2)",
            )


async def decide_deferral(ctx: Context, *, deferral_id: str, approve: bool, note: str | None) -> DeferralRequest:
    """A county-level role approves or rejects; an approved deferral keeps the case open under category P."""
    number = parse_id(deferral_id)
    request = await ledger_repo.lock_deferral(ctx.session, number) if number is not None else None
    if request is None:
        raise BadInput("deferralId", "NOT_FOUND", "没有这个申请", "no such request")
    entry = await entry_for(ctx, str(request.entry_id), "APPROVE_DEFERRAL")
    if request.status is not DeferralStatus.PENDING:
        raise BadInput("deferralId", "ALREADY_DECIDED", "该申请已审批", "the request has been decided")
    if request.requested_by == ctx.actor:
        raise BadInput("deferralId", "OWN_REQUEST", "不能审批自己提交的申请", "nobody approves their own request")
    if not approve and not (note or "").strip():
        raise BadInput("note", "REQUIRED", "驳回须说明理由", "a rejection needs a reason")
    if approve and entry.status is not EntryStatus.OPEN:
        raise BadInput(
            "deferralId",
            "BAD_STATUS",
            f"记录当前状态（{entry.status}）不能批准延缓",
            f"a {entry.status} entry cannot be deferred",
        )
    request.status = DeferralStatus.APPROVED if approve else DeferralStatus.REJECTED
    request.decided_by, request.decided_at, request.decision_note = ctx.actor, utcnow(), note
    ctx.session.add(request)
    if approve:
        entry.status, entry.category = EntryStatus.DEFERRED, DropoutCategory.P
    await save_entry(ctx, entry, "ledger.decide_deferral", request=request.id, approved=approve)
    return request
