"""Comparisons (三比对) as the schema shows them: runs with their provenance and counts, findings scoped like
children (the child shown as a `Student`, masked as everywhere), and counts by county for cities and
provinces."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from models.child import SpecialGroup
from models.comparison import (
    DISMISS_REASON_LABELS,
    FINDING_ACTION_LABELS,
    FINDING_KIND_LABELS,
    FINDING_STATE_LABELS,
    DismissReason,
    FindingAction,
    FindingKind,
    FindingState,
)
from models.comparison import ComparisonFinding as FindingRow
from models.comparison import ComparisonRun as RunRow
from models.ledger import DropoutCategory
from models.roster import RosterKind
from resolvers.comparisons import reading
from resolvers.ledgers import entries as entry_resolvers
from resolvers.rosters import reading as roster_reading

from ..context import Info, loader
from ..enums import described
from ..ledgers.persuasion import path_code
from ..rosters.types import RosterImport
from ..students.types import Student

if TYPE_CHECKING:
    from ..ledgers.entries import LedgerEntry

described(
    FindingKind, FINDING_KIND_LABELS, "比对发现类型（三比对）/ kind of comparison finding (the three comparisons)"
)
described(FindingState, FINDING_STATE_LABELS, "比对发现状态 / state of a comparison finding")
described(DismissReason, DISMISS_REASON_LABELS, "排除原因 / why a finding is dismissed")
described(FindingAction, FINDING_ACTION_LABELS, "处理方式 / what is decided on a finding")


@strawberry.type(description="参与比对的名册批次 / a roster batch a run compared.")
class ComparedBatch:
    number: int = strawberry.field(description="批次号 / the batch's number.")
    kind: RosterKind = strawberry.field(description="名册类型 / kind of roster.")
    jurisdiction_code: str = strawberry.field(description="导入辖区 / the jurisdiction it was imported for.")
    as_of: date = strawberry.field(description="名册日期 / the roster's as-of date.")

    @strawberry.field(description="批次（有权读取时）/ the batch, where you may read it.")  # type: ignore[untyped-decorator]
    async def roster_import(self, info: Info) -> RosterImport | None:
        row = await loader(info, "roster-imports", roster_reading.get_imports).load(str(self.number))
        return RosterImport.from_row(row) if row else None


@strawberry.type(description="一类比对的计数 / what one comparison of a run found.")
class ComparisonKindCounts:
    kind: FindingKind = strawberry.field(description="比对 / the comparison.")
    ran: bool = strawberry.field(
        description="是否比对（两方名册都已应用）/ whether it ran: both sides' rosters applied."
    )
    found: int = strawberry.field(description="本次发现 / children found this run.")
    raised: int = strawberry.field(description="新增发现 / new findings raised.")
    kept: int = strawberry.field(description="仍成立的待处理发现 / open findings that still hold.")
    closed: int = strawberry.field(description="已不成立而关闭 / open findings closed as no longer holding.")
    suppressed: int = strawberry.field(
        description="同一事实已排除，未再提出 / not raised again: dismissed for the same facts."
    )
    on_ledger: int = strawberry.field(
        description="已在台账，未提出 / not raised: the child already has an entry not closed out."
    )
    special_groups_set: int = strawberry.field(
        description="新设重点群体的学生数（贫困比对）/ children given a special group (poverty comparison)."
    )


@strawberry.type(description="一次比对（一个县）/ one comparison run of one county, with its provenance.")
class ComparisonRun(relay.Node):
    number: int = strawberry.field(description="运行号 / the run's number.")
    county_code: str = strawberry.field(description="比对的县 / the county compared.")
    requested_code: str = strawberry.field(description="发起时的区划（县、市或省）/ the region asked for.")
    as_of: date = strawberry.field(description="比对日期 / the as-of date.")
    cutoff: date = strawberry.field(description="入学年龄截止日 / the province's school-age cut-off day used.")
    batches: list[ComparedBatch] = strawberry.field(description="参与比对的批次 / the batches compared.")
    counts: list[ComparisonKindCounts] = strawberry.field(description="各类比对计数 / counts per comparison.")
    created_by: str = strawberry.field(description="发起人 / run by.")
    created_at: datetime = strawberry.field(description="发起时间 / run at.")

    @classmethod
    def resolve_id(cls, root: ComparisonRun, *, info: Info) -> str:
        return str(root.number)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ComparisonRun | None]:
        wanted = list(node_ids)
        found = await reading.get_runs(info.context, wanted)
        return [cls.from_row(found[i]) if i in found else None for i in wanted]

    @classmethod
    def from_row(cls, row: RunRow) -> ComparisonRun:
        return cls(
            number=row.id or 0,
            county_code=row.county_code,
            requested_code=row.requested_code,
            as_of=row.as_of,
            cutoff=row.cutoff,
            batches=[
                ComparedBatch(
                    number=b["id"],
                    kind=RosterKind(b["kind"]),
                    jurisdiction_code=b["jurisdiction"],
                    as_of=date.fromisoformat(b["asOf"]),
                )
                for b in row.batches
            ],
            counts=[_kind_counts(kind, row.counts.get(kind.value)) for kind in FindingKind],
            created_by=row.created_by,
            created_at=row.created_at,
        )


def _kind_counts(kind: FindingKind, counts: dict[str, Any] | None) -> ComparisonKindCounts:
    c = counts or {}
    return ComparisonKindCounts(
        kind=kind, ran=counts is not None, found=c.get("found", 0), raised=c.get("raised", 0),
        kept=c.get("kept", 0), closed=c.get("closed", 0), suppressed=c.get("suppressed", 0),
        on_ledger=c.get("onLedger", 0), special_groups_set=c.get("specialGroupsSet", 0),
    )  # fmt: skip


@strawberry.type(description="排除 / how a finding was dismissed.")
class Dismissal:
    reason: DismissReason = strawberry.field(description="原因 / reason.")
    note: str = strawberry.field(description="说明 / note.")
    school_code: str | None = strawberry.field(description="在外地就读的学校 / the school studied at elsewhere.")
    province_code: str | None = strawberry.field(description="在外地就读的省份 / the province studied in elsewhere.")


@strawberry.type(description="发现所依据的名册行 / the roster row a finding stands on.")
class FindingSource:
    number: int = strawberry.field(description="批次号 / the batch's number.")
    line: int = strawberry.field(description="文件中的行号（表头为 1）/ the row's line in the file (header is 1).")

    @strawberry.field(description="批次（有权读取时）/ the batch, where you may read it.")  # type: ignore[untyped-decorator]
    async def roster_import(self, info: Info) -> RosterImport | None:
        row = await loader(info, "roster-imports", roster_reading.get_imports).load(str(self.number))
        return RosterImport.from_row(row) if row else None


@strawberry.type(description="比对发现 / one child a comparison found, until a person resolves it.")
class ComparisonFinding(relay.Node):
    finding_id: strawberry.Private[int]
    child_id: strawberry.Private[int | None]
    run_id: strawberry.Private[int]
    last_run_id: strawberry.Private[int]
    entry_id: strawberry.Private[int | None]
    kind: FindingKind = strawberry.field(description="比对 / which comparison.")
    state: FindingState = strawberry.field(description="状态 / state.")
    county_code: str = strawberry.field(description="发现的县 / the county whose run found it.")
    proposed_category: DropoutCategory | None = strawberry.field(
        description="建议类别（失学：A 小学适龄，B 初中适龄；小学毕业而无初中学籍者为空，由人工定类）/ category "
        "proposed (out of school: A primary age, B junior-secondary age; null for a primary graduate on no junior "
        "registry, whom a person categorises)."
    )
    special_group: SpecialGroup | None = strawberry.field(
        description="贫困名册中的身份 / the poverty roster's group (poor-household dropouts)."
    )
    source: FindingSource | None = strawberry.field(description="依据的名册行 / the roster row it stands on.")
    dismissal: Dismissal | None = strawberry.field(description="排除 / the dismissal, if dismissed.")
    decided_by: str | None = strawberry.field(description="处理人 / resolved by.")
    decided_at: datetime | None = strawberry.field(description="处理时间 / resolved at.")
    created_at: datetime = strawberry.field(description="提出时间 / raised at.")
    version: int = strawberry.field(description="版本（处理时提交，过期返回 CONFLICT）/ version for the decision.")

    @classmethod
    def resolve_id(cls, root: ComparisonFinding, *, info: Info) -> str:
        return str(root.finding_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ComparisonFinding | None]:
        wanted = list(node_ids)
        found = await reading.get_findings(info.context, wanted)
        return [cls.from_row(found[i]) if i in found else None for i in wanted]

    @classmethod
    def from_row(cls, row: FindingRow) -> ComparisonFinding:
        dismissal = (
            Dismissal(
                reason=row.dismiss_reason,
                note=row.dismiss_note or "",
                school_code=row.elsewhere_school_code,
                province_code=row.elsewhere_province_code,
            )
            if row.dismiss_reason
            else None
        )
        return cls(
            finding_id=row.id or 0,
            child_id=row.child_id,
            run_id=row.run_id,
            last_run_id=row.last_run_id,
            entry_id=row.ledger_entry_id,
            kind=row.kind,
            state=row.state,
            county_code=path_code(row.county_path) or "",
            proposed_category=row.proposed_category,
            special_group=SpecialGroup(row.special_group) if row.special_group else None,
            source=FindingSource(number=row.import_id, line=row.line) if row.import_id and row.line else None,
            dismissal=dismissal,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            created_at=row.created_at,
            version=row.version,
        )

    @strawberry.field(
        description="学生（个人信息按权限遮蔽）/ the child, personal data masked unless your role may read it."
    )  # type: ignore[untyped-decorator]
    async def student(self, info: Info) -> Student | None:
        if self.child_id is None:
            return None
        row = await loader(info, "finding-student", reading.children_of_findings).load(str(self.child_id))
        return Student.from_row(row) if row else None

    @strawberry.field(description="提出本发现的比对 / the run that raised it.")  # type: ignore[untyped-decorator]
    async def run(self, info: Info) -> ComparisonRun | None:
        row = await loader(info, "comparison-runs", reading.get_runs).load(str(self.run_id))
        return ComparisonRun.from_row(row) if row else None

    @strawberry.field(description="最近一次确认或关闭它的比对 / the latest run that found it, or closed it.")  # type: ignore[untyped-decorator]
    async def last_run(self, info: Info) -> ComparisonRun | None:
        row = await loader(info, "comparison-runs", reading.get_runs).load(str(self.last_run_id))
        return ComparisonRun.from_row(row) if row else None

    @strawberry.field(description="纳入或关联的台账记录 / the ledger entry it was put on or tied to.")  # type: ignore[untyped-decorator]
    async def ledger_entry(
        self, info: Info
    ) -> Annotated[LedgerEntry, strawberry.lazy("schema.ledgers.entries")] | None:
        from ..ledgers.entries import LedgerEntry  # the ledgers module imports this one

        if self.entry_id is None:
            return None
        row = await loader(info, "entries", entry_resolvers.get_entries).load(str(self.entry_id))
        return LedgerEntry.from_row(row) if row else None


@strawberry.type(description="比对发现计数（无个人信息）/ findings counted by county, kind, state and reason.")
class ComparisonCount:
    county_code: str = strawberry.field(description="县 / county.")
    kind: FindingKind = strawberry.field(description="比对 / comparison.")
    state: FindingState = strawberry.field(description="状态 / state.")
    reason: DismissReason | None = strawberry.field(description="排除原因（已排除时）/ dismissal reason, if dismissed.")
    count: int = strawberry.field(description="数量 / how many.")
