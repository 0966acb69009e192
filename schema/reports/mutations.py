"""Mutations of the reporting chain: draft, annotate, countersign, submit, re-check, return. Each takes
one input and answers a payload with typed, bilingual errors (nothing is written when there are errors)."""

from __future__ import annotations

import strawberry
from strawberry import relay

from models.report import (
    AssessmentGrade,
    ReportAssessment,
    ReportChild,
    ReportFinding,
    ReportRevision,
    ReportVerdict,
    ReviewDecision,
    Verdict,
)
from models.report import Report as ReportRow
from models.reporting_calendar import ReportLevel
from resolvers.reports import assessing, drafting, workflow

from ..context import Info
from ..errors import ReportError
from ..inputs import stored_in
from ..mutations import run_mutation
from ..nodes import node_id_of
from .types import Report


@strawberry.type(description="报告操作结果 / result of a change to a report.")
class ReportPayload:
    report: Report | None = strawberry.field(default=None, description="改后的报告 / the report after the change.")
    errors: list[ReportError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


def _payload(row: ReportRow) -> ReportPayload:
    return ReportPayload(report=Report.from_row(row))


def _report_id(gid: relay.GlobalID) -> str:
    return node_id_of(gid, "Report")


@strawberry.input(description="生成学校月报 / generate a school's monthly report (again, while a draft).")
class DraftSchoolReportInput:
    school_code: str = strawberry.field(description="学校代码 / school code.")
    period: str = strawberry.field(description="月份 YYYY-MM / the month.")
    version: int | None = strawberry.field(default=None, description="已有报告的版本 / version of the existing report.")


async def draft_school_report(info: Info, input: DraftSchoolReportInput) -> ReportPayload:
    return await run_mutation(
        info,
        ReportPayload,
        lambda: drafting.draft_school_report(
            info.context, school_code=input.school_code, period=input.period, version=input.version
        ),
        _payload,
    )


@strawberry.input(description="生成县季度复核报告 / generate a county's quarterly report (again, while a draft).")
class DraftCountyReportInput:
    region_code: str = strawberry.field(description="县级区划代码 / county code.")
    period: str = strawberry.field(description="季度 YYYY-Qn / the quarter.")
    version: int | None = strawberry.field(default=None, description="已有报告的版本 / version of the existing report.")


async def draft_county_report(info: Info, input: DraftCountyReportInput) -> ReportPayload:
    return await _draft_region(info, ReportLevel.COUNTY, input)


@strawberry.input(
    description="生成地市学期调研报告 / generate a city's semester research report (again, while a draft)."
)
class DraftCityReportInput:
    region_code: str = strawberry.field(description="地市区划代码 / city code.")
    period: str = strawberry.field(description="学期 YYYY-SPRING | YYYY-AUTUMN / the semester (half-year).")
    version: int | None = strawberry.field(default=None, description="已有报告的版本 / version of the existing report.")


async def draft_city_report(info: Info, input: DraftCityReportInput) -> ReportPayload:
    return await _draft_region(info, ReportLevel.CITY, input)


@strawberry.input(
    description="生成省级学年评估报告 / generate a province's school-year assessment (again, while a draft)."
)
class DraftProvinceReportInput:
    region_code: str = strawberry.field(description="省级区划代码 / province code.")
    period: str = strawberry.field(description="学年 YYYY-YYYY，如 2025-2026 / the school year.")
    version: int | None = strawberry.field(default=None, description="已有报告的版本 / version of the existing report.")


async def draft_province_report(info: Info, input: DraftProvinceReportInput) -> ReportPayload:
    return await _draft_region(info, ReportLevel.PROVINCE, input)


async def _draft_region(
    info: Info, level: ReportLevel, input: DraftCountyReportInput | DraftCityReportInput | DraftProvinceReportInput
) -> ReportPayload:
    return await run_mutation(
        info,
        ReportPayload,
        lambda: drafting.draft_region_report(
            info.context, level, region_code=input.region_code, period=input.period, version=input.version
        ),
        _payload,
    )


@strawberry.input(
    description="生成省级双月报 / generate a province's bimonthly report to the ministry (again, while a draft)."
)
class DraftBimonthlyReportInput:
    region_code: str = strawberry.field(description="省级区划代码 / province code.")
    period: str = strawberry.field(description="双月 YYYY-Bn（B1 = 1–2 月 … B6 = 11–12 月）/ the two months.")
    version: int | None = strawberry.field(default=None, description="已有报告的版本 / version of the existing report.")


async def draft_bimonthly_report(info: Info, input: DraftBimonthlyReportInput) -> ReportPayload:
    return await run_mutation(
        info,
        ReportPayload,
        lambda: drafting.draft_bimonthly_report(
            info.context, region_code=input.region_code, period=input.period, version=input.version
        ),
        _payload,
    )


@strawberry.input(description="生成固原学期摸排报表 / generate a county's term survey (Guyuan's calendar, POLICY 003).")
class DraftTermSurveyInput:
    region_code: str = strawberry.field(description="县级区划代码 / county code.")
    period: str = strawberry.field(
        description="摸排时点 YYYY-SPRING|AUTUMN-OPENING|MIDTERM|CLOSING / the survey point."
    )
    version: int | None = strawberry.field(default=None, description="已有报告的版本 / version of the existing report.")


async def draft_term_survey(info: Info, input: DraftTermSurveyInput) -> ReportPayload:
    return await run_mutation(
        info,
        ReportPayload,
        lambda: drafting.draft_term_survey(
            info.context, region_code=input.region_code, period=input.period, version=input.version
        ),
        _payload,
    )


@strawberry.input(description="对一个下级单位的评价 / the assessment of one unit directly below.")
class UnitAssessmentInput:
    subject_code: str = strawberry.field(description="下级区划代码（市：县；省：市）/ the county or city assessed.")
    grade: AssessmentGrade | None = strawberry.field(default=None, description="等次（省级评估必填）/ grade.")
    findings: str = strawberry.field(
        metadata=stored_in(ReportAssessment, "findings"), description="调研或评估发现 / findings."
    )
    guidance: str | None = strawberry.field(
        metadata=stored_in(ReportAssessment, "guidance"),
        default=None,
        description="指导意见（地市调研必填）/ guidance.",
    )


@strawberry.input(description="调研、评估下级单位 / assess units directly below, on the draft.")
class AssessReportUnitsInput:
    report_id: relay.GlobalID = strawberry.field(description="报告 ID（地市或省级）/ the city's or province's report.")
    assessments: list[UnitAssessmentInput] = strawberry.field(description="评价（已有则改写）/ assessments.")
    version: int = strawberry.field(description="报告版本 / the report's version.")


async def assess_report_units(info: Info, input: AssessReportUnitsInput) -> ReportPayload:
    given = [assessing.AssessmentInput(a.subject_code, a.grade, a.findings, a.guidance) for a in input.assessments]
    return await run_mutation(
        info,
        ReportPayload,
        lambda: assessing.assess_units(
            info.context, report_id=_report_id(input.report_id), assessments=given, version=input.version
        ),
        _payload,
    )


@strawberry.input(description="名单备注 / the reporting unit's note on a listed child (drafts only).")
class SetReportNoteInput:
    report_id: relay.GlobalID = strawberry.field(description="报告 ID / the report.")
    student_id: relay.GlobalID = strawberry.field(description="学生 ID / the listed student.")
    note: str | None = strawberry.field(
        metadata=stored_in(ReportChild, "note"), default=None, description="备注，空则清除 / the note; empty clears it."
    )
    version: int = strawberry.field(description="报告版本 / the report's version.")


async def set_report_note(info: Info, input: SetReportNoteInput) -> ReportPayload:
    return await run_mutation(
        info,
        ReportPayload,
        lambda: drafting.set_row_note(
            info.context,
            report_id=_report_id(input.report_id),
            student_id=node_id_of(input.student_id, "Student"),
            note=input.note,
            version=input.version,
        ),
        _payload,
    )


@strawberry.input(description="报送 / submit the current draft (frozen from then on).")
class SubmitReportInput:
    report_id: relay.GlobalID = strawberry.field(description="报告 ID / the report.")
    version: int = strawberry.field(description="报告版本 / the report's version.")


async def submit_report(info: Info, input: SubmitReportInput) -> ReportPayload:
    return await run_mutation(
        info,
        ReportPayload,
        lambda: workflow.submit_report(info.context, report_id=_report_id(input.report_id), version=input.version),
        _payload,
    )


@strawberry.input(description="会签 / the county government countersigns its county's quarterly draft.")
class CountersignReportInput:
    report_id: relay.GlobalID = strawberry.field(description="报告 ID / the report.")
    note: str | None = strawberry.field(
        metadata=stored_in(ReportRevision, "cosign_note"), default=None, description="会签意见 / note."
    )
    version: int = strawberry.field(description="报告版本 / the report's version.")


async def countersign_report(info: Info, input: CountersignReportInput) -> ReportPayload:
    return await run_mutation(
        info,
        ReportPayload,
        lambda: workflow.countersign_report(
            info.context, report_id=_report_id(input.report_id), note=input.note, version=input.version
        ),
        _payload,
    )


@strawberry.input(description="对名单中一名学生的复核结论 / a verdict on one listed child.")
class ReviewVerdictInput:
    student_id: relay.GlobalID = strawberry.field(description="学生 ID / the listed student.")
    verdict: Verdict = strawberry.field(description="结论 / verdict.")
    comment: str | None = strawberry.field(
        metadata=stored_in(ReportVerdict, "comment"),
        default=None,
        description="说明（存疑必填）/ comment, required if disputed.",
    )


@strawberry.input(description="复核发现的遗漏学生 / a child missing from the report.")
class ReviewFindingInput:
    student_id: relay.GlobalID = strawberry.field(description="学生 ID / the student.")
    note: str = strawberry.field(metadata=stored_in(ReportFinding, "note"), description="发现情况 / what was found.")


@strawberry.input(description="复核 / re-check a submitted report one level down (004 §5).")
class ReviewReportInput:
    report_id: relay.GlobalID = strawberry.field(description="报告 ID / the report.")
    verdicts: list[ReviewVerdictInput] = strawberry.field(
        default_factory=list, description="名单中每名学生的结论（通过时须全部属实）/ a verdict per listed child."
    )
    findings: list[ReviewFindingInput] = strawberry.field(
        default_factory=list, description="遗漏的学生 / children found missing from the report."
    )
    decision: ReviewDecision = strawberry.field(description="通过或退回 / approve or return.")
    reasons: str | None = strawberry.field(
        metadata=stored_in(ReportRevision, "review_reasons"),
        default=None,
        description="退回理由（退回必填）/ reasons, for a return.",
    )
    version: int = strawberry.field(description="报告版本 / the report's version.")


async def review_report(info: Info, input: ReviewReportInput) -> ReportPayload:
    verdicts = [
        workflow.VerdictInput(node_id_of(v.student_id, "Student"), v.verdict, v.comment) for v in input.verdicts
    ]
    findings = [workflow.FindingInput(node_id_of(f.student_id, "Student"), f.note) for f in input.findings]
    return await run_mutation(
        info,
        ReportPayload,
        lambda: workflow.review_report(
            info.context,
            report_id=_report_id(input.report_id),
            verdicts=verdicts,
            findings=findings,
            decision=input.decision,
            reasons=input.reasons,
            version=input.version,
        ),
        _payload,
    )


@strawberry.input(description="退回（含已通过的报告，解除锁定）/ return a submitted or approved report: unlocks it.")
class ReturnReportInput:
    report_id: relay.GlobalID = strawberry.field(description="报告 ID / the report.")
    reason: str = strawberry.field(metadata=stored_in(ReportRevision, "return_reason"), description="理由 / reason.")
    version: int = strawberry.field(description="报告版本 / the report's version.")


async def return_report(info: Info, input: ReturnReportInput) -> ReportPayload:
    return await run_mutation(
        info,
        ReportPayload,
        lambda: workflow.return_report(
            info.context, report_id=_report_id(input.report_id), reason=input.reason, version=input.version
        ),
        _payload,
    )
