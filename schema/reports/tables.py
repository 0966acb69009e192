"""Guyuan's tables as GraphQL types (POLICY 003 annexes 1–2), and the reporting chain's enums.

Listed children's national ID and registry number are always masked here; the full ID is read,
audited, on `Student`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

import strawberry
from strawberry import relay

from models.child import Gender, Stage, mask_national_id
from models.ledger import DropoutCategory, Ledger
from models.report import (
    ASSESSMENT_GRADE_LABELS,
    AssessmentGrade,
    ReportAssessment,
    ReportChild,
    ReportFinding,
    ReportStatus,
    ReportVerdict,
    ReviewDecision,
    Verdict,
)
from models.report_tables import Figures
from models.reporting_calendar import Cadence, ReportLevel
from resolvers.reports import reading

from ..context import Info
from ..enums import described

described(
    ReportLevel,
    {
        ReportLevel.SCHOOL: "学校（一月一报告）/ school: monthly report",
        ReportLevel.COUNTY: "县区（一季度一复核）/ county: quarterly re-check",
        ReportLevel.CITY: "地市（一学期一调研）/ city: semester research",
        ReportLevel.PROVINCE: "省级（一学年一评估）/ province: school-year assessment",
    },
    "报告层级（004 §4–§7）/ reporting level (POLICY 004 §4–§7)",
)
strawberry.enum(Cadence, name="ReportCadence", description="报告周期 / reporting cadence")
for _value, _label in zip(
    Cadence.__strawberry_definition__.values,  # type: ignore[attr-defined]
    (
        "月 YYYY-MM / month",
        "季度 YYYY-Qn / quarter",
        "学期（半年）YYYY-SPRING|AUTUMN / semester: half-year to 30 June or 31 December",
        "学年 YYYY-YYYY（9月1日–8月31日，7月31日前报教育部）/ school year, due to the ministry by 31 July",
        "固原摸底排查：开学第一周周五、学期中、学期末（003 §2）/ Guyuan survey: term start, mid-term, term end",
        "双月报 YYYY-Bn（B1 = 1–2 月 … B6 = 11–12 月），省报教育部（004 §9）/ bimonthly, province to ministry",
        "开学报到 YYYY-SPRING|AUTUMN：开学后15天内未报到名单（002 一(三)）/ term start: a school's unreported list",
    ),
    strict=True,
):
    _value.description = _label
described(
    ReportStatus,
    {
        ReportStatus.DRAFT: "草稿，可重新生成 / draft: may be generated again",
        ReportStatus.SUBMITTED: "已报送，待上级复核（已冻结）/ submitted: frozen, awaiting re-check",
        ReportStatus.RETURNED: "已退回，更正后生成新版本 / returned: corrected as a new version",
        ReportStatus.APPROVED: "复核通过（已锁定）/ approved: locked",
    },
    "报告状态 / report status",
)
described(
    ReviewDecision,
    {ReviewDecision.APPROVE: "通过 / approve", ReviewDecision.RETURN: "退回 / return"},
    "复核决定 / review decision",
)
described(
    AssessmentGrade,
    ASSESSMENT_GRADE_LABELS,
    "评估等次（省对市，004 §7）/ the province's grade of a city's work",
)
strawberry.enum(Verdict, name="ReviewVerdict", description="复核结论 / verdict on a listed child")
for _value, _label in zip(
    Verdict.__strawberry_definition__.values,  # type: ignore[attr-defined]
    ("属实 / confirmed", "存疑（须说明）/ disputed, with a comment"),
    strict=True,
):
    _value.description = _label


@strawberry.enum(description="表1 学段行 / Table 1 row")
class Table1Stage(enum.Enum):
    PRIMARY = strawberry.enum_value("PRIMARY", description="小学 / primary")
    JUNIOR = strawberry.enum_value("JUNIOR", description="初中 / junior secondary")
    TOTAL = strawberry.enum_value("TOTAL", description="合计 / total")


@strawberry.type(description="某类辍学人数 / dropouts of one category.")
class CategoryCount:
    category: DropoutCategory = strawberry.field(description="类别 A–T / category.")
    count: int = strawberry.field(description="人数 / dropouts.")


@strawberry.type(description="表1 摸底排查统计（固原 003 附件1）一行 / one row of Guyuan Table 1 (POLICY 003 annex 1).")
class Table1Row:
    stage: Table1Stage = strawberry.field(description="学段 / stage (or total).")
    should_attend: int = strawberry.field(description="应到校人数 / should attend.")
    on_leave: int = strawberry.field(description="请假未到校人数 / on leave, not at school.")
    suspected: int = strawberry.field(description="疑似辍学人数 / suspected dropouts.")
    dropouts: int = strawberry.field(description="辍学人数 / dropouts.")
    by_category: list[CategoryCount] = strawberry.field(description="其中：辍学分类 A–T / dropouts by category.")


def table1_row(stage: Table1Stage, f: Figures) -> Table1Row:
    return Table1Row(
        stage=stage,
        should_attend=f.should_attend,
        on_leave=f.on_leave,
        suspected=f.suspected,
        dropouts=f.dropouts,
        by_category=[CategoryCount(category=c, count=f.category(c)) for c in DropoutCategory],
    )


@strawberry.type(
    description="名单一行：表2 辍学学生信息（003 附件2）或疑似辍学名单 / a listed child: Table 2 "
    "(POLICY 003 annex 2) or the suspected list, as it stood when the version was generated."
)
class ReportChildRow:
    seq: int = strawberry.field(description="序号 / number within its list.")
    ledger: Ledger = strawberry.field(description="名单 / DROPOUT: Table 2; SUSPECTED: the suspected list.")
    student_id: relay.GlobalID = strawberry.field(description="学生 ID / the student's global ID.")
    name: str = strawberry.field(description="姓名 / name.")
    gender: Gender = strawberry.field(description="性别 / gender.")
    national_id: str | None = strawberry.field(description="身份证号（遮蔽）/ national ID, always masked here.")
    registry_number: str | None = strawberry.field(description="学籍号（遮蔽）/ registry number, masked.")
    home_address: str = strawberry.field(description="家庭住址（居住地）/ home address: the residence region.")
    poverty_registered: bool = strawberry.field(description="是否建档立卡 / poverty-registered household.")
    reason: DropoutCategory | None = strawberry.field(description="辍学原因 A–T / dropout category.")
    school_after_return: str | None = strawberry.field(description="劝返后就读学校 / school after return.")
    closed_out: bool = strawberry.field(description="是否销账（截至报告期末）/ closed out by the period end.")
    remarks: str | None = strawberry.field(description="备注（系统生成）/ remarks: what happened by the period end.")
    note: str | None = strawberry.field(description="填报单位备注 / the reporting unit's own note.")
    stage: Stage = strawberry.field(description="学段 / stage.")
    grade: int | None = strawberry.field(description="年级 / grade when flagged.")
    school_code: str | None = strawberry.field(description="学校代码 / school.")
    opened_on: date = strawberry.field(description="纳入台账日期 / on the ledger since.")


def child_row(r: ReportChild) -> ReportChildRow:
    return ReportChildRow(
        seq=r.seq,
        ledger=r.ledger,
        student_id=relay.GlobalID("Student", str(r.child_id)),
        name=r.name,
        gender=r.gender,
        national_id=mask_national_id(r.national_id),
        registry_number=mask_national_id(r.registry_number),
        home_address=r.home_address,
        poverty_registered=r.poverty_registered,
        reason=r.category,
        school_after_return=r.school_after_return,
        closed_out=r.closed_out,
        remarks=r.remarks,
        note=r.note,
        stage=r.stage,
        grade=r.grade,
        school_code=r.school_code,
        opened_on=r.opened_on,
    )


async def report_parts(
    info: Info, model: type[Any], node_ids: Iterable[str], build: Callable[[Any, Any], Any], *, names_children: bool
) -> list[Any]:
    """`resolve_nodes` of a report's parts: each scoped like its report (resolvers.reports.reading)."""
    wanted = list(node_ids)
    found = await reading.report_parts(info.context, model, wanted, names_children=names_children)
    return [build(*found[i]) if i in found else None for i in wanted]


