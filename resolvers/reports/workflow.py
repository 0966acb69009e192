"""Submitting, countersigning, re-checking (复核) and returning reports (POLICY 004 §4–§7).

- A unit's own head submits (the principal for a school, the bureau for a county, city or province):
  the version is frozen. After the deadline it is flagged late, or refused where the province forbids
  it. A city or province first assesses every unit directly below it (§6–§7).
- The county government countersigns the county's draft before the county bureau submits it, where
  the province requires it (the re-check is organised with the other departments, 004 §5).
- The level directly above re-checks: a verdict per listed child (required on a school's report, the
  county's child-by-child re-check of §5), findings of children missing, then APPROVE (the report is
  locked) or RETURN with reasons (corrected as a new version). The ministry takes the provinces'. It may also
  return an approved report with a reason, which unlocks it, unless a report above already summed it.
"""

from __future__ import annotations

from dataclasses import dataclass

from authz.catalogue import within
from authz.errors import Forbidden
from models.base import today, utcnow
from models.report import (
    Report,
    ReportFinding,
    ReportRevision,
    ReportStatus,
    ReportVerdict,
    ReviewDecision,
    Verdict,
)
from models.reporting_calendar import (
    CADENCE_OF_LEVEL,
    SOURCE_LEVEL,
    Cadence,
    ReportingRules,
    ReportLevel,
    days_late,
    parse_period,
)
from models.repos import children as child_repo
from models.repos import reports as report_repo
from models.transition import gated_school_year

from ..context import Context
from ..errors import BadInput
from ..paging import parse_id
from ..term_start import report as term_start_report
from ..transitions.lists import unexplained_exam_gaps
from ..versioning import check_version
from .assessing import unassessed
from .common import (
    REPORT,
    clean_text,
    lists_visible_at,
    locked,
    reasons_required,
    report_for_reviewer,
    report_for_unit,
    rules_for,
    save_report,
    visible_report,
)
from .snapshot import latest_approved_below


async def submit_report(ctx: Context, *, report_id: str, version: int) -> Report:
    """Submit the current draft: by the unit itself (REPORT:SUBMIT held there), frozen from now on."""
    report = await report_for_unit(ctx, report_id, "SUBMIT", version=version)
    if report.status is ReportStatus.RETURNED:
        raise BadInput(
            "reportId",
            "NOT_DRAFT",
            "退回的报告须先更正生成新版本再报送",
            "a returned report is corrected as a new version before it is submitted again",
        )
    if report.status is not ReportStatus.DRAFT:
        raise locked(report)
    revision = await report_repo.revision_of(ctx.session, report)
    rules = await rules_for(ctx, report.province_code)
    if report.cadence is Cadence.QUARTER and rules.cosign_required and revision.cosigned_by is None:
        raise BadInput(
            "reportId",
            "COSIGN_REQUIRED",
            "本省要求县级政府会签后方可报送（004 §5）",
            "the province requires the county government's countersignature before submission (POLICY 004 §5)",
        )
    await _check_sources(ctx, report, revision, rules)
    await _check_exam_gaps(ctx, report, rules)
    if report.cadence is Cadence.TERM_START:  # the unreported list (POLICY 002 一(三)): every reason verified
        await term_start_report.check_submission(ctx, report, revision)
    missing = await unassessed(ctx, report, revision)
    if missing:
        names = "、".join(r.name for r in missing)
        raise BadInput(
            "reportId",
            "ASSESSMENTS_MISSING",
            f"报送前须对每个下级单位作出评价（004 §6–§7），尚缺：{names}",
            f"every unit below needs its assessment before submission (POLICY 004 §6–§7); missing: "
            f"{', '.join(r.code for r in missing)}",
        )
    span = parse_period(report.cadence, report.period, rules)
    report.due_on = span.due if span else report.due_on
    late = days_late(report.due_on, today())
    first = report.first_submitted_at is None
    if late and first and not rules.late_submission_allowed:
        raise BadInput(
            "reportId",
            "DEADLINE_PASSED",
            f"已过报送截止日（{report.due_on.isoformat()}），本省不接受逾期报送",
            f"the deadline ({report.due_on.isoformat()}) has passed and the province refuses late submissions",
        )
    now = utcnow()
    revision.status, revision.submitted_by, revision.submitted_at, revision.days_late = (
        ReportStatus.SUBMITTED,
        ctx.actor,
        now,
        late,
    )
    ctx.session.add(revision)
    report.status = ReportStatus.SUBMITTED
    if first:
        report.first_submitted_at, report.days_late = now, late
    return await save_report(ctx, report, "report.submit", days_late=late)


