"""Reading comparisons: runs and counts by place (no personal data), findings scoped like children.

A county's roles read its findings (`COMPARISON:READ` on the education and government lines); a city or
province reads its counties' runs and the counts by county, kind, state and reason (`COMPARISON:READ`
over places), and a finding's child only where its role may read that child.
"""

from __future__ import annotations

from models.child import Child
from models.comparison import ComparisonFinding, ComparisonRun, DismissReason, FindingKind, FindingState
from models.repos import children as child_repo
from models.repos import comparisons as repo
from models.repos.paging import Page

from ..context import Context
from ..geography.regions import filter_region_path
from ..paging import decode_id_cursor, page_size, parse_id
from .running import COMPARISON


async def list_runs(
    ctx: Context, *, region_code: str | None = None, first: int | None = None, after: str | None = None
) -> Page[ComparisonRun]:
    """Runs of the counties I may read comparisons of, oldest first."""
    return await repo.list_runs(
        ctx.session,
        scope=ctx.access().list_scope(COMPARISON, "READ", repo.RUN_SCOPE_COLUMNS),
        region_path=await filter_region_path(ctx, region_code),
        after=decode_id_cursor(after),
        limit=page_size(first),
    )


async def get_runs(ctx: Context, ids: list[str]) -> dict[str, ComparisonRun]:
    numbers = [n for n in map(parse_id, ids) if n is not None]
    scope = ctx.access().scope(COMPARISON, "READ", repo.RUN_SCOPE_COLUMNS)
    return {str(r.id): r for r in await repo.runs_by_id(ctx.session, numbers, scope=scope)}


async def list_findings(
    ctx: Context,
    *,
    state: FindingState | None = None,
    kind: FindingKind | None = None,
    region_code: str | None = None,
    reason: DismissReason | None = None,
    run_id: str | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Page[ComparisonFinding]:
    """Findings I may read (scoped like the children they are about), oldest first."""
    run_number = parse_id(run_id) if run_id is not None else None
    filter = repo.FindingFilter(
        state=state,
        kind=kind,
        region_path=await filter_region_path(ctx, region_code),
        reason=reason,
        run_id=run_number if run_id is None or run_number is not None else -1,
    )
    return await repo.list_findings(
        ctx.session,
        scope=ctx.access().list_scope(COMPARISON, "READ", repo.FINDING_SCOPE_COLUMNS),
        filter=filter,
        after=decode_id_cursor(after),
        limit=page_size(first),
    )


async def get_findings(ctx: Context, ids: list[str]) -> dict[str, ComparisonFinding]:
    """Findings by id; one outside my scope answers like a missing one."""
    access = ctx.access()
    found = await repo.get_findings(ctx.session, [n for n in map(parse_id, ids) if n is not None])
    return {
        str(number): finding
        for number, finding in found.items()
        if access.allows(COMPARISON, "READ", repo.finding_scope_paths(finding)) is not None
    }


async def count_findings(ctx: Context, *, region_code: str | None = None) -> list[repo.FindingCount]:
    """Counts by county, kind, state and dismissal reason over the counties I may read comparisons of."""
    return await repo.count_findings(
        ctx.session,
        scope=ctx.access().scope(COMPARISON, "READ", repo.COUNT_SCOPE_COLUMNS),
        region_path=await filter_region_path(ctx, region_code),
    )


async def findings_of_entries(ctx: Context, entry_ids: list[str]) -> dict[str, list[ComparisonFinding]]:
    """The findings each ledger entry was opened from or tied to, those I may read."""
    access = ctx.access()
    found = await repo.findings_of_entries(ctx.session, [n for n in map(parse_id, entry_ids) if n is not None])
    return {
        i: [
            f
            for f in found.get(int(i), [])
            if access.allows(COMPARISON, "READ", repo.finding_scope_paths(f)) is not None
        ]
        for i in entry_ids
        if parse_id(i) is not None
    }


async def children_of_findings(ctx: Context, child_ids: list[str]) -> dict[str, Child]:
    """The children of findings this operation already found in scope (a finding shows its child, as a
    ledger entry does; the Student type masks personal data unless CHILD:READ_PII holds over the child)."""
    found = await child_repo.get_children(ctx.session, [n for n in map(parse_id, child_ids) if n is not None])
    return {str(k): v for k, v in found.items()}