@strawberry.type(description="复核结论 / the reviewer's verdict on a listed child.")
class ReportVerdictInfo(relay.Node):
    verdict_id: strawberry.Private[int]
    student_id: relay.GlobalID = strawberry.field(description="学生 ID / the student.")
    verdict: Verdict = strawberry.field(description="结论 / verdict.")
    comment: str | None = strawberry.field(description="说明 / comment.")
    by: str = strawberry.field(description="复核人 / by whom.")
    at: datetime = strawberry.field(description="时间 / when.")

    @classmethod
    def resolve_id(cls, root: ReportVerdictInfo, *, info: Info) -> str:
        return str(root.verdict_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ReportVerdictInfo | None]:
        return await report_parts(info, ReportVerdict, node_ids, lambda r, _: cls.from_row(r), names_children=True)

    @classmethod
    def from_row(cls, r: ReportVerdict) -> ReportVerdictInfo:
        return cls(
            verdict_id=r.id or 0,
            student_id=relay.GlobalID("Student", str(r.child_id)),
            verdict=r.verdict,
            comment=r.comment,
            by=r.given_by,
            at=r.given_at,
        )


@strawberry.type(description="复核发现的遗漏学生 / a child the reviewer found missing from the report.")
class ReportFindingInfo(relay.Node):
    finding_id: strawberry.Private[int]
    student_id: relay.GlobalID = strawberry.field(description="学生 ID / the student.")
    note: str = strawberry.field(description="发现情况 / what was found.")
    by: str = strawberry.field(description="复核人 / by whom.")
    at: datetime = strawberry.field(description="时间 / when.")

    @classmethod
    def resolve_id(cls, root: ReportFindingInfo, *, info: Info) -> str:
        return str(root.finding_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ReportFindingInfo | None]:
        return await report_parts(info, ReportFinding, node_ids, lambda r, _: cls.from_row(r), names_children=True)

    @classmethod
    def from_row(cls, r: ReportFinding) -> ReportFindingInfo:
        return cls(
            finding_id=r.id or 0,
            student_id=relay.GlobalID("Student", str(r.child_id)),
            note=r.note,
            by=r.found_by,
            at=r.found_at,
        )


