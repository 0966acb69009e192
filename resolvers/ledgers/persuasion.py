"""Getting children back: persuasion visits (POLICY 004 §9) and the one plan per child (一人一案, POLICY 001 §2.2).

Deferral and suspension, which only the county approves, are in `deferral.py`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from models.base import today
from models.child import home_path
from models.ledger import EntryStatus, LedgerEntry
from models.persuasion import (
    MIN_STAGE_OF_METHOD,
    CasePlan,
    LiabilityOutcome,
    Line,
    PersuasionVisit,
    VisitMethod,
)
from models.repos import children as child_repo
from models.repos import ledger as ledger_repo

from ..audit import record_change
from ..context import Context
from ..errors import BadInput
from ..versioning import check_version
from .common import entry_for, require_not_closed, save_entry
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
    correct_by: date | None = None,
    liability_outcome: LiabilityOutcome | None = None,
) -> PersuasionVisit:
    """Record one persuasion attempt, also on a deferred case (seed 001 二2: 并继续做好劝返复学工作).
    The four steps (POLICY 000 §2) are taken in order, none skipped; step 2 is the township's or the county
    bureau's with its time limit, step 3 waits for it to pass (`_check_overdue`), step 4 records its outcome."""
    entry = await entry_for(ctx, entry_id, "WRITE", obj="VISIT")
    require_not_closed(entry)
    if not entry.opened_on <= visited_on <= today():
        raise BadInput(
            "visitedOn", "OUT_OF_RANGE", "劝返日期须在建档日与今天之间", "the visit lies between opening and today"
        )
    if not 1 <= stage <= 4:
        raise BadInput(
            "stage", "OUT_OF_RANGE", "四步法阶段为 1–4（000 §2）", "the four-step stage is 1–4 (POLICY 000 §2)"
        )
    if stage < MIN_STAGE_OF_METHOD.get(method, 1):
        raise BadInput(
            "stage",
            "METHOD_NEEDS_STAGE",
            f"该方式属于四步法第 {MIN_STAGE_OF_METHOD[method]} 步（000 §2）",
            f"this method belongs to step {MIN_STAGE_OF_METHOD[method]} of the four steps (POLICY 000 §2)",
        )
    earlier = await ledger_repo.visits_of_child(ctx.session, entry.child_id)
    reached = max((v.stage for v in earlier if v.visited_on <= visited_on), default=0)  # reached by that day
    if stage > reached + 1:
        raise BadInput(
            "stage",
            "STAGE_SKIPPED",
            f"四步法须依次进行：尚未进行第 {reached + 1} 步（000 §2）",
            f"the four steps go in order: step {reached + 1} has not been taken (POLICY 000 §2)",
        )
    _check_method_fields(method, visited_on, correct_by, liability_outcome)
    if method is VisitMethod.ORDER_TO_CORRECT and not ctx.access().allows(
        "VISIT", "ORDER", ledger_repo.entry_work_paths(entry)
    ):
        raise BadInput(
            "method",
            "NOT_ISSUER",
            "责令限期改正由乡镇人民政府或县级教育行政部门作出（000 一2）",
            "only the township government or the county education bureau orders correction (POLICY 000 §2)",
        )
    if method is VisitMethod.JUDICIAL_DOCUMENT or (stage >= 3 and reached < 3):
        _check_overdue(entry, earlier, visited_on)
    if not participants:
        raise BadInput("participants", "REQUIRED", "须填写参加人员", "name who took part")
    if method is VisitMethod.JOINT_VISIT and len({p.department.strip() for p in participants} - {""}) < 2:
        raise BadInput(
            "participants",
            "JOINT_NEEDS_DEPARTMENTS",
            "联合劝返须有两个以上部门参加（001 §2.2）",
            "a joint visit needs people from two or more departments (POLICY 001 §2.2)",
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
        correct_by=correct_by,
        liability_outcome=liability_outcome,
        recorded_by=ctx.actor,
        province_code=entry.province_code,
    )
    ctx.session.add(visit)
    if entry.last_visit_on is None or visited_on > entry.last_visit_on:
        entry.last_visit_on = visited_on
    await save_entry(ctx, entry, "ledger.record_visit", method=method, stage=stage, visited_on=visited_on)
    return visit


def _check_method_fields(
    method: VisitMethod, visited_on: date, correct_by: date | None, outcome: LiabilityOutcome | None
) -> None:
    """Step 2 carries its time limit (责令限期改正) and step 4 its outcome (依法追究法律责任), each only there."""
    if method is VisitMethod.ORDER_TO_CORRECT:
        if correct_by is None:
            raise BadInput(
                "correctBy", "REQUIRED", "责令限期改正须写明期限（000 一2）", "an order to correct names its time limit"
            )
        if correct_by <= visited_on:
            raise BadInput(
                "correctBy", "OUT_OF_RANGE", "改正期限须晚于责令之日", "the time limit falls after the order's day"
            )
    elif correct_by is not None:
        raise BadInput(
            "correctBy", "NOT_APPLICABLE", "改正期限仅用于责令限期改正", "a time limit belongs to ORDER_TO_CORRECT"
        )
    if method is VisitMethod.LEGAL_LIABILITY and outcome is None:
        raise BadInput(
            "liabilityOutcome",
            "REQUIRED",
            "追究法律责任须记录结果（000 一2）",
            "pursuing legal liability records its outcome (POLICY 000 §2)",
        )
    if method is not VisitMethod.LEGAL_LIABILITY and outcome is not None:
        raise BadInput(
            "liabilityOutcome",
            "NOT_APPLICABLE",
            "结果仅用于追究法律责任",
            "an outcome belongs to LEGAL_LIABILITY",
        )


def _check_overdue(entry: LedgerEntry, earlier: list[PersuasionVisit], visited_on: date) -> None:
    """Step 3 comes only once step 2's time limit has passed without return (逾期不改, 000 一2): an order to
    correct whose limit lies before this day, and the child not back at school."""
    passed = [
        v for v in earlier if v.method is VisitMethod.ORDER_TO_CORRECT and v.correct_by and v.correct_by < visited_on
    ]
    if not passed or entry.status is EntryStatus.RETURNED:
        raise BadInput(
            "method",
            "NOT_OVERDUE",
            "司法文书须在责令限期改正逾期不改后发放（000 一2）",
            "judicial documents come only after the order's time limit passed without return (POLICY 000 §2)",
        )


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
    """One plan per child (一人一案, POLICY 001 §2.2): created once, then updated with its version."""
    child = await child_for_ledger(ctx, student_id, "WRITE")
    for name, value in (("goal", goal), ("responsibleEdu", responsible_edu), ("responsibleGov", responsible_gov)):
        if not value.strip():
            raise BadInput(
                name, "REQUIRED", "一人一案须写明目标和两线责任人", "a plan names its goal and both lines' leads"
            )
    # The child first, then its plan (ARCHITECTURE §12): of two first plans at once, one creates it
    # and the other, waiting here, finds it and is refused below.
    await child_repo.lock_children(ctx.session, [child.id or 0])
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
    elif version is None:
        raise BadInput(
            "version",
            "CONFLICT",
            f"该学生已有方案（版本 {plan.version}），修改须带版本号",
            f"the student already has a plan (version {plan.version}): pass its version to change it",
        )
    else:
        check_version(plan, version)
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
        scope_path=home_path(child),
        summary={"version": plan.version},
    )
    return plan
