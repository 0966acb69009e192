"""The unreported list (未报到名单, POLICY 002 一(三)) as the schema shows it: computed from the data, with the
reasons the school verified and the term-start persuasion rounds."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import strawberry
from strawberry import relay

from models.base import today
from models.persuasion import VisitMethod
from models.report import ReportStatus
from models.repos.term_start import UnreportedRow
from models.term_start import UnreportedExplanation, UnreportedReason
from models.term_start import UnreportedVisit as VisitRow
from resolvers.ledgers import entries as entry_resolvers
from resolvers.term_start import explaining, reading

from ..context import Info, loader
from ..ledgers.entries import LedgerEntry
from ..students.types import Student


@strawberry.type(
    description="开学初劝学（002 一(三)：每学期开学初协助学校开展1-2次劝学）/ a term-start persuasion round."
)
class TermStartVisit(relay.Node):
    visit_id: strawberry.Private[int]
    term: str = strawberry.field(description="学期 / the term, e.g. 2026-AUTUMN.")
    visited_on: date = strawberry.field(description="日期 / day of the round.")
    method: VisitMethod = strawberry.field(description="方式（第一步）/ method (first-step methods only).")
    participants: str = strawberry.field(description="参加人员 / who took part.")
    outcome: str = strawberry.field(description="结果 / outcome.")
    recorded_by: str = strawberry.field(description="登记人 / who recorded it.")
    recorded_at: datetime = strawberry.field(description="登记时间 / recorded at.")

    @classmethod
    def resolve_id(cls, root: TermStartVisit, *, info: Info) -> str:
        return str(root.visit_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[TermStartVisit | None]:
        wanted = list(node_ids)
        found = await explaining.get_rounds(info.context, wanted)
        return [cls.from_row(found[i]) if i in found else None for i in wanted]

    @classmethod
    def from_row(cls, v: VisitRow) -> TermStartVisit:
        return cls(
            visit_id=v.id or 0,
            term=v.term,
            visited_on=v.visited_on,
            method=v.method,
            participants=v.participants,
            outcome=v.outcome,
            recorded_by=v.recorded_by,
            recorded_at=v.recorded_at,
        )


@strawberry.type(
    name="UnreportedExplanation",
    description="核实的未报到原因 / the reason the school verified for one pupil and term (one per pupil and term).",
)
class UnreportedExplanationInfo(relay.Node):
    explanation_id: strawberry.Private[int]
    entry_id: strawberry.Private[int | None]
    term: str = strawberry.field(description="学期 / the term.")
    school_code: str = strawberry.field(description="列入名单的学校 / the school that listed the pupil.")
    reason: UnreportedReason = strawberry.field(description="原因 / the reason.")
    receiving_school_code: str | None = strawberry.field(
        description="转入学校（转学时）/ the receiving school of a transfer."
    )
    note: str | None = strawberry.field(description="核实情况 / what was found.")
    explained_by: str = strawberry.field(description="核实人（最近一次）/ who stated the current reason.")
    explained_at: datetime = strawberry.field(description="首次核实时间 / first stated at.")
    updated_at: datetime = strawberry.field(description="最近修改时间 / last changed at.")
    version: int = strawberry.field(description="版本（修改时提交，过期返回 CONFLICT）/ version for optimistic writes.")

    @strawberry.field(description="疑似辍学台账记录（原因为 SUSPECTED 时）/ the suspected-ledger entry, if readable.")  # type: ignore[untyped-decorator]
    async def entry(self, info: Info) -> LedgerEntry | None:
        if self.entry_id is None:
            return None
        row = await loader(info, "term-start-entry", entry_resolvers.get_entries).load(str(self.entry_id))
        return LedgerEntry.from_row(row) if row is not None else None

    @classmethod
    def resolve_id(cls, root: UnreportedExplanationInfo, *, info: Info) -> str:
        return str(root.explanation_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[UnreportedExplanationInfo | None]:
        wanted = list(node_ids)
        found = await explaining.get_explanations(info.context, wanted)
        return [cls.from_row(found[i]) if i in found else None for i in wanted]

    @classmethod
    def from_row(cls, x: UnreportedExplanation) -> UnreportedExplanationInfo:
        return cls(
            explanation_id=x.id or 0,
            term=x.term,
            school_code=x.school_code,
            entry_id=x.entry_id,
            reason=x.reason,
            receiving_school_code=x.receiving_school_code,
            note=x.note,
            explained_by=x.explained_by,
            explained_at=x.explained_at,
            updated_at=x.updated_at,
            version=x.version,
        )


@strawberry.type(description="学校开学报到名单报告的状态 / the school's term-start report as sent up.")
class UnreportedReportState:
    report_id: relay.GlobalID = strawberry.field(
        description="报告的全局 ID（教育线可读）/ the report's global ID (read by the education line)."
    )
    status: ReportStatus = strawberry.field(description="报告状态 / the report's status.")
    submitted_at: datetime | None = strawberry.field(description="首次报送时间 / first submitted at.")
    reason_reported: UnreportedReason | None = strawberry.field(
        description="报告中该生的原因 / the pupil's reason as the current version reports it."
    )


@strawberry.type(description="未报到名单的一行 / one pupil on the unreported list of a term (未报到名单).")
class UnreportedPupil:
    row: strawberry.Private[UnreportedRow]
    student: Student = strawberry.field(description="学生 / the pupil.")
    term: str = strawberry.field(description="学期 / the term.")
    school_code: str = strawberry.field(description="列入名单的学校（上学期末就读）/ the school that lists the pupil.")
    grade: int = strawberry.field(description="本学期年级 / the pupil's grade this term.")
    term_start: date = strawberry.field(description="开学日（本省校历）/ the province's term start.")
    window_closes_on: date = strawberry.field(description="报到期最后一天 / the window's last day.")
    days_absent: int = strawberry.field(description="报到期内记录的无故缺勤天数 / school days recorded absent.")
    on_leave: bool = strawberry.field(description="报到期内请假 / on leave during the window.")
    explanation: UnreportedExplanationInfo | None = strawberry.field(
        description="核实的原因（未核实为空）/ the verified reason, null until stated."
    )

    @strawberry.field(
        description="报到期已结束（否则名单为临时）/ the window is over; before it the list is provisional."
    )  # type: ignore[untyped-decorator]
    def window_closed(self) -> bool:
        return today() > self.row.window_end

    @strawberry.field(description="学校名称 / the listing school's name.")  # type: ignore[untyped-decorator]
    async def school_name(self, info: Info) -> str:
        school = await loader(info, "term-start-school", reading.schools_by_code).load(self.school_code)
        return school.name if school is not None else self.school_code

    @strawberry.field(description="开学初劝学记录 / the term-start persuasion rounds on the pupil.")  # type: ignore[untyped-decorator]
    async def visits(self, info: Info) -> list[TermStartVisit]:
        key = f"{self.row.child.id}|{self.term}"
        rows = await loader(info, "term-start-visits", reading.rounds_by_key).load(key)
        return [TermStartVisit.from_row(v) for v in rows or []]

    @strawberry.field(description="学校开学报到名单报告（已报送时）/ the school's term-start report, once submitted.")  # type: ignore[untyped-decorator]
    async def report(self, info: Info) -> UnreportedReportState | None:
        key = f"{self.school_code}|{self.term}|{self.row.child.id}"
        found = await loader(info, "term-start-report", reading.report_states).load(key)
        if found is None:
            return None
        report, reason = found
        return UnreportedReportState(
            report_id=relay.GlobalID("Report", str(report.id)),
            status=report.status,
            submitted_at=report.first_submitted_at,
            reason_reported=reason,
        )

    @classmethod
    def from_row(cls, row: UnreportedRow) -> UnreportedPupil:
        return cls(
            row=row,
            student=Student.from_row(row.child),
            term=row.term,
            school_code=row.school_code,
            grade=row.grade,
            term_start=row.first_day,
            window_closes_on=row.window_end,
            days_absent=row.days_absent,
            on_leave=row.on_leave,
            explanation=UnreportedExplanationInfo.from_row(row.explanation) if row.explanation else None,
        )
