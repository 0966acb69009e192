"""Mutations of the reporting chain: draft, annotate, countersign, submit, re-check, return. Each takes
one input and answers a payload with typed, bilingual errors (nothing is written when there are errors)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Enum

import strawberry
from strawberry import relay

from models.report import AssessmentGrade, ReviewDecision, Verdict
from models.report import Report as ReportRow
from models.reporting_calendar import ReportLevel
from resolvers.reports import assessing, drafting, workflow

from .context import Info
from .mutations import run_mutation
from .nodes import node_id_of
from .reports import Report


def _code(name: str, zh: str, en: str) -> object:
    return strawberry.enum_value(name, description=f"{zh} / {en}")


@strawberry.enum(description="报告操作的错误代码 / error codes of report mutations")
class ReportErrorCode(Enum):
    REQUIRED = _code("REQUIRED", "必填", "a required value is missing")
    NOT_FOUND = _code("NOT_FOUND", "不存在或不在辖区内", "missing or outside your view")
    CONFLICT = _code("CONFLICT", "报告已被他人修改", "the report changed since you read it")
    BAD_PERIOD = _code("BAD_PERIOD", "报告期格式不对", "not a period of this cadence")
    PERIOD_NOT_OVER = _code("PERIOD_NOT_OVER", "报告期尚未结束", "the period is not over yet")
    NOT_A_COUNTY = _code("NOT_A_COUNTY", "须为县级区划", "a county's code is needed")
    NOT_A_CITY = _code("NOT_A_CITY", "须为地市级区划", "a city's code is needed")
    NOT_A_PROVINCE = _code("NOT_A_PROVINCE", "须为省级区划", "a province's code is needed")
    TERM_SURVEY_OFF = _code("TERM_SURVEY_OFF", "本省未启用学期摸排", "the province keeps no term survey")
    NOT_ASSESSED = _code("NOT_ASSESSED", "该报告不评价下级", "this report does not assess units below")
    NOT_A_SUBJECT = _code("NOT_A_SUBJECT", "不是直属下级单位", "not a unit directly below")
    DUPLICATE_UNIT = _code("DUPLICATE_UNIT", "同一单位重复", "the same unit twice")
    TOO_LONG = _code("TOO_LONG", "文字过长", "the text is too long")
    LISTS_NOT_VISIBLE = _code("LISTS_NOT_VISIBLE", "无台账查看权，不能逐人复核", "no per-child review, no ledgers")
    NOT_IN_UNIT = _code("NOT_IN_UNIT", "该学生不属于本报告单位", "the student is not the reporting unit's")
    ASSESSMENTS_MISSING = _code("ASSESSMENTS_MISSING", "有下级单位未评价", "a unit below is not assessed yet")
    LOCKED = _code("LOCKED", "已报送或已通过，不能修改", "submitted or approved: it cannot change")
    NOT_DRAFT = _code("NOT_DRAFT", "退回的报告须先生成新版本", "a returned report needs a new version first")
    NOT_SUBMITTED = _code("NOT_SUBMITTED", "尚未报送", "not submitted")
    NOT_REVIEWER = _code("NOT_REVIEWER", "只能由上一级复核", "only the level directly above re-checks it")
    OWN_SUBMISSION = _code("OWN_SUBMISSION", "不能复核或会签自己的报告", "not one's own submission")
    REASONS_REQUIRED = _code("REASONS_REQUIRED", "退回须写明理由", "a return needs its reasons")
    COMMENT_REQUIRED = _code("COMMENT_REQUIRED", "存疑须说明", "a disputed child needs a comment")
    NOT_LISTED = _code("NOT_LISTED", "不在名单中", "the student is not listed")
    ALREADY_LISTED = _code("ALREADY_LISTED", "已在名单中", "the student is already listed")
    DUPLICATE_STUDENT = _code("DUPLICATE_STUDENT", "同一学生重复", "the same student twice")
    VERDICTS_MISSING = _code("VERDICTS_MISSING", "名单中有学生未作结论", "a listed child has no verdict")
    UNRESOLVED = _code("UNRESOLVED", "有存疑或遗漏，应退回", "disputes or findings: return it")
    COSIGN_REQUIRED = _code("COSIGN_REQUIRED", "须县级政府会签", "the county government must countersign")
    ALREADY_COSIGNED = _code("ALREADY_COSIGNED", "已会签", "already countersigned")
    NOT_COSIGNER = _code("NOT_COSIGNER", "由本县政府会签本县报告", "the county's own government countersigns")
    DEADLINE_PASSED = _code("DEADLINE_PASSED", "已过截止日，本省不接受逾期", "late, and the province refuses it")
    SOURCES_CHANGED = _code(
        "SOURCES_CHANGED", "汇总来源已变更，须重新生成", "what it summed changed: generate it again"
    )


@strawberry.type(description="用户错误 / a typed, bilingual error naming the input field and the rule.")
class ReportError:
    field: str = strawberry.field(description="出错的输入字段 / the input field.")
    code: ReportErrorCode = strawberry.field(description="错误代码 / the rule broken.")
    message: str = strawberry.field(description="中英文说明，引用政策条款 / message citing the rule.")


@strawberry.type(description="报告操作结果 / result of a change to a report.")
class ReportPayload:
    report: Report | None = strawberry.field(description="改后的报告 / the report after the change.")
    errors: list[ReportError] = strawberry.field(description="错误 / typed errors.")


async def _payload(info: Info, work: Callable[[], Awaitable[ReportRow]]) -> ReportPayload:
    row, errors = await run_mutation(info, work, ReportError, ReportErrorCode)
    return ReportPayload(report=Report.from_row(row) if row else None, errors=errors)


def _report_id(gid: relay.GlobalID) -> str:
    return node_id_of(gid, "Report")


@strawberry.input(description="生成学校月报 / generate a school's monthly report (again, while a draft).")
class DraftSchoolReportInput:
    school_code: str = strawberry.field(description="学校代码 / school code.")
    period: str = strawberry.field(description="月份 YYYY-MM / the month.")
    version: int | None = strawberry.field(default=None, description="已有报告的版本 / version of the existing report.")


async def draft_school_report(info: Info, input: DraftSchoolReportInput) -> ReportPayload:
    return await _payload(
        info,
        lambda: drafting.draft_school_report(
            info.context, school_code=input.school_code, period=input.period, version=input.version
        ),
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
    return await _payload(
        info,
        lambda: drafting.draft_region_report(
            info.context, level, region_code=input.region_code, period=input.period, version=input.version
        ),
    )


@strawberry.input(description="生成固原学期摸排报表 / generate a county's term survey (Guyuan's calendar, seed 003).")
class DraftTermSurveyInput:
    region_code: str = strawberry.field(description="县级区划代码 / county code.")
    period: str = strawberry.field(
        description="摸排时点 YYYY-SPRING|AUTUMN-OPENING|MIDTERM|CLOSING / the survey point."
    )
    version: int | None = strawberry.field(default=None, description="已有报告的版本 / version of the existing report.")


async def draft_term_survey(info: Info, input: DraftTermSurveyInput) -> ReportPayload:
    return await _payload(
        info,
        lambda: drafting.draft_term_survey(
            info.context, region_code=input.region_code, period=input.period, version=input.version
        ),
    )


@strawberry.input(description="对一个下级单位的评价 / the assessment of one unit directly below.")
class UnitAssessmentInput:
    subject_code: str = strawberry.field(description="下级区划代码（市：县；省：市）/ the county or city assessed.")
    grade: AssessmentGrade | None = strawberry.field(default=None, description="等次（省级评估必填）/ grade.")
    findings: str = strawberry.field(description="调研或评估发现 / findings.")
    guidance: str | None = strawberry.field(default=None, description="指导意见（地市调研必填）/ guidance.")


@strawberry.input(description="调研、评估下级单位 / assess units directly below, on the draft.")
class AssessReportUnitsInput:
    report_id: relay.GlobalID = strawberry.field(description="报告 ID（地市或省级）/ the city's or province's report.")
    assessments: list[UnitAssessmentInput] = strawberry.field(description="评价（已有则改写）/ assessments.")
    version: int = strawberry.field(description="报告版本 / the report's version.")


async def assess_report_units(info: Info, input: AssessReportUnitsInput) -> ReportPayload:
    given = [assessing.AssessmentInput(a.subject_code, a.grade, a.findings, a.guidance) for a in input.assessments]
    return await _payload(
        info,
        lambda: assessing.assess_units(
            info.context, report_id=_report_id(input.report_id), assessments=given, version=input.version
        ),
    )


@strawberry.input(description="名单备注 / the reporting unit's note on a listed child (drafts only).")
class SetReportNoteInput:
    report_id: relay.GlobalID = strawberry.field(description="报告 ID / the report.")
    student_id: relay.GlobalID = strawberry.field(description="学生 ID / the listed student.")
    note: str | None = strawberry.field(default=None, description="备注，空则清除 / the note; empty clears it.")
    version: int = strawberry.field(description="报告版本 / the report's version.")


async def set_report_note(info: Info, input: SetReportNoteInput) -> ReportPayload:
    return await _payload(
        info,
        lambda: drafting.set_row_note(
            info.context,
            report_id=_report_id(input.report_id),
            student_id=node_id_of(input.student_id, "Student"),
            note=input.note,
            version=input.version,
        ),
    )


@strawberry.input(description="报送 / submit the current draft (frozen from then on).")
class SubmitReportInput:
    report_id: relay.GlobalID = strawberry.field(description="报告 ID / the report.")
    version: int = strawberry.field(description="报告版本 / the report's version.")


async def submit_report(info: Info, input: SubmitReportInput) -> ReportPayload:
    return await _payload(
        info, lambda: workflow.submit_report(info.context, report_id=_report_id(input.report_id), version=input.version)
    )


@strawberry.input(description="会签 / the county government countersigns its county's quarterly draft.")
class CountersignReportInput:
    report_id: relay.GlobalID = strawberry.field(description="报告 ID / the report.")
    note: str | None = strawberry.field(default=None, description="会签意见 / note.")
    version: int = strawberry.field(description="报告版本 / the report's version.")


async def countersign_report(info: Info, input: CountersignReportInput) -> ReportPayload:
    return await _payload(
        info,
        lambda: workflow.countersign_report(
            info.context, report_id=_report_id(input.report_id), note=input.note, version=input.version
        ),
    )


@strawberry.input(description="对名单中一名学生的复核结论 / a verdict on one listed child.")
class ReviewVerdictInput:
    student_id: relay.GlobalID = strawberry.field(description="学生 ID / the listed student.")
    verdict: Verdict = strawberry.field(description="结论 / verdict.")
    comment: str | None = strawberry.field(default=None, description="说明（存疑必填）/ comment, required if disputed.")


@strawberry.input(description="复核发现的遗漏学生 / a child missing from the report.")
class ReviewFindingInput:
    student_id: relay.GlobalID = strawberry.field(description="学生 ID / the student.")
    note: str = strawberry.field(description="发现情况 / what was found.")


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
    reasons: str | None = strawberry.field(default=None, description="退回理由（退回必填）/ reasons, for a return.")
    version: int = strawberry.field(description="报告版本 / the report's version.")


async def review_report(info: Info, input: ReviewReportInput) -> ReportPayload:
    verdicts = [
        workflow.VerdictInput(node_id_of(v.student_id, "Student"), v.verdict, v.comment) for v in input.verdicts
    ]
    findings = [workflow.FindingInput(node_id_of(f.student_id, "Student"), f.note) for f in input.findings]
    return await _payload(
        info,
        lambda: workflow.review_report(
            info.context,
            report_id=_report_id(input.report_id),
            verdicts=verdicts,
            findings=findings,
            decision=input.decision,
            reasons=input.reasons,
            version=input.version,
        ),
    )


@strawberry.input(description="退回（含已通过的报告，解除锁定）/ return a submitted or approved report: unlocks it.")
class ReturnReportInput:
    report_id: relay.GlobalID = strawberry.field(description="报告 ID / the report.")
    reason: str = strawberry.field(description="理由 / reason.")
    version: int = strawberry.field(description="报告版本 / the report's version.")


async def return_report(info: Info, input: ReturnReportInput) -> ReportPayload:
    return await _payload(
        info,
        lambda: workflow.return_report(
            info.context, report_id=_report_id(input.report_id), reason=input.reason, version=input.version
        ),
    )
