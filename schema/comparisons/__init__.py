"""Comparisons (三比对, POLICY 004 §2): runs over a county's applied rosters and the findings people resolve.

The domain's root fields: `schema/root.py` merges every domain's `Query` and `Mutation`."""

from __future__ import annotations

import strawberry

from ..connection import Connection
from . import operations as ops
from .types import ComparisonCount, ComparisonFinding, ComparisonRun


@strawberry.type
class Query:
    comparison_runs: Connection[ComparisonRun] = strawberry.field(
        resolver=ops.comparison_runs,
        description="比对运行 / comparison runs of the counties I may read (COMPARISON:READ), oldest first: "
        "the batches compared and the counts, no personal data.",
    )
    comparison_findings: Connection[ComparisonFinding] = strawberry.field(
        resolver=ops.comparison_findings,
        description="比对发现 / findings I may read, scoped like the children they are about, oldest first.",
    )
    comparison_counts: list[ComparisonCount] = strawberry.field(
        resolver=ops.comparison_counts,
        description="比对发现计数 / findings counted by county, kind, state and dismissal reason, over the "
        "counties I may read comparisons of (cities and provinces): no personal data.",
    )


@strawberry.type
class Mutation:
    run_comparison: ops.RunComparisonPayload = strawberry.mutation(
        resolver=ops.run_comparison,
        description="运行三比对 / compare a county's latest applied rosters with the children, enrolment and "
        "ledgers (a city or province: each of its counties); ALREADY_RUNNING while another run holds a county.",
    )
    resolve_findings: ops.ResolveFindingsPayload = strawberry.mutation(
        resolver=ops.resolve_findings,
        description="处理比对发现 / put findings on the suspected ledger, tie them to an entry, or dismiss them "
        "with a reason; 1–500 at once, all or nothing.",
    )
