"""`reports(filter, first, after)` and `node` on Report, compiled (issue 18 §2).

The read decision is the normal path's own predicate (`reports.reading.readable_reports`: REPORT:READ
over the unit, a draft only for those who work on it), in the list's page query and in `node`.
A report's own columns compile (level, cadence, period and its days, unit, status, first submission,
days late, version, `locked`, `late` through the SQL twins of their rules); the fields read from its
versions (`current`, `versions`, `submittedBy`, `approvedBy`…, the tables and lists) and `downloadUrl`
fall back to strawberry.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select

from models.report import Report, ReportStatus, is_late_sql, is_locked_sql
from models.reporting_calendar import Cadence, ReportLevel
from models.repos.reports import ReportFilter

from ..context import Context
from ..reports.reading import readable_reports, reports_page_query
from .connection import CompiledAnswer, answer_connection, check_connection
from .jsonsql import Builder, Expr, enum_name, global_id, iso_datetime, select_object, typename
from .selection import Selected, only

REPORT = Report.__table__  # type: ignore[attr-defined]

REPORT_FIELDS: dict[str, Builder] = {
    "__typename": typename("Report"),
    "id": lambda _s: global_id("Report", REPORT.c.id),
    "level": lambda _s: enum_name(REPORT.c.level, ReportLevel),
    "cadence": lambda _s: enum_name(REPORT.c.cadence, Cadence),
    "period": lambda _s: REPORT.c.period,
    "periodStart": lambda _s: REPORT.c.period_start,
    "periodEnd": lambda _s: REPORT.c.period_end,
    "dueOn": lambda _s: REPORT.c.due_on,
    "unitCode": lambda _s: REPORT.c.unit_code,
    "unitName": lambda _s: REPORT.c.unit_name,
    "status": lambda _s: enum_name(REPORT.c.status, ReportStatus),
    "firstSubmittedAt": lambda _s: iso_datetime(REPORT.c.first_submitted_at),
    "daysLate": lambda _s: REPORT.c.days_late,
    "version": lambda _s: REPORT.c.version,
    "locked": lambda _s: is_locked_sql(REPORT.c.status),
    "late": lambda _s: is_late_sql(REPORT.c.days_late),
}


def check_report(selection: tuple[Selected, ...], where: str = "Report") -> None:
    only(selection, frozenset(REPORT_FIELDS), where)


def check_reports(selection: tuple[Selected, ...]) -> None:
    check_connection(selection, check_report)


class ReportSql:
    """A Report's JSON: its own columns, no read decision beyond the row's (nothing personal: no audit)."""

    def object(self, selection: tuple[Selected, ...]) -> Expr:
        return select_object(selection, REPORT_FIELDS)

    def audited(self, selection: tuple[Selected, ...]) -> ColumnElement[bool] | None:
        return None


async def reports(
    ctx: Context, selection: tuple[Selected, ...], *, filter: Any, first: int | None, after: str | None
) -> CompiledAnswer:
    """`reports`: the connection's JSON over the normal path's page of readable reports."""
    page = await reports_page_query(
        ctx,
        filter=ReportFilter(
            level=getattr(filter, "level", None),
            cadence=getattr(filter, "cadence", None),
            period=getattr(filter, "period", None),
            statuses=tuple(getattr(filter, "status", None) or ()),
        ),
        region_code=getattr(filter, "region_code", None),
        first=first,
        after=after,
    )
    return await answer_connection(
        ctx, page, selection, "Report", REPORT, ReportSql, grants=(), has_previous=after is not None
    )


async def report_node(ctx: Context, selection: tuple[Selected, ...], *, node_id: int) -> CompiledAnswer:
    """`node(id:)` for a Report: where the caller may read it (`readable_reports`), else null, as the
    normal path answers a report out of view like a missing one."""
    found = REPORT.c.id == node_id
    json = select(select_object(selection, REPORT_FIELDS)).where(found, readable_reports(ctx, listing=False))
    return CompiledAnswer(data=(await ctx.session.execute(select(json.scalar_subquery()))).scalar(), audited=[])
