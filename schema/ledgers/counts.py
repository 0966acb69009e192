"""Ledger counts (汇总): counts of open ledger cases by region, ledger, status, stage and category, and
month-end statistics with rates by region, period, stage, category and special group."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from models.child import SpecialGroup
from models.period_statistics import ALL, rate
from resolvers.ledgers import counts
from resolvers.ledgers.counts import Statistics

from ..context import Info
from ..enums import DropoutCategory, EntryStatus, Ledger, Stage


@strawberry.enum(description="汇总到哪一级 / the level counts are summed to")
class AggregateLevel(Enum):
    PROVINCE = strawberry.enum_value("PROVINCE", description="省 / province")
    CITY = strawberry.enum_value("CITY", description="市 / city")
    COUNTY = strawberry.enum_value("COUNTY", description="县 / county")


@strawberry.enum(description="表1计入 / what Table 1 counts a case as (who is absent now, issue 14 §2)")
class CountedAs(Enum):
    SUSPECTED = strawberry.enum_value("SUSPECTED", description="疑似辍学（未到校）/ suspected: not at school")
    DROPOUT = strawberry.enum_value("DROPOUT", description="辍学（未到校）/ dropout: not at school")
    RETURNED = strawberry.enum_value(
        "RETURNED", description="已返校，待安置销号：不计入疑似、辍学 / back at school, awaiting close-out: neither"
    )


@strawberry.type(description="台账汇总的一行 / one line of the ledger counts.")
class LedgerCountRow:
    region_code: str = strawberry.field(description="区划代码（责任地）/ region (where the case is answered for).")
    ledger: Ledger = strawberry.field(description="台账 / ledger.")
    status: EntryStatus = strawberry.field(description="状态（未销号）/ status (not closed).")
    stage: Stage = strawberry.field(description="学段 / stage.")
    category: DropoutCategory | None = strawberry.field(description="辍学类别，未定为空 / category, null if not set.")
    entries: int = strawberry.field(description="人数 / how many children.")
    counted_as: CountedAs = strawberry.field(
        description="表1计入：状态 RETURNED 为已返校，不计入疑似或辍学 / how Table 1 and the statistics count these "
        "children: a RETURNED row is back at school awaiting close-out, not suspected nor a dropout."
    )


async def ledger_counts(
    info: Info, region_code: str | None = None, by: AggregateLevel = AggregateLevel.CITY
) -> list[LedgerCountRow]:
    rows = await counts.ledger_counts_by(info.context, region_code=region_code, by=by.name)
    return [
        LedgerCountRow(
            region_code=r.region_path.rsplit("/", 1)[-1],
            ledger=Ledger(r.ledger),
            status=EntryStatus(r.status),
            stage=Stage(r.stage),
            category=DropoutCategory(r.category) if r.category else None,
            entries=r.entries,
            counted_as=CountedAs.RETURNED if r.status == EntryStatus.RETURNED.value else CountedAs(r.ledger),
        )
        for r in rows
    ]


@strawberry.enum(description="统计维度 / a dimension the statistics are split by")
class StatisticDimension(Enum):
    STAGE = strawberry.enum_value("STAGE", description="学段 / stage")
    CATEGORY = strawberry.enum_value(
        "CATEGORY",
        description="辍学类别 A–T，另有 category 为空的一行：尚未定类 / dropout category A–T, and a row with "
        "category null for the entries that have none yet",
    )
    SPECIAL_GROUP = strawberry.enum_value(
        "SPECIAL_GROUP",
        description="重点群体（属多个群体的儿童在每个群体中各计一次）/ special group: a child in several groups "
        "counts in each",
    )


@strawberry.type(
    description="月末统计的一行（无个人信息）/ one line of the month-end statistics (no personal data). Stocks "
    "(enrolled, suspected, dropouts, deferred) are as of the end of the month's last day, China time; flows "
    "(cases, returned, placed, closedOut) happened within the month. Entries count under the county answering "
    "for them, with their stage and category and the child's special groups as they stood when the month was "
    "taken (takenAt)."
)
class LedgerStatisticRow:
    region_code: str = strawberry.field(description="区划代码（责任地）/ region (where the cases are answered for).")
    period: str = strawberry.field(description="月份 YYYY-MM / the month.")
    stage: Stage | None = strawberry.field(description="学段；未按学段分时为空 / stage; null unless split by STAGE.")
    special_group: SpecialGroup | None = strawberry.field(
        description="重点群体；未按群体分时为空（全体儿童）/ special group; null unless split by SPECIAL_GROUP "
        "(all children)."
    )
    category: DropoutCategory | None = strawberry.field(
        description="辍学类别；未按类别分时为空（全部），按类别分时为空表示尚未定类 / dropout category; null "
        "means all entries, or, when split by CATEGORY, the entries with no category yet."
    )
    enrolled: int = strawberry.field(
        description="在校人数：在本区划学校有学籍、月末不在辍学台账上的儿童；按取数时的学籍计（无学籍历史），不按"
        "类别分 / children in school: holding a place at a school of the region and not on the dropout ledger "
        "at the month's end. Places as they were when the month was taken (there is no enrolment history); "
        "not split by category: a category's row repeats its group's enrolment."
    )
    population: int = strawberry.field(
        description="应在校人数 = enrolled + 各类辍学人数合计（比率的分母）/ children the region answers for = "
        "enrolled + dropouts of every category: the denominator of dropoutRate and suspectedRate."
    )
    suspected: int = strawberry.field(
        description="月末疑似辍学台账在册（未销号）人数 / on the suspected-dropout ledger at the month's end "
        "(opened by then, not closed out by then), not back at school by then: a returned child awaiting "
        "close-out counts in awaitingCloseOut (Table 1 counts who is absent now, POLICY 003 annex 1 note 1)."
    )
    dropouts: int = strawberry.field(
        description="月末辍学台账在册（未销号）人数 / on the dropout ledger at the month's end (opened by then, "
        "not closed out by then), not back at school by then (see suspected)."
    )
    deferred: int = strawberry.field(
        description="月末延缓入学人数：在册、已批准延缓且未返校 / of those on a ledger at the month's end, "
        "deferred: a deferral approved by then and not back at school by then."
    )
    cases: int = strawberry.field(
        description="本月在册案件数：本月内任何时间在台账上的记录（疑似转辍学只计一件）/ cases on a ledger at any "
        "time in the month (a suspected entry superseded by its dropout entry is not counted twice)."
    )
    returned: int = strawberry.field(description="本月返校人数 / cases back at school within the month.")
    awaiting_close_out: int = strawberry.field(
        description="月末已返校待安置销号人数（不计入疑似、辍学）/ back at school by the month's end and not yet "
        "closed out: counted as returned, not as suspected or dropouts (issue 14 §2)."
    )
    placed: int = strawberry.field(description="本月安置人数 / returned children placed within the month.")
    closed_out: int = strawberry.field(
        description="本月销号人数（不含疑似转入辍学）/ cases closed out (销号) within the month, not counting "
        "suspected entries superseded by their dropout entries."
    )
    taken_at: datetime = strawberry.field(description="取数时间 / when the month's rows were taken.")

    dropout_rate: float | None = strawberry.field(
        description="辍学率 = dropouts / population（分母为 0 时为空）/ dropout rate = dropouts / population "
        "(enrolled + all dropouts); null when the population is 0. A category's row gives its share of the "
        "population."
    )
    suspected_rate: float | None = strawberry.field(
        description="疑似辍学率 = suspected / population（分母为 0 时为空）/ suspected rate = suspected / "
        "population; null when the population is 0."
    )
    return_rate: float | None = strawberry.field(
        description="返校率 = returned / cases：本月在册案件中本月返校的比例（分母为 0 时为空）/ return rate = "
        "returned / cases: of the month's cases, the share back at school within the month; null without cases."
    )


@strawberry.type(description="月末统计 / month-end statistics and the months asked for.")
class LedgerStatistics:
    periods: list[str] = strawberry.field(description="所查月份 / the months asked for (YYYY-MM, in order).")
    missing_periods: list[str] = strawberry.field(
        description="尚未取数的月份（无数据行）：运行 baoxue stats snapshot / months asked for that have not been "
        "taken yet (no rows): run `baoxue stats snapshot`."
    )
    rows: list[LedgerStatisticRow] = strawberry.field(
        description="区划 × 月份 × 所选维度，按此顺序排列 / rows per region × month × chosen dimensions, in that "
        "order; a month without rows in my scope has none."
    )


async def ledger_statistics(
    info: Info,
    region_code: Annotated[
        str | None, strawberry.argument(description="只看这个区划 / only this region (in my scope).")
    ] = None,
    by: Annotated[AggregateLevel, strawberry.argument(description="汇总到哪一级 / the level rows are summed to.")] = (
        AggregateLevel.CITY
    ),
    periods: Annotated[
        list[str] | None,
        strawberry.argument(
            description="月份 YYYY-MM，至多 60 个；默认截至本月的 12 个月 / months YYYY-MM, at "
            "most 60; default the 12 months up to the current one (China time)."
        ),
    ] = None,
    dimensions: Annotated[
        list[StatisticDimension],
        strawberry.argument(description="再按哪些维度分 / dimensions to split the rows by."),
    ] = [],  # noqa: B006 - read, never mutated; the SDL shows the default
) -> LedgerStatistics:
    found = await counts.ledger_statistics(
        info.context, region_code=region_code, by=by.name, periods=periods, dimensions=[d.name for d in dimensions]
    )
    return _statistics(found)


def _statistics(found: Statistics) -> LedgerStatistics:
    return LedgerStatistics(
        periods=found.periods,
        missing_periods=found.missing_periods,
        rows=[
            LedgerStatisticRow(
                region_code=r.region_path.rsplit("/", 1)[-1],
                period=r.period,
                stage=Stage(r.stage) if r.stage else None,
                special_group=SpecialGroup(r.special_group) if r.special_group != ALL else None,
                category=DropoutCategory(r.category) if r.category != ALL else None,
                enrolled=r.enrolled,
                population=r.population,
                suspected=r.suspected,
                dropouts=r.dropouts,
                deferred=r.deferred,
                cases=r.cases,
                returned=r.returned,
                awaiting_close_out=r.awaiting_close_out,
                placed=r.placed,
                closed_out=r.closed_out,
                taken_at=r.taken_at,
                dropout_rate=rate(r.dropouts, r.population),
                suspected_rate=rate(r.suspected, r.population),
                return_rate=rate(r.returned, r.cases),
            )
            for r in found.rows
        ],
    )