async def _check_exam_gaps(ctx: Context, report: Report, rules: ReportingRules) -> None:
    """The county's report of the graduation term is not submitted while a grade-9 pupil of that school
    year who did not register for 中考 has no explanation (POLICY 003 二(二): 查明原因、做出说明;
    docs/POLICY.md "Key transitions")."""
    span = parse_period(report.cadence, report.period, rules)
    year = gated_school_year(report.level, span) if span is not None else None
    if year is None:
        return
    left = await unexplained_exam_gaps(ctx, report.unit_path, year)
    if left:
        raise BadInput(
            "reportId",
            "EXAM_GAPS_UNEXPLAINED",
            f"本县 {year}–{year + 1} 学年尚有 {left} 名初三学生未报名中考且未说明原因：须查明原因、做出说明后方可报送"
            "（003 二(二)）",
            f"{left} grade-9 pupils of the county's school year {year}–{year + 1} did not register for 中考 and have "
            "no explanation: each needs one before this report is submitted (POLICY 003 二(二))",
        )


async def _check_sources(ctx: Context, report: Report, revision: ReportRevision, rules: ReportingRules) -> None:
    """An aggregate goes up summing exactly the latest approved reports below it: one returned,
    corrected or newly approved since the draft was generated means the draft is generated again
    first. The reports summed stay share-locked until this submission commits, so none is returned
    in between."""
    span = parse_period(report.cadence, report.period, rules)
    if report.level not in SOURCE_LEVEL or span is None or report.cadence is not CADENCE_OF_LEVEL[report.level]:
        return  # a school's month, or Guyuan's term survey, sums no reports
    summed = {s.id for s in (await report_repo.sources_of(ctx.session, [revision.id or 0])).get(revision.id or 0, [])}
    latest = {r.id for r in await latest_approved_below(ctx.session, report.level, report.unit_path, span, lock=True)}
    if summed != latest:
        raise BadInput(
            "reportId",
            "SOURCES_CHANGED",
            "生成草稿后，下级有报告被退回、更正或新通过，请重新生成",
            "since the draft was generated a report below was returned, corrected or newly approved: generate it again",
        )


async def countersign_report(ctx: Context, *, report_id: str, note: str | None, version: int) -> Report:
    """The county government countersigns (会签) its county's quarterly draft (REPORT:COSIGN there)."""
    report = await visible_report(ctx, report_id)
    grant = ctx.access().allows(REPORT, "COSIGN", {"GOV": [report.unit_path]})
    if grant is None:
        raise Forbidden()
    if report.cadence is not Cadence.QUARTER or grant.scope_path != report.unit_path:
        raise BadInput(
            "reportId",
            "NOT_COSIGNER",
            "由本县政府会签本县的季度复核报告",
            "a county government countersigns its own county's quarterly report",
        )
    check_version(report, version)
    if report.status is not ReportStatus.DRAFT:
        raise locked(report)
    revision = await report_repo.revision_of(ctx.session, report)
    if revision.generated_by == ctx.actor:
        raise BadInput("reportId", "OWN_SUBMISSION", "不能会签自己起草的报告", "nobody countersigns their own draft")
    if revision.cosigned_by is not None:
        raise BadInput("reportId", "ALREADY_COSIGNED", "本版本已会签", "this version is already countersigned")
    revision.cosigned_by, revision.cosigned_at = ctx.actor, utcnow()
    revision.cosign_note = clean_text("note", note, 500)
    ctx.session.add(revision)
    return await save_report(ctx, report, "report.cosign", note=revision.cosign_note)


