"""The month-end statistics a province's bimonthly report (双月报, POLICY 004 §9) is drafted from: one month's
rows of `period_statistic` (models/period_statistics.py) inside a province, summed by stage and category."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import func
from sqlalchemy import select as select_columns
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..period_statistics import ALL, PeriodStatistic
from .paths import within_path


class StageCategory(NamedTuple):
    stage: str
    category: str  # "" for all entries
    enrolled: int
    suspected: int
    dropouts: int


async def month_end_figures(session: AsyncSession, root_path: str, period: str) -> list[StageCategory]:
    """Every child's rows (no special-group split) of the month `period` inside `root_path`, by stage and
    category; none when the month has not been taken (`baoxue stats snapshot`)."""
    stmt = (
        select_columns(
            col(PeriodStatistic.stage),
            col(PeriodStatistic.category),
            func.sum(PeriodStatistic.enrolled),
            func.sum(PeriodStatistic.suspected),
            func.sum(PeriodStatistic.dropouts),
        )
        .where(
            col(PeriodStatistic.period) == period,
            col(PeriodStatistic.special_group) == ALL,
            within_path(col(PeriodStatistic.county_path), root_path),
        )
        .group_by(col(PeriodStatistic.stage), col(PeriodStatistic.category))
    )
    return [
        StageCategory(s, c, int(e or 0), int(su or 0), int(d or 0)) for s, c, e, su, d in await session.execute(stmt)
    ]
