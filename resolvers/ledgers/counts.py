"""Ledger counts for dashboards and integrators: open cases now (the `ledger_count` table) and
month-end statistics (`period_statistic`), scoped like everything else. One name, "ledger counts",
for what the API calls ledgerCounts and the table ledger_count; `AGGREGATE:READ` is the right to read them.

No personal data: the ministry (AGGREGATE:READ at the nation) reads them too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlmodel import col

from authz.errors import Forbidden
from models.base import today
from models.child import SpecialGroup
from models.ledger import DropoutCategory
from models.ledger_counts import LedgerCount
from models.period_statistics import ALL, PeriodStatistic, month_start, months_back
from models.repos import ledger_counts, period_statistics
from models.repos.ledger_counts import CountRow
from models.repos.period_statistics import COUNTS, StatisticRow

from ..context import Context
from ..errors import BadInput
from ..geography.regions import filter_region_path

DEPTH = {"PROVINCE": 1, "CITY": 2, "COUNTY": 3}
DIMENSIONS = ("STAGE", "CATEGORY", "SPECIAL_GROUP")
DEFAULT_MONTHS = 12
MAX_PERIODS = 60
MAX_ROWS = 10_000  # a larger table is an export, not a GraphQL answer (ARCHITECTURE §7)


def _require_aggregate_reader(ctx: Context) -> None:
    if not ctx.access().holds_anywhere("AGGREGATE", "READ"):
        raise Forbidden()


def _depth(by: str) -> int:
    if by not in DEPTH:
        raise BadInput("by", "BAD_LEVEL", "按省、市或县汇总", "group by PROVINCE, CITY or COUNTY")
    return DEPTH[by]


async def ledger_counts_by(ctx: Context, *, region_code: str | None, by: str) -> list[CountRow]:
    """Open suspected and dropout cases per region at the level `by`, inside the caller's aggregate scope;
    a caller holding AGGREGATE:READ nowhere is refused (an empty answer would read as "no cases")."""
    depth = _depth(by)
    access = ctx.access()
    _require_aggregate_reader(ctx)
    path = col(LedgerCount.county_path)
    scope = access.scope("AGGREGATE", "READ", {"EDU": [path], "GOV": [path]})
    return await ledger_counts.counts_by_region(
        ctx.session, scope=scope, region_path=await filter_region_path(ctx, region_code), depth=depth
    )


@dataclass(frozen=True)
class Statistics:
    periods: list[str]
    missing_periods: list[str]
    rows: list[StatisticRow]


def _periods(periods: list[str] | None) -> list[str]:
    if not periods:
        return months_back(today(), DEFAULT_MONTHS)
    bad = next((p for p in periods if month_start(p) is None), None)
    if bad is not None:
        raise BadInput("periods", "BAD_PERIOD", f"月份须写作 YYYY-MM：{bad}", f"a period is a month YYYY-MM: {bad}")
    wanted = sorted(set(periods))
    if len(wanted) > MAX_PERIODS:
        raise BadInput(
            "periods", "TOO_MANY_PERIODS", f"一次最多 {MAX_PERIODS} 个月", f"at most {MAX_PERIODS} months at once"
        )
    return wanted


async def ledger_statistics(
    ctx: Context, *, region_code: str | None, by: str, periods: list[str] | None, dimensions: list[str]
) -> Statistics:
    """Month-end statistics per region at the level `by` × period × the chosen dimensions, inside the
    caller's aggregate scope (as `ledger_counts_by`); a caller holding AGGREGATE:READ nowhere is refused."""
    depth = _depth(by)
    access = ctx.access()
    _require_aggregate_reader(ctx)
    wanted = _periods(periods)
    path = col(PeriodStatistic.county_path)
    rows = await period_statistics.statistics_by_region(
        ctx.session,
        scope=access.scope("AGGREGATE", "READ", {"EDU": [path], "GOV": [path]}),
        region_path=await filter_region_path(ctx, region_code),
        depth=depth,
        periods=wanted,
        by_stage="STAGE" in dimensions,
        groups=[g.value for g in SpecialGroup] if "SPECIAL_GROUP" in dimensions else [ALL],
        categories=[ALL, *(c.value for c in DropoutCategory)] if "CATEGORY" in dimensions else [ALL],
        limit=MAX_ROWS + 1,
    )
    if len(rows) > MAX_ROWS:
        raise BadInput(
            "dimensions",
            "TOO_MANY_ROWS",
            f"结果超过 {MAX_ROWS} 行：请缩小区划、月份或维度",
            f"more than {MAX_ROWS} rows: narrow the region, the periods or the dimensions",
        )
    if "CATEGORY" in dimensions:
        rows = by_category(rows)
    taken = await period_statistics.periods_taken(ctx.session, wanted)
    return Statistics(periods=wanted, missing_periods=[p for p in wanted if p not in taken], rows=rows)


def by_category(rows: list[StatisticRow]) -> list[StatisticRow]:
    """Rows of the categories A–T, each with its group's enrolment (not split by category), and a row
    for the entries with no category yet (category "" here): all entries less those of A–T."""
    out: list[StatisticRow] = []
    totals = {_key(r): r for r in rows if r.category == ALL}
    named: dict[tuple[str, str, str | None, str], list[StatisticRow]] = {}
    for row in rows:
        if row.category != ALL:
            named.setdefault(_key(row), []).append(row)
    for key, total in totals.items():
        parts = named.get(key, [])
        out += [replace(r, enrolled=total.enrolled, population=total.population) for r in parts]
        rest = {name: getattr(total, name) - sum(getattr(r, name) for r in parts) for name in COUNTS[1:]}
        if any(rest.values()):
            out.append(replace(total, **rest))
    return out


def _key(row: StatisticRow) -> tuple[str, str, str | None, str]:
    return (row.region_path, row.period, row.stage, row.special_group)


async def take_statistics(ctx: Context, first: date, last: date) -> int:
    """Take the month-end statistics of the months from `first`'s to `last`'s again (the operator's CLI)."""
    if not ctx.operator:
        raise Forbidden()
    return await period_statistics.snapshot(ctx.session, first, last)
