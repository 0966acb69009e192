"""`reportEvents`: the caller's units' reports submitted, returned or approved; reports awaiting the
caller's re-check (复核); and the caller's units' deadlines 3 days and 1 day ahead and passed
(POLICY 004 §3 快速发现与响应, 004 §4–§7; README "Live events").

A report event is re-read with the subscriber's access (`get_reports`, as `node(id:)` reads it). The
deadlines are computed from the reporting calendar (`models/reporting_calendar.py`, each province's
rules) when the subscription starts and then every `deadline_check_seconds`, for the current period and
the one before; each deadline event is sent once per subscription, and none once the report is submitted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from authz.catalogue import Level, level_of_path
from authz.errors import Forbidden
from authz.recheck import may_review
from models.base import utcnow
from models.report import Report, ReportStatus
from models.reporting_calendar import CADENCE_OF_LEVEL, Period, ReportLevel, period_containing
from models.repos import live as live_repo
from models.repos import reports as report_repo

from ..reports.common import REPORT, own_unit_paths, rules_for
from ..reports.reading import get_reports
from .context import LiveContext
from .events import Announcement, Kind, ReportEventType


@dataclass(frozen=True)
class Deadline:
    """A reporting deadline of one of the caller's units."""

    unit_code: str
    period: str
    due_on: date
    days_left: int  # negative once passed


@dataclass(frozen=True)
class ReportEvent:
    type: ReportEventType
    at: datetime
    report: Report | None
    deadline: Deadline | None = None


UNIT_LEVELS = {
    Level.SCHOOL: ReportLevel.SCHOOL,
    Level.COUNTY: ReportLevel.COUNTY,
    Level.CITY: ReportLevel.CITY,
    Level.PROVINCE: ReportLevel.PROVINCE,
}
DONE = (ReportStatus.SUBMITTED, ReportStatus.APPROVED)


def deadline_type(days_left: int) -> ReportEventType | None:
    """3 or 2 days left: IN_3_DAYS; 1 or 0: IN_1_DAY; past the due day: PASSED."""
    if days_left < 0:
        return ReportEventType.DEADLINE_PASSED
    if days_left <= 1:
        return ReportEventType.DEADLINE_IN_1_DAY
    if days_left <= 3:
        return ReportEventType.DEADLINE_IN_3_DAYS
    return None


async def report_events(ctx: LiveContext) -> AsyncIterator[ReportEvent]:
    """The caller's report events as they commit, and its deadlines as the days pass, until unsubscribed."""
    if not ctx.access().holds_anywhere(REPORT, "READ"):
        raise Forbidden()
    await ctx.between_events()
    assert ctx.hub is not None, "subscriptions run on a live connection"
    assert ctx.live is not None, "signed in at connection_init"
    subscription = ctx.hub.subscribe(ctx.live, Kind.REPORT)
    loop = asyncio.get_running_loop()
    sent: set[tuple[str, str, ReportEventType]] = set()
    next_check = loop.time()
    try:
        while True:
            if loop.time() >= next_check:
                next_check = loop.time() + ctx.deadline_check_seconds
                async with ctx.event():
                    for event in await deadlines(ctx, sent):
                        yield event
                continue
            try:
                announcement = await asyncio.wait_for(subscription.queue.get(), next_check - loop.time())
            except TimeoutError:
                continue
            async with ctx.event():
                found = await reread(ctx, announcement)
                if found is not None:
                    yield found
    finally:
        ctx.hub.unsubscribe(subscription)


async def reread(ctx: LiveContext, announcement: Announcement) -> ReportEvent | None:
    """The event as this subscriber may see it: its own unit's, or a submission it re-checks; else None."""
    report = (await get_reports(ctx, [str(announcement.id)])).get(str(announcement.id))
    if report is None:
        return None
    kind = ReportEventType(announcement.type)
    if report.unit_path in own_unit_paths(ctx):
        return ReportEvent(kind, announcement.occurred_at, report)
    if kind is ReportEventType.SUBMITTED and await _rechecks(ctx, report):
        return ReportEvent(ReportEventType.AWAITING_RECHECK, announcement.occurred_at, report)
    return None


async def _rechecks(ctx: LiveContext, report: Report) -> bool:
    """Does the caller re-check this submission (one level up, in scope, not its own: authz/recheck.py)?"""
    access = ctx.access()
    if access.allows(REPORT, "REVIEW", report_repo.report_scope_paths(report)) is None:
        return False
    revision = await report_repo.revision_of(ctx.session, report)
    decision = may_review(access, submission_path=report.unit_path, submitted_by=revision.submitted_by or "")
    return decision.allowed and revision.generated_by != access.username


async def _periods(ctx: LiveContext, unit_path: str, on: date) -> list[Period]:
    """The unit's current period and the one before, with its province's deadlines."""
    level = UNIT_LEVELS.get(level_of_path(unit_path))
    if level is None:
        return []
    cadence = CADENCE_OF_LEVEL[level]
    rules = await rules_for(ctx, unit_path[:2])
    current = period_containing(cadence, on, rules)
    if current is None:
        return []
    before = period_containing(cadence, current.start - timedelta(days=1), rules)
    return [p for p in (before, current) if p is not None]


async def deadlines(ctx: LiveContext, sent: set[tuple[str, str, ReportEventType]]) -> list[ReportEvent]:
    """The deadline events of the caller's units not yet sent on this subscription, as of today."""
    on = ctx.clock()
    due: list[tuple[str, Period, ReportEventType]] = []
    for unit_path in sorted(own_unit_paths(ctx)):
        unit = unit_path.rsplit("/", 1)[-1]
        for period in await _periods(ctx, unit_path, on):
            kind = deadline_type((period.due - on).days)
            if kind is not None and (unit, period.code, kind) not in sent:
                due.append((unit, period, kind))
    reports = await live_repo.unit_reports(ctx.session, [(u, p.cadence.value, p.code) for u, p, _ in due])
    readable = await get_reports(ctx, [str(r.id) for r in reports.values()])
    events: list[ReportEvent] = []
    for unit, period, kind in due:
        report = reports.get((unit, period.cadence.value, period.code))
        if report is not None and report.status in DONE:
            continue
        sent.add((unit, period.code, kind))
        shown = readable.get(str(report.id)) if report is not None else None
        deadline = Deadline(unit, period.code, period.due, (period.due - on).days)
        events.append(ReportEvent(kind, utcnow(), shown, deadline))
    return events
