"""The budgets in /metrics (README, Budgets): read from the database at each scrape, so every process
reports the same numbers, for the accounts that spent in the current minute (queries) or today (exports)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.repos import budgets as budget_repo

QUERY_REMAINING = Gauge(
    "baoxue_query_budget_remaining", "Query cost an account may still spend this minute", ["account"]
)
QUERY_ALLOWANCE = Gauge("baoxue_query_budget_allowance", "Query cost an account may spend per minute", ["account"])
EXPORT_REMAINING = Gauge("baoxue_export_rows_remaining", "Export rows an account may still receive today", ["account"])
EXPORT_ALLOWANCE = Gauge("baoxue_export_rows_allowance", "Export rows an account may receive per day", ["account"])
BUDGET_REFUSALS = Counter("baoxue_budget_refusals_total", "Requests refused because a budget was spent", ["budget"])


async def publish_budgets(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Set the gauges from the database: accounts not spending now drop out of them."""
    async with sessions() as session:
        queries = await budget_repo.query_windows_now(session)
        exports = await budget_repo.export_days_today(session)
    for remaining, allowance, standings in (
        (QUERY_REMAINING, QUERY_ALLOWANCE, queries),
        (EXPORT_REMAINING, EXPORT_ALLOWANCE, exports),
    ):
        remaining.clear()
        allowance.clear()
        for s in standings:
            remaining.labels(account=s.username).set(max(0, s.allowance - s.spent))
            allowance.labels(account=s.username).set(s.allowance)