@dataclass(frozen=True)
class VerdictInput:
    student_id: str
    verdict: Verdict
    comment: str | None


@dataclass(frozen=True)
class FindingInput:
    student_id: str
    note: str


async def review_report(
    ctx: Context,
    *,
    report_id: str,
    verdicts: list[VerdictInput],
    findings: list[FindingInput],
    decision: ReviewDecision,
    reasons: str | None,
    version: int,
) -> Report:
    """Re-check (复核) a submitted report: verdicts, findings, then APPROVE (locks it) or RETURN."""
    report, revision = await report_for_reviewer(ctx, report_id, version=version)
    if report.status is not ReportStatus.SUBMITTED:
        raise _not_submitted(report)
    reasons = clean_text("reasons", reasons, 2000)
    if decision is ReviewDecision.RETURN and reasons is None:
        raise reasons_required("reasons")
    if (verdicts or findings) and not lists_visible_at(ctx, report.unit_path):
        raise BadInput(
            "verdicts" if verdicts else "findings",
            "LISTS_NOT_VISIBLE",
            "无本单位台账查看权，不能对学生作结论或记录遗漏",
            "without the ledgers' read right over the unit, a reviewer gives no per-child verdicts or findings",
        )
    listed = {
        r.child_id for r in (await report_repo.children_of(ctx.session, [revision.id or 0])).get(revision.id or 0, [])
    }
    if report.cadence is Cadence.TERM_START:
        listed |= await term_start_report.listed_children(ctx, revision)
    given = _verdict_rows(verdicts, listed, revision.id or 0, ctx.actor, report.province_code)
    found = await _finding_rows(ctx, findings, listed, report, revision.id or 0)
    if decision is ReviewDecision.APPROVE:
        if report.level is ReportLevel.SCHOOL and listed - {v.child_id for v in given}:
            raise BadInput(
                "verdicts",
                "VERDICTS_MISSING",
                "通过前须对名单中每名学生作出复核结论（004 §5）",
                "approval needs a verdict on every listed child (POLICY 004 §5)",
            )
        if found or any(v.verdict is Verdict.DISPUTED for v in given):
            raise BadInput(
                "decision",
                "UNRESOLVED",
                "有存疑学生或遗漏学生的报告应退回更正，不能通过",
                "a report with disputed or missing children is returned for correction, not approved",
            )
    ctx.session.add_all([*given, *found])
    status = ReportStatus.APPROVED if decision is ReviewDecision.APPROVE else ReportStatus.RETURNED
    revision.status, revision.decision, revision.review_reasons = status, decision, reasons
    revision.reviewed_by, revision.reviewed_at = ctx.actor, utcnow()
    ctx.session.add(revision)
    report.status = status
    return await save_report(
        ctx, report, "report.review", decision=decision, verdicts=len(given), findings=len(found), reasons=reasons
    )


async def return_report(ctx: Context, *, report_id: str, reason: str | None, version: int) -> Report:
    """Return a submitted or approved report with a reason: unlocked, corrected as a new version."""
    report, revision = await report_for_reviewer(ctx, report_id, version=version)
    if report.status not in (ReportStatus.SUBMITTED, ReportStatus.APPROVED):
        raise _not_submitted(report)
    text = clean_text("reason", reason, 2000)
    if text is None:
        raise reasons_required("reason")
    above = [
        r
        for r in await report_repo.aggregates_summing(ctx.session, revision.id or 0)
        if r.status is not ReportStatus.DRAFT and r.status is not ReportStatus.RETURNED
    ]
    if above:
        raise BadInput(
            "reportId",
            "LOCKED",
            f"该报告已汇总进 {above[0].unit_name} {above[0].period} 报告（已报送），须先退回该报告",
            f"the report is summed in {above[0].unit_code}'s {above[0].period} report, already submitted: "
            "return that one first",
        )
    revision.status, revision.returned_by, revision.returned_at = ReportStatus.RETURNED, ctx.actor, utcnow()
    revision.return_reason = text
    ctx.session.add(revision)
    report.status = ReportStatus.RETURNED
    return await save_report(ctx, report, "report.return", reason=text)


