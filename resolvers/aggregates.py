"""Aggregates for dashboards and integrators: counts of open ledger cases, scoped like everything else.

No personal data: the ministry (AGGREGATE:READ at the nation) reads them too.
"""

from __future__ import annotations

from sqlmodel import col

from models.ledger_summary import LedgerCount
from models.repos import ledger_counts
from models.repos.ledger_counts import CountRow

from .context import Context
from .errors import BadInput
from .regions import filter_region_path

DEPTH = {"PROVINCE": 1, "CITY": 2, "COUNTY": 3}


async def ledger_counts_by(ctx: Context, *, region_code: str | None, by: str) -> list[CountRow]:
    """Open suspected and dropout cases per region at the level `by`, inside the caller's aggregate scope."""
    if by not in DEPTH:
        raise BadInput("by", "BAD_LEVEL", "按省、市或县汇总", "group by PROVINCE, CITY or COUNTY")
    path = col(LedgerCount.county_path)
    scope = ctx.access().scope("AGGREGATE", "READ", {"EDU": [path], "GOV": [path]})
    return await ledger_counts.counts_by_region(
        ctx.session, scope=scope, region_path=await filter_region_path(ctx, region_code), depth=DEPTH[by]
    )
