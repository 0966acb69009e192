"""Who has not submitted for a period, at every level, and how many days late (issue 6 item 7): the tree
a dashboard draws, from a region down to the units that report on the period's cadence (POLICY 004 §4–§7).

- The period's format says the cadence and so the reporting units: `2026-03` schools (monthly, §4),
  `2026-Q1` counties (quarterly, §5), `2026-SPRING` cities (each semester, §6), `2025-2026` provinces
  (each school year, §7); `2026-SPRING-MIDTERM` the counties of cities keeping Guyuan's survey.
  Schools hang under their county; regions go province → city → county.
- A unit is NOT_STARTED without a report, else its report's status. SUBMITTED and APPROVED count as
  submitted. A draft never submitted is seen only by those who work on it (`common.may_read`): to the
  levels above, that unit has not started.
- Deadlines are the unit's province's (`province_setting`); a unit still owing its report after the
  deadline is overdue by the days from the deadline to today (China time).
- Three reads whatever the tree's size: the regions, the schools (monthly), the period's reports.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime

from models.base import today
from models.region import NATION_CODE, NATION_PATH, RegionLevel
from models.reporting_calendar import (
    CADENCE_OF_LEVEL,
    Cadence,
    Period,
    ReportingRules,
    ReportLevel,
    days_late,
    parse_period,
    rules_of,
)
from models.repos import reporting_status as status_repo
from models.repos import settings as settings_repo
from models.repos.reporting_status import Place
from models.repos.reports import REPORT_SCOPE_COLUMNS, readable

from ..context import Context
from ..errors import BadInput, unknown_region
from ..geography.regions import get_regions
from .common import REPORT, city_of, own_unit_paths


class NodeLevel(enum.StrEnum):
    """Where a region sits: the nation (the ministry's view) or a region's level."""

    NATION = "NATION"
    PROVINCE = "PROVINCE"
    CITY = "CITY"
    COUNTY = "COUNTY"
    TOWNSHIP = "TOWNSHIP"
    VILLAGE = "VILLAGE"


DEPTH = {level: n for n, level in enumerate(NodeLevel)}
# Guyuan's term survey is a county's, in the cities that keep that calendar (POLICY 003 §2(二)).
LEVEL_OF_CADENCE = {cadence: level for level, cadence in CADENCE_OF_LEVEL.items()} | {
    Cadence.TERM_SURVEY: ReportLevel.COUNTY
}
# The lowest region of the tree: a reporting region itself, or the county its schools hang under.
BOTTOM = {
    ReportLevel.SCHOOL: NodeLevel.COUNTY,
    ReportLevel.COUNTY: NodeLevel.COUNTY,
    ReportLevel.CITY: NodeLevel.CITY,
    ReportLevel.PROVINCE: NodeLevel.PROVINCE,
}
UNIT_NAMES = {
    ReportLevel.SCHOOL: "学校",
    ReportLevel.COUNTY: "县区",
    ReportLevel.CITY: "地市",
    ReportLevel.PROVINCE: "省",
}
PERIOD_FORMS = "YYYY-MM、YYYY-Qn、YYYY-SPRING|AUTUMN、YYYY-YYYY、YYYY-SPRING|AUTUMN-OPENING|MIDTERM|CLOSING"


@dataclass(frozen=True)
class Jurisdiction:
    """A region a reporting read is about (or the nation), with its path."""

    code: str
    name: str
    path: str
    level: NodeLevel


class UnitState(enum.StrEnum):
    NOT_STARTED = "NOT_STARTED"  # no report yet
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    RETURNED = "RETURNED"
    APPROVED = "APPROVED"


SUBMITTED = (UnitState.SUBMITTED, UnitState.APPROVED)


@dataclass(frozen=True)
class UnitStatus:
    """One reporting unit's standing for the period."""

    code: str
    name: str
    level: ReportLevel
    report_id: int | None
    state: UnitState
    due_on: date
    submitted_at: datetime | None  # the first submission
    days_late: int  # submitted: as stored at the first submission; else days past the deadline so far
    overdue: bool  # not submitted, and the deadline has passed

    @property
    def submitted(self) -> bool:
        return self.state in SUBMITTED


@dataclass
class StatusNode:
    """A region of the tree with its sub-regions, its own reporting units and their counts."""

    code: str
    name: str
    level: NodeLevel
    path: str
    children: list[StatusNode] = field(default_factory=list)
    units: list[UnitStatus] = field(default_factory=list)
    expected: int = 0
    submitted: int = 0
    approved: int = 0
    overdue: int = 0
    max_days_late: int = 0

    @property
    def not_submitted(self) -> int:
        return self.expected - self.submitted


@dataclass(frozen=True)
class ReportingStatus:
    period: Period  # its `due` is the default rules': each unit carries its province's
    unit_level: ReportLevel
    as_of: date
    root: StatusNode


async def report_region(ctx: Context, region_code: str, field: str = "regionCode") -> Jurisdiction:
    """The region a reporting read is about, with REPORT:READ over all of it. UNKNOWN_REGION when it does
    not exist, when the caller cannot see it (a neighbour's), and when the caller only sees its name from
    below (a county asking about its city): one answer for all three. `CN` is the nation."""
    access = ctx.access()
    if region_code == NATION_CODE:
        place = Jurisdiction(NATION_CODE, "全国", NATION_PATH, NodeLevel.NATION)
    else:
        region = (await get_regions(ctx, [region_code])).get(region_code)
        if region is None:
            raise unknown_region(field)
        place = Jurisdiction(region.code, region.name, region.path, NodeLevel(region.level.value))
    if access.allows(REPORT, "READ", {"EDU": [place.path]}) is None:
        raise unknown_region(field)
    return place


def parse_any_period(code: str) -> Period:
    """The period a code names, whichever cadence its format is (BAD_PERIOD when none)."""
    for cadence in LEVEL_OF_CADENCE:
        span = parse_period(cadence, code)
        if span is not None:
            return span
    raise BadInput(
        "period",
        "BAD_PERIOD",
        f"报告期格式应为 {PERIOD_FORMS} 之一",
        f"the period must look like one of {PERIOD_FORMS}",
    )


async def reporting_status(ctx: Context, *, region_code: str, period: str) -> ReportingStatus:
    """The reporting tree of `region_code` for the period: every unit inside it that owes a report."""
    span = parse_any_period(period)
    root = await report_region(ctx, region_code)
    unit_level = LEVEL_OF_CADENCE[span.cadence]
    bottom = BOTTOM[unit_level]
    if unit_level is not ReportLevel.SCHOOL and DEPTH[root.level] > DEPTH[bottom]:
        raise BadInput(
            "regionCode",
            "BAD_LEVEL",
            f"{root.name}在本期报告单位（{UNIT_NAMES[unit_level]}）之下：请查询上级区划",
            f"{root.code} lies below the {unit_level.value.lower()}s that report for {span.code}: ask about one above",
        )
    access, session = ctx.access(), ctx.session
    below = [n for n in NodeLevel if n is not NodeLevel.NATION and DEPTH[root.level] <= DEPTH[n] <= DEPTH[bottom]]
    levels = [RegionLevel(n.value) for n in below]
    regions = await status_repo.regions_below(
        session,
        scope=access.scope(REPORT, "READ", status_repo.REGION_SCOPE_COLUMNS),
        root_path=root.path,
        levels=levels,
    )
    tree = StatusNode(root.code, root.name, root.level, root.path)
    nodes = {root.path: tree}
    owing: list[tuple[StatusNode, Place]] = []  # each reporting unit with the region it hangs under
    if unit_level is not ReportLevel.SCHOOL and root.level is bottom:
        owing.append((tree, Place(root.code, root.name, root.path, RegionLevel(root.level.value))))
    for place in regions:  # by path: a region comes after the regions above it
        if place.path == root.path:
            continue
        parent = _nearest(nodes, place.path)
        level = NodeLevel(str(place.level))
        if unit_level is not ReportLevel.SCHOOL and level is bottom:
            owing.append((parent, place))
            continue
        node = StatusNode(place.code, place.name, level, place.path)
        parent.children.append(node)
        nodes[place.path] = node
    if unit_level is ReportLevel.SCHOOL:
        scope = access.scope(REPORT, "READ", status_repo.SCHOOL_SCOPE_COLUMNS)
        schools = await status_repo.schools_below(session, scope=scope, root_path=root.path)
        owing += [(_nearest(nodes, s.path), s) for s in schools]
    reports = {
        r.unit_code: r
        for r in await status_repo.reports_of_period(
            session,
            scope=readable(access.scope(REPORT, "READ", REPORT_SCOPE_COLUMNS), drafts_of=own_unit_paths(ctx)),
            root_path=root.path,
            cadence=span.cadence,
            period=span.code,
        )
    }
    rules = await _rules(ctx, {place.path[:2] for _, place in owing})
    if span.cadence is Cadence.TERM_SURVEY:  # only where the city keeps Guyuan's calendar
        kept = await settings_repo.term_survey_cities(session, {city_of(place.path) for _, place in owing})
        owing = [(parent, place) for parent, place in owing if city_of(place.path) in kept]
    on = today()
    for parent, place in owing:
        due = _due(span, rules.get(place.path[:2]))
        parent.units.append(_unit(place, unit_level, reports.get(place.code), due, on))
    _tally(tree)
    return ReportingStatus(span, unit_level, on, tree)


def _nearest(nodes: dict[str, StatusNode], path: str) -> StatusNode:
    """The closest region of the tree above `path` (the root at least: every path lies inside it)."""
    parts = path.split("/")
    for n in range(len(parts) - 1, -1, -1):
        found = nodes.get("/".join(parts[:n]))
        if found is not None:
            return found
    raise LookupError(path)  # not inside the root: the queries are bounded by it, so never


async def _rules(ctx: Context, province_codes: set[str]) -> dict[str, ReportingRules]:
    settings = await status_repo.province_settings(ctx.session, province_codes)
    return {code: rules_of(settings.get(code)) for code in province_codes}


def _due(span: Period, rules: ReportingRules | None) -> date:
    if rules is None:
        return span.due
    own = parse_period(span.cadence, span.code, rules)
    return own.due if own is not None else span.due


def _unit(place: Place, level: ReportLevel, report: status_repo.PeriodReport | None, due: date, on: date) -> UnitStatus:
    state = UnitState(report.status.value) if report is not None else UnitState.NOT_STARTED
    submitted = state in SUBMITTED
    late = (report.days_late or 0) if report is not None and submitted else days_late(due, on)
    return UnitStatus(
        code=place.code,
        name=place.name,
        level=level,
        report_id=report.id if report is not None else None,
        state=state,
        due_on=due,
        submitted_at=report.first_submitted_at if report is not None else None,
        days_late=late,
        overdue=not submitted and on > due,
    )


def _tally(node: StatusNode) -> None:
    """Counts of the units below a node, bottom up; children and units ordered by code."""
    node.children.sort(key=lambda c: c.code)
    node.units.sort(key=lambda u: u.code)
    for child in node.children:
        _tally(child)
    node.expected = len(node.units) + sum(c.expected for c in node.children)
    node.submitted = sum(u.submitted for u in node.units) + sum(c.submitted for c in node.children)
    node.approved = sum(u.state is UnitState.APPROVED for u in node.units) + sum(c.approved for c in node.children)
    node.overdue = sum(u.overdue for u in node.units) + sum(c.overdue for c in node.children)
    node.max_days_late = max([u.days_late for u in node.units] + [c.max_days_late for c in node.children], default=0)
