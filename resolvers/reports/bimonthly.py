"""The ministry's bimonthly dispatch (双月报, POLICY 004 §9: 教育部通过基础教育重点任务"双月报"加强对各地控辍保学
工作调度): a province's report for two months (`2026-B1` … `2026-B6`), sent to the ministry like its school-year
assessment (drafted and submitted by the provincial department, re-checked by the ministry, one level up).

Its Table 1 is the month-end statistics (`ledgerStatistics`, models/period_statistics.py) of the period's second
month for the whole province: should attend = enrolled + dropouts (the population), suspected and dropouts by
stage, dropouts by category A–T. It sums no reports below and assesses no cities; on leave is not counted in the
month-end statistics and stays 0. A month not yet taken is refused (STATISTICS_MISSING): `baoxue stats snapshot`
or the nightly `baoxue ledger sweep` takes it.
"""

from __future__ import annotations

from models.child import Stage
from models.ledger import DropoutCategory
from models.period_statistics import ALL
from models.region import Region
from models.report_tables import STAGES, Figures, figure_row
from models.reporting_calendar import Period
from models.repos import bimonthly as bimonthly_repo

from ..context import Context
from ..errors import BadInput
from .snapshot import Snapshot


def second_month(period: Period) -> str:
    """The month whose end the report describes: the period's last (`2026-B1` → `2026-02`)."""
    return f"{period.end.year:04d}-{period.end.month:02d}"


async def bimonthly_snapshot(ctx: Context, province: Region, period: Period, revision_id: int) -> Snapshot:
    month = second_month(period)
    rows = await bimonthly_repo.month_end_figures(ctx.session, province.path, month)
    if not rows:
        raise BadInput(
            "period",
            "STATISTICS_MISSING",
            f"{month} 的月末统计尚未生成（baoxue stats snapshot）",
            f"the month-end statistics of {month} have not been taken yet (baoxue stats snapshot)",
        )
    by_stage = {stage: Figures() for stage in STAGES}
    for row in rows:
        figures = by_stage.setdefault(Stage(row.stage), Figures())
        if row.category == ALL:
            figures.should_attend += row.enrolled + row.dropouts
            figures.suspected += row.suspected
            figures.dropouts += row.dropouts
        else:
            category = DropoutCategory(row.category)
            figures.by_category[category] = figures.by_category.get(category, 0) + row.dropouts
    return Snapshot(
        figures=[figure_row(revision_id, stage, by_stage[stage], province.code[:2]) for stage in STAGES],
        children=[],
    )