@strawberry.type(
    description="对下级单位的调研或评估 / the city's findings and guidance on a county (004 §6), or the "
    "province's grade and findings on a city (§7)."
)
class UnitAssessmentInfo(relay.Node):
    assessment_id: strawberry.Private[int]
    subject_code: str = strawberry.field(description="被评价单位代码 / the county or city.")
    subject_name: str = strawberry.field(description="被评价单位 / its name.")
    grade: AssessmentGrade | None = strawberry.field(description="等次（省级评估）/ grade.")
    findings: str = strawberry.field(description="发现 / findings.")
    guidance: str | None = strawberry.field(description="指导意见 / guidance.")
    by: str = strawberry.field(description="评价人 / by whom.")
    at: datetime = strawberry.field(description="时间 / when.")

    @classmethod
    def resolve_id(cls, root: UnitAssessmentInfo, *, info: Info) -> str:
        return str(root.assessment_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[UnitAssessmentInfo | None]:
        return await report_parts(info, ReportAssessment, node_ids, lambda r, _: cls.from_row(r), names_children=False)

    @classmethod
    def from_row(cls, row: ReportAssessment) -> UnitAssessmentInfo:
        return cls(
            assessment_id=row.id or 0,
            subject_code=row.subject_code,
            subject_name=row.subject_name,
            grade=row.grade,
            findings=row.findings,
            guidance=row.guidance,
            by=row.given_by,
            at=row.given_at,
        )


@strawberry.type(
    description="学年巩固率（省级评估）/ the school year's consolidation rate, frozen with the assessment "
    "(docs/CONSOLIDATION.md): retained ÷ cohort."
)
class ConsolidationRate:
    cohort: int = strawberry.field(
        description="队列：学年首日（9月1日）在本省学校就读1–9年级的学生数 / children enrolled in grades 1–9 at the "
        "region's schools on the school year's first day."
    )
    retained: int = strawberry.field(
        description="其中截至6月30日仍在校（任一学校）或已毕业、且不在辍学台账者 / of them, still enrolled at any "
        "school or graduated on 30 June, and not on the dropout ledger."
    )
    rate: float | None = strawberry.field(description="巩固率 = retained ÷ cohort（0–1；队列为 0 时为空）/ the rate.")
    target: float = strawberry.field(description="目标 95%（000 序言）/ the national target, 0.95.")
    meets_target: bool | None = strawberry.field(description="是否达到 95% / at or above the target.")


@strawberry.type(
    description="开学时节进校调研覆盖，随版本冻结（004 §5）/ the term-start visit coverage, frozen with the version "
    "when it was generated (Report.termVisitCoverage shows it as it stands now)."
)
class VersionTermVisits:
    term: str = strawberry.field(description="学期 / the term, e.g. 2026-SPRING.")
    visited: int = strawberry.field(description="已调研学校数 / schools visited.")
    schools: int = strawberry.field(description="全县学校数 / the county's schools.")
    rate: float | None = strawberry.field(description="覆盖率 = visited ÷ schools / the coverage.")
