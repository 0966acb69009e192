"""Who has not submitted for a period, at every level, and how many days late (issue 6 item 7): the
reporting tree a dashboard draws, from a region down to the units of the period's cadence (POLICY 004 §4–§7)."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry
from strawberry import relay

from models.reporting_calendar import Cadence, ReportLevel
from resolvers.reports import status as reporting

from ..context import Info


def _described(enum_cls: type[Enum], name: str, description: str, labels: dict[str, str]) -> None:
    strawberry.enum(enum_cls, name=name, description=description)
    for value in enum_cls.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = labels[value.value]


_described(
    reporting.UnitState,
    "ReportingUnitStatus",
    "报送情况 / a unit's standing for the period",
    {
        "NOT_STARTED": "未开始（尚无报告）/ not started: no report yet",
        "DRAFT": "草稿，未报送 / drafted, not submitted",
        "SUBMITTED": "已报送，待复核 / submitted, awaiting re-check",
        "RETURNED": "已退回，待更正重报 / returned, to be corrected and submitted again",
        "APPROVED": "复核通过 / approved",
    },
)
_described(
    reporting.NodeLevel,
    "ReportingNodeLevel",
    "树节点的级别 / level of a node of the reporting tree",
    {
        "NATION": "全国 / the nation",
        "PROVINCE": "省级 / province",
        "CITY": "地市级 / city or prefecture",
        "COUNTY": "县区级 / county or district",
        "TOWNSHIP": "乡镇街道 / township or subdistrict",
        "VILLAGE": "村（居）委会 / village or community",
    },
)


@strawberry.type(description="一个报告单位本期的报送情况 / one reporting unit's standing for the period.")
class ReportingUnit:
    code: str = strawberry.field(description="单位代码（学校或区划）/ school or region code.")
    name: str = strawberry.field(description="单位名称 / name.")
    level: ReportLevel = strawberry.field(description="层级 / reporting level.")
    report_id: relay.GlobalID | None = strawberry.field(description="报告 ID（尚无为空）/ the report, if any.")
    status: reporting.UnitState = strawberry.field(
        description="报送情况 / standing: NOT_STARTED or the report's status."
    )
    due_on: date = strawberry.field(description="报送截止日（本省设置）/ deadline, per the unit's province.")
    submitted_at: datetime | None = strawberry.field(description="首次报送时间 / first submitted at.")
    submitted: bool = strawberry.field(description="已报送（已报送或已通过）/ submitted or approved.")
    days_late: int = strawberry.field(
        description="逾期天数：已报送为首次报送时的逾期，未报送为截止日至今 / days late: at the first submission, "
        "or, not submitted, from the deadline to today."
    )
    overdue: bool = strawberry.field(description="逾期未报 / not submitted and past the deadline.")

    @classmethod
    def from_row(cls, row: reporting.UnitStatus) -> ReportingUnit:
        return cls(
            code=row.code,
            name=row.name,
            level=row.level,
            report_id=relay.GlobalID("Report", str(row.report_id)) if row.report_id is not None else None,
            status=row.state,
            due_on=row.due_on,
            submitted_at=row.submitted_at,
            submitted=row.submitted,
            days_late=row.days_late,
            overdue=row.overdue,
        )


@strawberry.type(
    description="报送情况树的一个区划节点 / a region of the reporting tree: counts of the units below it, "
    "its sub-regions and its own reporting units."
)
class ReportingStatusNode:
    code: str = strawberry.field(description="区划代码（全国为 CN）/ region code (CN for the nation).")
    name: str = strawberry.field(description="名称 / name.")
    level: reporting.NodeLevel = strawberry.field(description="级别 / level.")
    expected: int = strawberry.field(description="应报单位数 / units that owe a report.")
    submitted: int = strawberry.field(description="已报送（含已通过）/ submitted or approved.")
    approved: int = strawberry.field(description="复核通过 / approved.")
    not_submitted: int = strawberry.field(description="未报送 / not submitted.")
    overdue: int = strawberry.field(description="逾期未报 / not submitted and past the deadline.")
    max_days_late: int = strawberry.field(description="最长逾期天数 / the most days late below this node.")
    children: list[ReportingStatusNode] = strawberry.field(description="下级区划 / sub-regions, by code.")
    units: list[ReportingUnit] = strawberry.field(
        description="直属本节点的报告单位（学校挂在所属县下）/ reporting units under this region, by code "
        "(schools hang under their county)."
    )

    @classmethod
    def from_row(cls, row: reporting.StatusNode) -> ReportingStatusNode:
        return cls(
            code=row.code,
            name=row.name,
            level=row.level,
            expected=row.expected,
            submitted=row.submitted,
            approved=row.approved,
            not_submitted=row.not_submitted,
            overdue=row.overdue,
            max_days_late=row.max_days_late,
            children=[cls.from_row(c) for c in row.children],
            units=[ReportingUnit.from_row(u) for u in row.units],
        )


@strawberry.type(description="报送情况（谁未报、逾期几天）/ who has not submitted for a period, at every level.")
class ReportingStatus:
    period: str = strawberry.field(description="报告期 / period code.")
    cadence: Cadence = strawberry.field(description="周期（由报告期格式决定）/ cadence, from the period's format.")
    unit_level: ReportLevel = strawberry.field(description="报告单位层级 / the level that reports on it.")
    period_start: date = strawberry.field(description="报告期起 / first day.")
    period_end: date = strawberry.field(description="报告期止 / last day.")
    as_of: date = strawberry.field(description="统计日（今天，北京时间）/ today, China time: overdue as of it.")
    root: ReportingStatusNode = strawberry.field(description="树根：所查区划 / the tree, from the region asked about.")


async def reporting_status(info: Info, region_code: str, period: str) -> ReportingStatus:
    found = await reporting.reporting_status(info.context, region_code=region_code, period=period)
    return ReportingStatus(
        period=found.period.code,
        cadence=found.period.cadence,
        unit_level=found.unit_level,
        period_start=found.period.start,
        period_end=found.period.end,
        as_of=found.as_of,
        root=ReportingStatusNode.from_row(found.root),
    )
