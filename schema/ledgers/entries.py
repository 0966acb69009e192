"""The three ledgers (三本台账): suspected-dropout and dropout entries, and the derived school-age ledger.

Every list is scoped in SQL by the caller's LEDGER:READ jurisdictions; an entry shows its student,
visits, deferral requests, handovers and the child's plan.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from models.child import SpecialGroup, Stage
from models.ledger import (
    CloseReason,
    DropoutCategory,
    EntrySource,
    EntryStatus,
    Ledger,
    Placement,
)
from models.ledger import LedgerEntry as EntryRow
from models.repos.ledger import EntryFilter
from resolvers.ledgers import entries as entry_resolvers
from resolvers.paging import parse_id

from ..connection import Connection, selects, to_connection
from ..context import Info, loader
from ..nodes import node_id_of
from ..students.types import Student
from .persuasion import CasePlan, DeferralRequest, Handover, PersuasionVisit, handover_from_row, path_code

if TYPE_CHECKING:
    from ..comparisons.types import ComparisonFinding


@strawberry.type(description="分类安置 / how a returned child was placed.")
class PlacementInfo:
    method: Placement = strawberry.field(description="安置方式 / placement.")
    school_code: str | None = strawberry.field(description="安置学校代码 / school placed in.")
    placed_on: date | None = strawberry.field(description="安置日期 / date.")
    note: str | None = strawberry.field(description="说明 / note.")


@strawberry.type(description="销号 / how an entry was closed out.")
class CloseOut:
    at: datetime = strawberry.field(description="销号时间 / when.")
    by: str = strawberry.field(description="销号人 / by whom.")
    reason: CloseReason = strawberry.field(description="原因 / reason.")
    note: str | None = strawberry.field(description="说明 / note.")


@strawberry.type(
    description="纳入依据：连续有记录的缺勤上课日 / the evidence an attendance entry opened on: its run of "
    "consecutive school days, each with a recorded absence (README: School days and unknown days)."
)
class AbsenceEvidence:
    first_absent_on: date = strawberry.field(description="首个缺勤上课日 / the run's first absent school day.")
    last_absent_on: date = strawberry.field(
        description="最后一个有记录的缺勤上课日（规则执行时）/ its last evidenced absent school day when the rules ran."
    )
    school_days_absent: int = strawberry.field(description="缺勤上课日数 / school days absent in the run.")


@strawberry.type(description="台账记录 / a child on the suspected-dropout or dropout ledger, opening to close-out.")
class LedgerEntry(relay.Node):
    entry_id: strawberry.Private[int]
    child_id: strawberry.Private[int]
    ledger: Ledger = strawberry.field(description="台账 / which ledger.")
    status: EntryStatus = strawberry.field(description="状态 / status.")
    source: EntrySource = strawberry.field(description="发现途径 / how the child was found.")
    category: DropoutCategory | None = strawberry.field(
        description="辍学类别 A–T；辍学记录销号前必填 / category A–T, required before a dropout entry closes."
    )
    stage: Stage = strawberry.field(description="学段 / stage when flagged.")
    grade: int | None = strawberry.field(description="年级（建档时）/ grade when flagged.")
    school_code: str | None = strawberry.field(description="建档时就读学校代码 / school when flagged.")
    opened_on: date = strawberry.field(description="纳入台账日期 / the day the rule held or the finding was made.")
    opened_at: datetime = strawberry.field(description="登记时间 / recorded at.")
    opened_by: str = strawberry.field(description="登记人 / recorded by.")
    note: str | None = strawberry.field(description="说明 / note.")
    is_relapse: bool = strawberry.field(description="反弹（曾销号后再次纳入）/ a relapse after an earlier close-out.")
    responsible_region_code: str = strawberry.field(description="责任地区（流入地）/ the region answering for it.")
    handover_region_code: str | None = strawberry.field(
        description="最近一次移交的另一方 / the other side of the latest handover."
    )
    last_visit_on: date | None = strawberry.field(description="最近劝返日期 / latest visit.")
    returned_on: date | None = strawberry.field(description="返校日期 / back at school on.")
    evidence: AbsenceEvidence | None = strawberry.field(
        description="考勤规则纳入（或重新纳入、转辍学）所依据的缺勤 / the absence the attendance rules opened, "
        "reopened or escalated the entry on; null for entries opened by hand or before the calendar rules."
    )
    placement: PlacementInfo | None = strawberry.field(description="分类安置 / placement.")
    close_out: CloseOut | None = strawberry.field(description="销号 / close-out, null while open.")
    version: int = strawberry.field(description="版本（修改时提交，过期返回 CONFLICT）/ version for optimistic writes.")
    escalated_from_id: strawberry.Private[int | None]
    previous_entry_id: strawberry.Private[int | None]

    @classmethod
    def resolve_id(cls, root: LedgerEntry, *, info: Info) -> str:
        return str(root.entry_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[LedgerEntry | None]:
        wanted = list(node_ids)
        found = await entry_resolvers.get_entries(info.context, wanted)
        return [cls.from_row(found[i]) if i in found else None for i in wanted]

    @classmethod
    def from_row(cls, row: EntryRow) -> LedgerEntry:
        placement = (
            PlacementInfo(
                method=row.placement,
                school_code=row.placement_school_code,
                placed_on=row.placed_on,
                note=row.placement_note,
            )
            if row.placement
            else None
        )
        close_out = (
            CloseOut(at=row.closed_at, by=row.closed_by or "", reason=row.close_reason, note=row.close_note)
            if row.close_reason and row.closed_at
            else None
        )
        return cls(
            entry_id=row.id or 0,
            child_id=row.child_id,
            ledger=row.ledger,
            status=row.status,
            source=row.source,
            category=row.category,
            stage=row.stage,
            grade=row.grade,
            school_code=row.school_code,
            opened_on=row.opened_on,
            opened_at=row.opened_at,
            opened_by=row.opened_by,
            note=row.note,
            is_relapse=row.is_relapse,
            responsible_region_code=path_code(row.responsible_path) or "",
            handover_region_code=path_code(row.handover_path),
            last_visit_on=row.last_visit_on,
            returned_on=row.returned_on,
            evidence=AbsenceEvidence(
                first_absent_on=row.evidence_first_absent_on,
                last_absent_on=row.evidence_last_absent_on,
                school_days_absent=row.evidence_school_days_absent or 0,
            )
            if row.evidence_first_absent_on and row.evidence_last_absent_on
            else None,
            placement=placement,
            close_out=close_out,
            version=row.version,
            escalated_from_id=row.escalated_from_id,
            previous_entry_id=row.previous_entry_id,
        )

    @strawberry.field(description="学生 / the child.")  # type: ignore[untyped-decorator]
    async def student(self, info: Info) -> Student:
        row = await loader(info, "entry-student", entry_resolvers.students_of_entries).load(str(self.child_id))
        return Student.from_row(row)

    @strawberry.field(description="劝返记录（按日期）/ persuasion visits, by date.")  # type: ignore[untyped-decorator]
    async def visits(self, info: Info) -> list[PersuasionVisit]:
        rows = await loader(info, "entry-visits", entry_resolvers.visits_of).load(str(self.entry_id))
        return [PersuasionVisit.from_row(r) for r in rows]

    @strawberry.field(description="延缓入学申请 / deferral requests.")  # type: ignore[untyped-decorator]
    async def deferrals(self, info: Info) -> list[DeferralRequest]:
        rows = await loader(info, "entry-deferrals", entry_resolvers.deferrals_of).load(str(self.entry_id))
        return [DeferralRequest.from_row(r) for r in rows]

    @strawberry.field(description="移交记录 / handovers.")  # type: ignore[untyped-decorator]
    async def handovers(self, info: Info) -> list[Handover]:
        rows = await loader(info, "entry-handovers", entry_resolvers.handovers_of).load(str(self.entry_id))
        return [handover_from_row(r) for r in rows]

    @strawberry.field(description="一人一案 / the child's plan.")  # type: ignore[untyped-decorator]
    async def plan(self, info: Info) -> CasePlan | None:
        row = await loader(info, "entry-plan", entry_resolvers.plans_of).load(str(self.child_id))
        return CasePlan.from_row(row) if row else None

    @strawberry.field(
        description="三比对发现 / the comparison findings put on the ledger as this entry, or tied to it."
    )  # type: ignore[untyped-decorator]
    async def findings(
        self, info: Info
    ) -> list[Annotated[ComparisonFinding, strawberry.lazy("schema.comparisons.types")]]:
        from resolvers.comparisons.reading import findings_of_entries

        from ..comparisons.types import ComparisonFinding  # that module imports this one

        rows = await loader(info, "entry-findings", findings_of_entries).load(str(self.entry_id))
        return [ComparisonFinding.from_row(r) for r in rows or []]

    @strawberry.field(description="升为辍学前的疑似记录 / the suspected entry this dropout entry grew from.")  # type: ignore[untyped-decorator]
    async def escalated_from(self, info: Info) -> LedgerEntry | None:
        return await _entry(info, self.escalated_from_id)

    @strawberry.field(description="反弹前已销号的记录 / the earlier, closed-out entry of a relapse.")  # type: ignore[untyped-decorator]
    async def previous_entry(self, info: Info) -> LedgerEntry | None:
        return await _entry(info, self.previous_entry_id)


async def _entry(info: Info, entry_id: int | None) -> LedgerEntry | None:
    if entry_id is None:
        return None
    row = await loader(info, "entries", entry_resolvers.get_entries).load(str(entry_id))
    return LedgerEntry.from_row(row) if row else None


@strawberry.input(description="台账筛选 / filter for ledger entries.")
class LedgerEntryFilter:
    ledger: Ledger | None = strawberry.field(default=None, description="台账 / ledger.")
    status: list[EntryStatus] | None = strawberry.field(
        default=None, description="状态（任一）/ any of these statuses."
    )
    category: DropoutCategory | None = strawberry.field(default=None, description="辍学类别 / category.")
    missing_category: bool | None = strawberry.field(
        default=None, description="true：尚未确定类别 / true: entries whose category is not yet set."
    )
    stage: Stage | None = strawberry.field(default=None, description="学段 / stage.")
    special_group: SpecialGroup | None = strawberry.field(default=None, description="重点群体 / special group.")
    region_code: str | None = strawberry.field(
        default=None,
        description="区划子树（学校、户籍、居住或责任地）/ region subtree (school, home, residence or responsible).",
    )
    school_code: str | None = strawberry.field(default=None, description="学校 / school when flagged.")
    opened_from: date | None = strawberry.field(default=None, description="纳入日期起 / opened on or after.")
    opened_to: date | None = strawberry.field(default=None, description="纳入日期止 / opened on or before.")
    no_visit_for_days: int | None = strawberry.field(
        default=None, description="超过 N 天未劝返（未销号）/ not visited for more than N days (not closed)."
    )
    deferral_pending: bool | None = strawberry.field(
        default=None, description="true：有待审批的延缓申请 / true: a deferral awaits approval."
    )
    student_id: relay.GlobalID | None = strawberry.field(
        default=None, description="某学生的记录 / one student's entries."
    )


def entries_arguments(filter: LedgerEntryFilter | None) -> dict[str, Any]:
    """`entries_page_query`'s arguments for a filter (the compiled path reads the same page)."""
    f = filter or LedgerEntryFilter()
    return {
        "filter": EntryFilter(
            ledger=f.ledger,
            statuses=tuple(f.status or ()),
            category=f.category,
            missing_category=f.missing_category,
            stage=f.stage,
            special_group=f.special_group,
            opened_from=f.opened_from,
            opened_to=f.opened_to,
            deferral_pending=f.deferral_pending,
            child_id=(parse_id(node_id_of(f.student_id, "Student")) or 0) if f.student_id else None,
        ),
        "region_code": f.region_code,
        "school_code": f.school_code,
        "not_visited_days": f.no_visit_for_days,
    }


async def ledger_entries(
    info: Info, filter: LedgerEntryFilter | None = None, first: int | None = None, after: str | None = None
) -> Connection[LedgerEntry]:
    page = await entry_resolvers.list_entries(
        info.context, count=selects(info, "totalCount"), first=first, after=after, **entries_arguments(filter)
    )
    return to_connection(page, node=LedgerEntry.from_row, key=lambda r: str(r.id), after=after)
