"""A term-start report's frozen list (`Report.unreported`), as the reporting chain shows it."""

from __future__ import annotations

import strawberry

from models.term_start import ReportUnreported, UnreportedReason
from resolvers.term_start import report as term_start_report

from ..context import Info, loader


@strawberry.type(description="开学报到报告中的一名未报到学生（生成时冻结）/ a pupil of a term-start report, as frozen.")
class UnreportedReportRow:
    seq: int = strawberry.field(description="序号 / number in the list.")
    student_id: strawberry.ID = strawberry.field(description="学生全局 ID / the pupil's global ID.")
    name: str = strawberry.field(description="姓名 / name.")
    grade: int = strawberry.field(description="年级 / grade this term.")
    days_absent: int = strawberry.field(description="报到期内无故缺勤天数 / school days recorded absent.")
    on_leave: bool = strawberry.field(description="报到期内请假 / on leave in the window.")
    reason: UnreportedReason | None = strawberry.field(description="核实的原因 / the verified reason (null: none yet).")
    receiving_school_code: str | None = strawberry.field(description="转入学校 / the receiving school.")
    note: str | None = strawberry.field(description="核实情况 / what was found.")
    visits: int = strawberry.field(description="开学初劝学次数 / term-start persuasion rounds by then.")

    @classmethod
    def from_row(cls, r: ReportUnreported) -> UnreportedReportRow:
        from strawberry import relay

        return cls(
            seq=r.seq,
            student_id=strawberry.ID(str(relay.GlobalID("Student", str(r.child_id)))),
            name=r.name,
            grade=r.grade,
            days_absent=r.days_absent,
            on_leave=r.on_leave,
            reason=r.reason,
            receiving_school_code=r.receiving_school_code,
            note=r.note,
            visits=r.visits,
        )


async def _rows(ctx: object, keys: list[str]) -> dict[str, list[ReportUnreported]]:
    found = await term_start_report.frozen_rows(ctx, [int(k) for k in keys])  # type: ignore[arg-type]
    return {str(k): v for k, v in found.items()}


async def unreported_rows(info: Info, visible: bool, revision_id: int) -> list[UnreportedReportRow] | None:
    """`Report.unreported`: the version's list, for readers of the unit's ledgers (else null)."""
    if not visible:
        return None
    rows = await loader(info, "report-unreported", _rows).load(str(revision_id))
    return [UnreportedReportRow.from_row(r) for r in rows or []]
