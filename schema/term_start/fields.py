"""Term-start reporting (开学报到, POLICY 002 一(三)): the unreported list, its reasons, the township's
term-start persuasion rounds and the school's written report of the list.

The domain's root fields: `schema/root.py` merges every domain's `Query` and `Mutation`."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry import relay

from models.persuasion import VisitMethod
from models.term_start import UnreportedExplanation as ExplanationRow
from models.term_start import UnreportedReason
from models.term_start import UnreportedVisit as VisitRow
from resolvers.paging import encode_cursor
from resolvers.term_start import explaining, listing
from resolvers.term_start import report as term_start_report

from ..connection import page_info
from ..context import Info
from ..errors import TermStartError
from ..inputs import stored_in
from ..mutations import run_mutation
from ..nodes import node_id_of
from ..reports.mutations import ReportPayload
from ..reports.types import Report
from .types import TermStartVisit, UnreportedPupil


@strawberry.input(description="未报到名单筛选 / filter for the unreported list.")
class UnreportedFilter:
    term: str = strawberry.field(description="学期 YYYY-SPRING | YYYY-AUTUMN / the term.")
    school_code: str | None = strawberry.field(default=None, description="列入名单的学校 / the listing school.")
    region_code: str | None = strawberry.field(
        default=None, description="区划子树（学校、户籍或居住地）/ region subtree (school, household or residence)."
    )
    explained: bool | None = strawberry.field(default=None, description="是否已核实原因 / reason stated or not.")
    reason: UnreportedReason | None = strawberry.field(default=None, description="原因 / by reason.")


@strawberry.type(description="未报到名单的一条边 / an edge of the unreported list.")
class UnreportedPupilEdge:
    cursor: str = strawberry.field(description="游标 / cursor.")
    node: UnreportedPupil = strawberry.field(description="未报到学生 / the pupil.")


@strawberry.type(description="未报到名单（开学后15天内未报到，002 一(三)）/ the unreported list of a term.")
class UnreportedPupilConnection:
    edges: list[UnreportedPupilEdge] = strawberry.field(description="本页 / this page.")
    page_info: relay.PageInfo = strawberry.field(description="分页 / paging.")
    total_count: int = strawberry.field(description="名单人数 / how many pupils match.")


async def unreported_pupils(
    info: Info, filter: UnreportedFilter, first: int | None = None, after: str | None = None
) -> UnreportedPupilConnection | None:
    ctx = info.context
    page = await listing.list_unreported(
        ctx,
        listing.ListFilter(
            term=filter.term,
            school_code=filter.school_code,
            region_code=filter.region_code,
            explained=filter.explained,
            reason=filter.reason,
        ),
        first=first,
        after=after,
    )
    edges = [
        UnreportedPupilEdge(cursor=encode_cursor(str(r.child.id)), node=UnreportedPupil.from_row(r)) for r in page.rows
    ]
    return UnreportedPupilConnection(edges=edges, page_info=page_info(page, edges, after), total_count=page.total)


@strawberry.input(
    description="核实未报到原因 / state (or, with its version, change) why a listed pupil has not reported."
)
class ExplainUnreportedInput:
    student_id: relay.GlobalID = strawberry.field(description="学生全局 ID / the pupil's global ID.")
    term: str = strawberry.field(description="学期 / the term, e.g. 2026-AUTUMN.")
    reason: UnreportedReason = strawberry.field(description="原因 / the reason.")
    receiving_school_code: str | None = strawberry.field(
        default=None, description="转入学校代码（TRANSFERRED 必填）/ the receiving school (TRANSFERRED only, required)."
    )
    note: str | None = strawberry.field(
        metadata=stored_in(ExplanationRow, "note"),
        default=None,
        description="核实情况（ILL、ON_LEAVE、MOVED、UNREACHABLE 必填，最多 500 字）/ what was found.",
    )
    version: int | None = strawberry.field(
        default=None, description="已核实原因的版本（修改时必填）/ the explanation's version, to change it."
    )


@strawberry.type(description="核实未报到原因的结果 / result of explaining an unreported pupil.")
class ExplainUnreportedPayload:
    pupil: UnreportedPupil | None = strawberry.field(default=None, description="名单中的该生 / the pupil as listed.")
    errors: list[TermStartError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


async def explain_unreported(info: Info, input: ExplainUnreportedInput) -> ExplainUnreportedPayload:
    given = explaining.Explanation(
        student_id=node_id_of(input.student_id, "Student"),
        term=input.term,
        reason=input.reason,
        receiving_school_code=input.receiving_school_code,
        note=input.note,
        version=input.version,
    )
    return await run_mutation(
        info,
        ExplainUnreportedPayload,
        lambda: explaining.explain_unreported(info.context, given),
        lambda row: ExplainUnreportedPayload(pupil=UnreportedPupil.from_row(row)),
    )


@strawberry.input(description="登记开学初劝学 / record a term-start persuasion round on a listed pupil.")
class RecordTermStartVisitInput:
    student_id: relay.GlobalID = strawberry.field(description="学生全局 ID / the pupil's global ID.")
    term: str = strawberry.field(description="学期 / the term.")
    visited_on: date = strawberry.field(description="日期（开学后、本学期内、不晚于今天）/ day of the round.")
    method: VisitMethod = strawberry.field(
        description="方式：HOME_VISIT、PHONE、JOINT_VISIT、WRITTEN_NOTICE / a first-step method."
    )
    participants: str = strawberry.field(
        metadata=stored_in(VisitRow, "participants"), description="参加人员 / who took part."
    )
    outcome: str = strawberry.field(metadata=stored_in(VisitRow, "outcome"), description="结果 / outcome.")


@strawberry.type(description="登记开学初劝学的结果 / result of recording a term-start round.")
class RecordTermStartVisitPayload:
    visit: TermStartVisit | None = strawberry.field(default=None, description="登记的劝学 / the round recorded.")
    errors: list[TermStartError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


async def record_term_start_visit(info: Info, input: RecordTermStartVisitInput) -> RecordTermStartVisitPayload:
    given = explaining.RoundInput(
        student_id=node_id_of(input.student_id, "Student"),
        term=input.term,
        visited_on=input.visited_on,
        method=input.method,
        participants=input.participants,
        outcome=input.outcome,
    )
    return await run_mutation(
        info,
        RecordTermStartVisitPayload,
        lambda: explaining.record_round(info.context, given),
        lambda row: RecordTermStartVisitPayload(visit=TermStartVisit.from_row(row)),
    )


@strawberry.input(
    description="生成开学报到报告（未报到名单）/ draft the school's term-start report: its unreported list."
)
class DraftTermStartReportInput:
    school_code: str = strawberry.field(description="学校代码 / school code.")
    term: str = strawberry.field(description="学期 YYYY-SPRING | YYYY-AUTUMN / the term.")
    version: int | None = strawberry.field(default=None, description="已有报告的版本 / version of the existing report.")


async def draft_term_start_report(info: Info, input: DraftTermStartReportInput) -> ReportPayload:
    return await run_mutation(
        info,
        ReportPayload,
        lambda: term_start_report.draft_term_start_report(
            info.context, school_code=input.school_code, term=input.term, version=input.version
        ),
        lambda row: ReportPayload(report=Report.from_row(row)),
    )


@strawberry.type
class Query:
    unreported_pupils: UnreportedPupilConnection | None = strawberry.field(
        resolver=unreported_pupils,
        description="未报到名单（开学后15天内未报到，002 一(三)）/ pupils who have not reported at a term start, "
        "scoped like the ledgers (LEDGER:READ: the school's path, the child's household or residence).",
    )


@strawberry.type
class Mutation:
    explain_unreported: ExplainUnreportedPayload = strawberry.mutation(
        resolver=explain_unreported,
        description="核实未报到原因（学校）/ the listing school states why a pupil has not reported.",
    )
    record_term_start_visit: RecordTermStartVisitPayload = strawberry.mutation(
        resolver=record_term_start_visit,
        description="登记开学初劝学（乡镇、村、学校）/ record a term-start persuasion round on a listed pupil.",
    )
    draft_term_start_report: ReportPayload = strawberry.mutation(
        resolver=draft_term_start_report,
        description="生成开学报到报告（未报到名单，书面报告县教育局和乡镇政府）/ draft the school's term-start report.",
    )
