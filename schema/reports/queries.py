"""Reading reports: the `reports` connection (filtered by level, cadence, period, status and region
subtree, scoped in SQL by REPORT:READ) and `report(id)`."""

from __future__ import annotations

import strawberry
from strawberry import relay

from models.report import ReportStatus
from models.reporting_calendar import Cadence, ReportLevel
from models.repos.reports import ReportFilter as RowFilter
from resolvers.reports import reading

from ..connection import Connection, to_connection
from ..context import Info
from ..nodes import node_id_of
from .types import Report


@strawberry.input(description="报告筛选 / filter for reports.")
class ReportFilter:
    level: ReportLevel | None = strawberry.field(default=None, description="层级 / level.")
    cadence: Cadence | None = strawberry.field(default=None, description="周期 / cadence.")
    period: str | None = strawberry.field(default=None, description="报告期 / period code, e.g. 2026-03.")
    status: list[ReportStatus] | None = strawberry.field(default=None, description="状态（任一）/ any of these.")
    region_code: str | None = strawberry.field(
        default=None, description="区划子树：本级及下级单位的报告 / reports of units inside this region."
    )


async def reports(
    info: Info, filter: ReportFilter | None = None, first: int | None = None, after: str | None = None
) -> Connection[Report]:
    f = filter or ReportFilter()
    page = await reading.list_reports(
        info.context,
        filter=RowFilter(level=f.level, cadence=f.cadence, period=f.period, statuses=tuple(f.status or ())),
        region_code=f.region_code,
        first=first,
        after=after,
    )
    return to_connection(page, node=Report.from_row, key=lambda r: str(r.id), after=after)


async def report(info: Info, id: relay.GlobalID) -> Report | None:
    found = await reading.get_reports(info.context, [node_id_of(id, "Report")])
    return Report.from_row(next(iter(found.values()))) if found else None
