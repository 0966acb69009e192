"""`reports(filter, first, after)` and `node` on Report, compiled (issue 18 §2).

The read decision is the normal path's own predicate (`reports.reading.readable_reports`: REPORT:READ
over the unit, a draft only for those who work on it), in the list's page query and in `node`.
A report's own columns compile (level, cadence, period and its days, unit, status, first submission,
days late, version, `locked`, `late` through the SQL twins of their rules), and so do `current` (its
columns) and `submittedBy` / `submittedAt`: the version `current_shown` picks among those
`shown_versions` shows the caller, through their SQL twins. The rest (`versions`, `approvedBy`, the
tables and lists, a version's computed fields, `downloadUrl`…) falls back to strawberry.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select

from models.report import Report, ReportRevision, ReportStatus, ReviewDecision, is_late_sql, is_locked_sql
from models.reporting_calendar import Cadence, ReportLevel
from models.repos.reports import ReportFilter

from ..context import Context
from ..reports.common import own_unit_paths
from ..reports.reading import (
    current_shown_order,
    readable_reports,
    reports_page_query,
    shown_sql,
    works_on_sql,
)
from .connection import CompiledAnswer, answer_connection, check_connection
from .jsonsql import Builder, Expr, enum_name, global_id, iso_datetime, select_object, typename
from .selection import Selected, only

REPORT = Report.__table__  # type: ignore[attr-defined]
REVISION = ReportRevision.__table__  # type: ignore[attr-defined]

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


VERSION_FIELDS: dict[str, Builder] = {
    "__typename": typename("ReportVersion"),
    "id": lambda _s: global_id("ReportVersion", REVISION.c.id),
    "number": lambda _s: REVISION.c.number,
    "status": lambda _s: enum_name(REVISION.c.status, ReportStatus),
    "asOf": lambda _s: REVISION.c.as_of,
    "generatedBy": lambda _s: REVISION.c.generated_by,
    "generatedAt": lambda _s: iso_datetime(REVISION.c.generated_at),
    "unitsExpected": lambda _s: REVISION.c.units_expected,
    "submittedBy": lambda _s: REVISION.c.submitted_by,
    "submittedAt": lambda _s: iso_datetime(REVISION.c.submitted_at),
    "daysLate": lambda _s: REVISION.c.days_late,
    "cosignedBy": lambda _s: REVISION.c.cosigned_by,
    "cosignedAt": lambda _s: iso_datetime(REVISION.c.cosigned_at),
    "cosignNote": lambda _s: REVISION.c.cosign_note,
    "reviewedBy": lambda _s: REVISION.c.reviewed_by,
    "reviewedAt": lambda _s: iso_datetime(REVISION.c.reviewed_at),
    "decision": lambda _s: enum_name(REVISION.c.decision, ReviewDecision),
    "reviewReasons": lambda _s: REVISION.c.review_reasons,
    "returnedBy": lambda _s: REVISION.c.returned_by,
    "returnedAt": lambda _s: iso_datetime(REVISION.c.returned_at),
    "returnReason": lambda _s: REVISION.c.return_reason,
}
FROM_CURRENT = ("submittedBy", "submittedAt")  # a Report's fields that are its current version's
REPORT_NAMES = frozenset({*REPORT_FIELDS, *FROM_CURRENT, "current"})


def check_report(selection: tuple[Selected, ...], where: str = "Report") -> None:
    only(selection, REPORT_NAMES, where)
    for field in selection:
        if field.name == "current":
            only(field.children, frozenset(VERSION_FIELDS), f"{where}.current")


def check_reports(selection: tuple[Selected, ...]) -> None:
    check_connection(selection, check_report)


@dataclass
class ReportSql:
    """A Report's JSON for one caller: its columns, and its current version among those shown to the
    caller (`works_on`: `works_on_sql` of the report's unit). Nothing personal: no audit."""

    works_on: ColumnElement[bool]

    @staticmethod
    def grants(ctx: Context) -> Hashable:
        """What this SQL inlines of the caller: the units whose drafts it works on."""
        return tuple(sorted(own_unit_paths(ctx)))

    def current(self, value: Any) -> Expr:
        """`value` over the report's current version as `current_shown` picks it among those shown."""
        return (
            select(value)
            .where(REVISION.c.report_id == REPORT.c.id, shown_sql(REVISION.c.status, self.works_on))
            .order_by(*current_shown_order(REVISION.c.number, REPORT.c.revision))
            .limit(1)
            .scalar_subquery()
        )

    def fields(self) -> dict[str, Builder]:
        out = dict(REPORT_FIELDS)
        out["current"] = lambda s: self.current(select_object(s.children, VERSION_FIELDS))
        for name in FROM_CURRENT:
            out[name] = self.from_current(VERSION_FIELDS[name])
        return out

    def from_current(self, version_field: Builder) -> Builder:
        return lambda s: self.current(version_field(s))

    def object(self, selection: tuple[Selected, ...]) -> Expr:
        return select_object(selection, self.fields())

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
    works_on = works_on_sql(ctx, REPORT.c.unit_path)
    return await answer_connection(
        ctx,
        page,
        selection,
        "Report",
        REPORT,
        lambda: ReportSql(works_on),
        grants=ReportSql.grants(ctx),
        has_previous=after is not None,
    )


async def report_node(ctx: Context, selection: tuple[Selected, ...], *, node_id: int) -> CompiledAnswer:
    """`node(id:)` for a Report: where the caller may read it (`readable_reports`), else null, as the
    normal path answers a report out of view like a missing one."""
    found = REPORT.c.id == node_id
    report = ReportSql(works_on_sql(ctx, REPORT.c.unit_path))
    json = select(report.object(selection)).where(found, readable_reports(ctx, listing=False))
    return CompiledAnswer(data=(await ctx.session.execute(select(json.scalar_subquery()))).scalar(), audited=[])
