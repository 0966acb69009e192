"""The comparisons' root fields: the lists, the counts, running and resolving (each calls one use case)."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry import relay

from models.comparison import ComparisonFinding as ComparisonFindingRow
from models.comparison import DismissReason, FindingAction, FindingKind, FindingState
from models.region import NATION_PATH
from resolvers.comparisons import reading, resolving, running

from ..connection import Connection, to_connection
from ..context import Info
from ..errors import ComparisonError
from ..inputs import stored_in
from ..ledgers.persuasion import path_code
from ..mutations import run_mutation
from ..nodes import node_id_of
from .types import ComparisonCount, ComparisonFinding, ComparisonRun


@strawberry.input(description="比对运行筛选 / filter for comparison runs.")
class ComparisonRunFilter:
    region_code: str | None = strawberry.field(default=None, description="区划子树 / runs of counties in this region.")


async def comparison_runs(
    info: Info, filter: ComparisonRunFilter | None = None, first: int | None = None, after: str | None = None
) -> Connection[ComparisonRun]:
    f = filter or ComparisonRunFilter()
    page = await reading.list_runs(info.context, region_code=f.region_code, first=first, after=after)
    return to_connection(page, node=ComparisonRun.from_row, key=lambda r: str(r.id), after=after)


@strawberry.input(description="比对发现筛选 / filter for comparison findings.")
class ComparisonFindingFilter:
    state: FindingState | None = strawberry.field(default=None, description="状态 / state.")
    kind: FindingKind | None = strawberry.field(default=None, description="比对 / comparison.")
    region_code: str | None = strawberry.field(default=None, description="区划子树 / findings of counties in it.")
    reason: DismissReason | None = strawberry.field(default=None, description="排除原因 / dismissal reason.")
    run_id: relay.GlobalID | None = strawberry.field(default=None, description="某次比对提出的 / raised by this run.")


async def comparison_findings(
    info: Info, filter: ComparisonFindingFilter | None = None, first: int | None = None, after: str | None = None
) -> Connection[ComparisonFinding]:
    f = filter or ComparisonFindingFilter()
    page = await reading.list_findings(
        info.context,
        state=f.state,
        kind=f.kind,
        region_code=f.region_code,
        reason=f.reason,
        run_id=node_id_of(f.run_id, "ComparisonRun") if f.run_id else None,
        first=first,
        after=after,
    )
    return to_connection(page, node=ComparisonFinding.from_row, key=lambda r: str(r.id), after=after)


async def comparison_counts(info: Info, region_code: str | None = None) -> list[ComparisonCount]:
    rows = await reading.count_findings(info.context, region_code=region_code)
    return [
        ComparisonCount(
            county_code=path_code(r.county_path) or NATION_PATH,
            kind=r.kind,
            state=r.state,
            reason=r.reason,
            count=r.count,
        )
        for r in rows
    ]


@strawberry.input(description="运行三比对 / run the three comparisons.")
class RunComparisonInput:
    region_code: str = strawberry.field(description="县，或市、省（逐县比对）/ a county, or a city or province.")
    as_of: date = strawberry.field(description="比对日期（不晚于今天）/ the as-of date, not after today.")


@strawberry.type(description="比对结果 / the runs, one per county.")
class RunComparisonPayload:
    runs: list[ComparisonRun] = strawberry.field(default_factory=list, description="各县的比对 / one run per county.")
    errors: list[ComparisonError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


async def run_comparison(info: Info, input: RunComparisonInput) -> RunComparisonPayload:
    return await run_mutation(
        info,
        RunComparisonPayload,
        lambda: running.run_comparison(info.context, region_code=input.region_code, as_of=input.as_of),
        lambda runs: RunComparisonPayload(runs=[ComparisonRun.from_row(r) for r in runs]),
    )


@strawberry.input(description="对一条发现的处理 / a decision on one finding.")
class FindingDecisionInput:
    id: relay.GlobalID = strawberry.field(description="发现 ID / the finding's global ID.")
    version: int = strawberry.field(description="读取时的版本 / the version you read.")
    action: FindingAction = strawberry.field(description="处理方式 / what is decided.")
    entry_id: relay.GlobalID | None = strawberry.field(
        default=None, description="关联的台账记录（LINK）/ the entry to tie it to (LINK)."
    )
    reason: DismissReason | None = strawberry.field(default=None, description="排除原因（DISMISS）/ reason.")
    note: str | None = strawberry.field(
        default=None,
        description="说明（DISMISS 必填，最多 500 字）/ note (required to dismiss; at most 500).",
        metadata=stored_in(ComparisonFindingRow, "dismiss_note"),
    )
    school_code: str | None = strawberry.field(
        default=None, description="在外地就读的学校 / the school studied at (STUDYING_ELSEWHERE)."
    )
    province_code: str | None = strawberry.field(
        default=None, description="在外地就读的省份（两位代码）/ the province studied in (STUDYING_ELSEWHERE)."
    )


@strawberry.input(description="处理比对发现（一条或多条）/ resolve one or many findings.")
class ResolveFindingsInput:
    decisions: list[FindingDecisionInput] = strawberry.field(
        description="处理决定（1–500 条，全部成功或全部不变）/ 1–500 decisions, all applied or none."
    )


@strawberry.type(description="处理结果 / the findings as resolved.")
class ResolveFindingsPayload:
    findings: list[ComparisonFinding] = strawberry.field(default_factory=list, description="发现 / the findings.")
    errors: list[ComparisonError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


async def resolve_findings(info: Info, input: ResolveFindingsInput) -> ResolveFindingsPayload:
    decisions = [
        resolving.Decision(
            id=node_id_of(d.id, "ComparisonFinding"),
            version=d.version,
            action=d.action,
            entry_id=node_id_of(d.entry_id, "LedgerEntry") if d.entry_id else None,
            reason=d.reason,
            note=d.note,
            school_code=d.school_code,
            province_code=d.province_code,
        )
        for d in input.decisions
    ]
    return await run_mutation(
        info,
        ResolveFindingsPayload,
        lambda: resolving.resolve_findings(info.context, decisions),
        lambda rows: ResolveFindingsPayload(findings=[ComparisonFinding.from_row(r) for r in rows]),
    )
