"""Term-start visits (开学时节进校、入户实地深度调研, POLICY 004 §5) and their coverage (学校全覆盖): recorded by
the school's county bureau, read by REPORT:READ over the region on the education line."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import strawberry
from strawberry import relay

from models.reporting_calendar import ReportLevel
from models.term_visit import TermVisit as TermVisitRow
from resolvers.reports import term_visits as visit_resolvers

from ..context import Info, loader
from ..enums import RegionLevel
from ..errors import TermVisitError
from ..inputs import stored_in
from ..mutations import run_mutation


@strawberry.type(description="开学时节进校、入户调研（004 §5）/ the county's term-start visit to one school.")
class TermVisit(relay.Node):
    visit_id: strawberry.Private[int]
    term: str = strawberry.field(description="学期，如 2026-SPRING / the term.")
    school_code: str = strawberry.field(description="学校代码 / the school visited.")
    school_name: str = strawberry.field(description="学校名称 / its name.")
    county_code: str = strawberry.field(description="调研的县 / the county that visited.")
    visited_on: date = strawberry.field(description="调研日期 / day of the visit.")
    students_checked: int = strawberry.field(description="逐一核查学生数（学生逐一核）/ students checked in person.")
    households_visited: int = strawberry.field(description="入户家庭数 / homes visited.")
    findings: str | None = strawberry.field(default=None, description="调研发现 / findings.")
    recorded_by: str = strawberry.field(description="登记人（最近一次）/ who recorded the current content.")
    recorded_at: datetime = strawberry.field(description="首次登记时间 / first recorded at.")
    updated_at: datetime = strawberry.field(description="最近修改时间 / last changed at.")
    version: int = strawberry.field(description="版本（修改时提交，过期返回 CONFLICT）/ version for optimistic writes.")

    @classmethod
    def resolve_id(cls, root: TermVisit, *, info: Info) -> str:
        return str(root.visit_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[TermVisit | None]:
        wanted = list(node_ids)
        found = await visit_resolvers.get_visits(info.context, wanted)
        return [cls.from_row(found[i]) if i in found else None for i in wanted]

    @classmethod
    def from_row(cls, row: visit_resolvers.SchoolVisit) -> TermVisit:
        v = row.visit
        return cls(
            visit_id=v.id or 0,
            term=v.term,
            school_code=v.school_code,
            school_name=row.school.name,
            county_code=v.county_code,
            visited_on=v.visited_on,
            students_checked=v.students_checked,
            households_visited=v.households_visited,
            findings=v.findings,
            recorded_by=v.recorded_by,
            recorded_at=v.recorded_at,
            updated_at=v.updated_at,
            version=v.version,
        )


@strawberry.type(description="尚未调研的学校 / a school not visited yet this term.")
class UnvisitedSchool:
    code: str = strawberry.field(description="学校代码 / school code.")
    name: str = strawberry.field(description="学校名称 / school name.")


@strawberry.type(
    description="开学调研覆盖（学校全覆盖，004 §5）/ term-start visit coverage: schools visited over schools; "
    "for a city or province also one row per county."
)
class TermVisitCoverage:
    region_code: str = strawberry.field(description="区划代码 / region code.")
    region_name: str = strawberry.field(description="区划名称 / region name.")
    level: RegionLevel = strawberry.field(description="级别 / level.")
    term: str = strawberry.field(description="学期 / the term, e.g. 2026-AUTUMN.")
    term_start: date = strawberry.field(description="开学日（本省设置）/ the province's term start.")
    term_end: date = strawberry.field(description="学期（半年）末 / last day of the half-year.")
    schools: int = strawberry.field(description="学校数 / schools in the region.")
    visited: int = strawberry.field(description="已调研学校数 / schools visited this term.")
    rate: float | None = strawberry.field(
        description="覆盖率 visited/schools（无学校为空）/ coverage, null without schools."
    )
    complete: bool = strawberry.field(description="学校全覆盖 / every school visited (and there is at least one).")
    visits: list[TermVisit] = strawberry.field(description="调研记录（按学校代码）/ the visits, by school code.")
    not_visited: list[UnvisitedSchool] = strawberry.field(description="尚未调研的学校 / schools not yet visited.")
    counties: list[TermVisitCoverage] = strawberry.field(
        description="各县覆盖（市、省）；县为空 / one row per county for a city or province; empty for a county."
    )

    @classmethod
    def from_row(cls, row: visit_resolvers.Coverage) -> TermVisitCoverage:
        return cls(
            region_code=row.code,
            region_name=row.name,
            level=row.level,
            term=row.term.code,
            term_start=row.term.start,
            term_end=row.term.end,
            schools=row.schools,
            visited=row.visited,
            rate=row.rate,
            complete=row.schools > 0 and row.visited == row.schools,
            visits=[TermVisit.from_row(v) for v in row.visits],
            not_visited=[UnvisitedSchool(code=s.code, name=s.name) for s in row.not_visited],
            counties=[cls.from_row(c) for c in row.counties],
        )


@strawberry.input(description="登记开学调研 / record (or correct, with its version) a school's term-start visit.")
class RecordTermVisitInput:
    school_code: str = strawberry.field(description="学校代码 / school code.")
    term: str = strawberry.field(description="学期 YYYY-SPRING | YYYY-AUTUMN / the term.")
    visited_on: date = strawberry.field(description="调研日期（本学期内，不晚于今天）/ day of the visit, in the term.")
    students_checked: int = strawberry.field(description="逐一核查学生数 / students checked in person (≥ 0).")
    households_visited: int = strawberry.field(description="入户家庭数 / homes visited (≥ 0).")
    findings: str | None = strawberry.field(
        metadata=stored_in(TermVisitRow, "findings"), default=None, description="调研发现（最多 2000 字）/ findings."
    )
    version: int | None = strawberry.field(
        default=None, description="已登记调研的版本（修改时必填）/ version of the recorded visit, to correct it."
    )


@strawberry.type(description="登记开学调研的结果 / result of recording a term-start visit.")
class RecordTermVisitPayload:
    visit: TermVisit | None = strawberry.field(default=None, description="登记后的调研 / the visit as recorded.")
    errors: list[TermVisitError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


async def record_term_visit(info: Info, input: RecordTermVisitInput) -> RecordTermVisitPayload:
    given = visit_resolvers.VisitInput(
        school_code=input.school_code,
        term=input.term,
        visited_on=input.visited_on,
        students_checked=input.students_checked,
        households_visited=input.households_visited,
        findings=input.findings,
        version=input.version,
    )
    return await run_mutation(
        info,
        RecordTermVisitPayload,
        lambda: visit_resolvers.record_term_visit(info.context, given),
        lambda row: RecordTermVisitPayload(visit=TermVisit.from_row(row)),
    )


async def term_visit_coverage(info: Info, region_code: str, term: str) -> TermVisitCoverage:
    found = await visit_resolvers.term_visit_coverage(info.context, region_code=region_code, term=term)
    return TermVisitCoverage.from_row(found)


async def county_report_coverage(
    info: Info, *, level: ReportLevel, unit_path: str, period: str
) -> TermVisitCoverage | None:
    """`Report.termVisitCoverage`: a county quarter's coverage of the term starting in it, batched."""
    if level is not ReportLevel.COUNTY:
        return None
    row = await loader(info, "term-visit-coverage", visit_resolvers.coverage_of_quarters).load(f"{unit_path}|{period}")
    return TermVisitCoverage.from_row(row) if row is not None else None