def _not_submitted(report: Report) -> BadInput:
    if report.status is ReportStatus.APPROVED:
        return locked(report)
    return BadInput("reportId", "NOT_SUBMITTED", "报告尚未报送", "the report has not been submitted")


def _verdict_rows(
    verdicts: list[VerdictInput], listed: set[int], revision_id: int, actor: str, province: str
) -> list[ReportVerdict]:
    rows: list[ReportVerdict] = []
    for n, v in enumerate(verdicts):
        child_id = parse_id(v.student_id)
        field = f"verdicts.{n}.studentId"
        if child_id is None or child_id not in listed:
            raise BadInput(field, "NOT_LISTED", "该学生不在本报告名单中", "the student is not listed in the report")
        if any(r.child_id == child_id for r in rows):
            raise BadInput(field, "DUPLICATE_STUDENT", "同一学生只能有一条结论", "one verdict per student")
        comment = clean_text(f"verdicts.{n}.comment", v.comment, 500)
        if v.verdict is Verdict.DISPUTED and comment is None:
            raise BadInput(
                f"verdicts.{n}.comment", "COMMENT_REQUIRED", "存疑须写明理由", "a disputed child needs a comment"
            )
        rows.append(
            ReportVerdict(
                revision_id=revision_id,
                child_id=child_id,
                verdict=v.verdict,
                comment=comment,
                given_by=actor,
                province_code=province,
            )
        )
    return rows


async def _finding_rows(
    ctx: Context, findings: list[FindingInput], listed: set[int], report: Report, revision_id: int
) -> list[ReportFinding]:
    """Children the reviewer found missing: each one of the reporting unit (at its school, or living or
    registered in its region), on the ledgers the reviewer may read, and not listed."""
    access = ctx.access()
    ids = [parse_id(f.student_id) for f in findings]
    kids = await child_repo.get_children(ctx.session, [i for i in ids if i is not None])
    rows: list[ReportFinding] = []
    for n, (finding, child_id) in enumerate(zip(findings, ids, strict=True)):
        kid = kids.get(child_id or -1)
        field = f"findings.{n}.studentId"
        paths = child_repo.scope_paths(kid) if kid is not None else {}
        if kid is None or access.allows("LEDGER", "READ", paths) is None:
            raise BadInput(field, "NOT_FOUND", "没有这个学生", "no such student")
        if not any(p is not None and within(p, report.unit_path) for line in paths.values() for p in line):
            raise BadInput(field, "NOT_IN_UNIT", "该学生不属于本报告单位", "the student is not the reporting unit's")
        if kid.id in listed:
            raise BadInput(field, "ALREADY_LISTED", "该学生已在名单中：请作出结论", "already listed: give a verdict")
        if any(r.child_id == kid.id for r in rows):
            raise BadInput(field, "DUPLICATE_STUDENT", "同一学生只能记一次", "one finding per student")
        note = clean_text(f"findings.{n}.note", finding.note, 500)
        if note is None:
            raise BadInput(f"findings.{n}.note", "REQUIRED", "须说明发现的情况", "say what was found")
        rows.append(
            ReportFinding(
                revision_id=revision_id,
                child_id=kid.id or 0,
                note=note,
                found_by=ctx.actor,
                province_code=report.province_code,
            )
        )
    return rows
