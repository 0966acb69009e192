"""The city's findings and guidance on each county (调研, POLICY 004 §6) and the province's grade and
findings on each city (评估, §7): written by the reporting bureau on its draft, frozen at submission."""

from __future__ import annotations

from dataclasses import dataclass

from models.region import Region
from models.report import AssessmentGrade, Report, ReportAssessment, ReportRevision, ReportStatus
from models.reporting_calendar import CADENCE_OF_LEVEL, ReportLevel
from models.repos import reports as report_repo

from ..context import Context
from ..errors import BadInput
from .common import clean_text, locked, report_for_unit, save_report

ASSESSED_LEVELS = (ReportLevel.CITY, ReportLevel.PROVINCE)


@dataclass(frozen=True)
class AssessmentInput:
    subject_code: str
    grade: AssessmentGrade | None
    findings: str
    guidance: str | None


async def assess_units(ctx: Context, *, report_id: str, assessments: list[AssessmentInput], version: int) -> Report:
    """Write (or rewrite) the assessment of some of the units below, on the current draft."""
    report = await report_for_unit(ctx, report_id, "DRAFT", "SUBMIT", version=version)
    if not assessed(report):
        raise BadInput(
            "reportId",
            "NOT_ASSESSED",
            "只有地市调研、省级评估报告对下级逐一评价",
            "only a city's research and a province's assessment assess the units below",
        )
    if report.status is not ReportStatus.DRAFT:
        raise locked(report)
    revision = await report_repo.revision_of(ctx.session, report)
    subjects = {r.code: r for r in await report_repo.sub_regions(ctx.session, report.unit_code)}
    existing = {a.subject_code: a for a in await _assessments(ctx, revision)}
    seen: set[str] = set()
    for n, given in enumerate(assessments):
        row = _checked(report, subjects, seen, n, given)
        old = existing.get(row.subject_code)
        if old is not None:
            old.grade, old.findings, old.guidance, old.given_by = row.grade, row.findings, row.guidance, ctx.actor
            row = old
        else:
            row.revision_id, row.given_by, row.province_code = revision.id or 0, ctx.actor, report.province_code
        ctx.session.add(row)
    return await save_report(ctx, report, "report.assess", units=",".join(sorted(seen)))


def _checked(
    report: Report, subjects: dict[str, Region], seen: set[str], n: int, given: AssessmentInput
) -> ReportAssessment:
    field = f"assessments.{n}"
    subject = subjects.get(given.subject_code)
    if subject is None:
        raise BadInput(
            f"{field}.subjectCode",
            "NOT_A_SUBJECT",
            f"{given.subject_code} 不是 {report.unit_name} 的直属下级",
            f"{given.subject_code} is not directly below {report.unit_code}",
        )
    if subject.code in seen:
        raise BadInput(f"{field}.subjectCode", "DUPLICATE_UNIT", "同一单位只能评价一次", "one assessment per unit")
    seen.add(subject.code)
    findings = clean_text(f"{field}.findings", given.findings, 2000)
    guidance = clean_text(f"{field}.guidance", given.guidance, 2000)
    if findings is None:
        raise BadInput(f"{field}.findings", "REQUIRED", "须写明调研或评估发现", "the findings are required")
    if report.level is ReportLevel.CITY and guidance is None:
        raise BadInput(
            f"{field}.guidance",
            "REQUIRED",
            "地市调研须对各县提出指导意见（004 §6）",
            "a city's research gives each county its guidance (POLICY 004 §6)",
        )
    if report.level is ReportLevel.PROVINCE and given.grade is None:
        raise BadInput(
            f"{field}.grade",
            "REQUIRED",
            "省级评估须对各地市评定等次（004 §7）",
            "a province's assessment grades each city (POLICY 004 §7)",
        )
    return ReportAssessment(
        revision_id=0,
        subject_code=subject.code,
        subject_name=subject.name,
        grade=given.grade,
        findings=findings,
        guidance=guidance,
        given_by="",
        province_code=report.province_code,
    )


def assessed(report: Report) -> bool:
    """Does the report assess the units below: a city's semester research, a province's school year (not the
    province's bimonthly report to the ministry, which carries figures only)?"""
    return report.level in ASSESSED_LEVELS and report.cadence is CADENCE_OF_LEVEL[report.level]


async def unassessed(ctx: Context, report: Report, revision: ReportRevision) -> list[Region]:
    """The units below a city or province that its current version has not assessed yet."""
    if not assessed(report):
        return []
    done = {a.subject_code for a in await _assessments(ctx, revision)}
    return [r for r in await report_repo.sub_regions(ctx.session, report.unit_code) if r.code not in done]


async def carry_forward(ctx: Context, report: Report, revision: ReportRevision) -> None:
    """A corrected version starts from the returned version's assessments."""
    if not assessed(report) or revision.number == 1 or await _assessments(ctx, revision):
        return
    returned = await report_repo.previous_revision(ctx.session, revision)
    for old in await _assessments(ctx, returned) if returned else []:
        values = old.model_dump(exclude={"id", "revision_id", "given_at"})
        ctx.session.add(ReportAssessment(**values, revision_id=revision.id or 0))


async def _assessments(ctx: Context, revision: ReportRevision) -> list[ReportAssessment]:
    return (await report_repo.assessments_of(ctx.session, [revision.id or 0])).get(revision.id or 0, [])
