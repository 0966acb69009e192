"""Term-start visits (开学时节进校、入户实地深度调研, POLICY 004 §5): "每年春季、秋季开学时节，要确保开展一次
'学校全覆盖、学生逐一核'式的进校、入户实地深度调研". Each spring and autumn term the county education
bureau visits every one of its schools and checks the students one by one.

- One visit per school and term (`2026-SPRING`, `2026-AUTUMN`), recorded and corrected (versioned) by
  the school's own county bureau only: REPORT:REVIEW held at the county itself (the level that
  re-checks the schools, §5), not a school, not the city above.
- The visit falls in the term: from the province's term start to the half-year's end, never later
  than today (China time).
- Coverage (学校全覆盖): a county's schools visited over its schools; a city or province, per county.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from authz.errors import Forbidden
from models.base import today
from models.ledger import county_of
from models.region import RegionLevel
from models.reporting_calendar import Cadence, ReportingRules, parse_period, term_start
from models.repos import reporting_status as status_repo
from models.repos import schools as school_repo
from models.repos import term_visits as visit_repo
from models.school import School
from models.term_visit import TermVisit

from ..audit import record_change
from ..context import Context
from ..errors import BadInput, unknown_school
from ..paging import parse_id
from ..versioning import check_version
from .common import REPORT, rules_for, unit_grant
from .status import NodeLevel, report_region

FINDINGS_MAX = 2000
HALVES = ("SPRING", "AUTUMN")


@dataclass(frozen=True)
class Term:
    """A term as the province has it: from its term start to the half-year's last day."""

    code: str
    start: date
    end: date


@dataclass(frozen=True)
class SchoolVisit:
    visit: TermVisit
    school: School


@dataclass
class Coverage:
    """Schools visited over schools (学校全覆盖) in a region for a term; per county below a city or province."""

    code: str
    name: str
    level: RegionLevel
    term: Term
    visits: list[SchoolVisit] = field(default_factory=list)
    not_visited: list[School] = field(default_factory=list)
    counties: list[Coverage] = field(default_factory=list)

    @property
    def schools(self) -> int:
        return len(self.visits) + len(self.not_visited)

    @property
    def visited(self) -> int:
        return len(self.visits)

    @property
    def rate(self) -> float | None:
        return self.visited / self.schools if self.schools else None


@dataclass(frozen=True)
class VisitInput:
    school_code: str
    term: str
    visited_on: date
    students_checked: int
    households_visited: int
    findings: str | None
    version: int | None


def term_of(code: str, rules: ReportingRules) -> Term | None:
    """The term a code names (`2026-SPRING`), with the province's term start; None when it names none."""
    span = parse_period(Cadence.SEMESTER, code, rules)
    if span is None:
        return None
    return Term(code, term_start(span.start.year, code.rsplit("-", 1)[1], rules), span.end)


def term_opening_in(start: date, end: date, rules: ReportingRules) -> Term | None:
    """The term whose start (the province's) falls between these days: Q1 → spring, Q3 → autumn."""
    for half in HALVES:
        opening = term_start(start.year, half, rules)
        if start <= opening <= end:
            return term_of(f"{start.year}-{half}", rules)
    return None


def _bad_term() -> BadInput:
    return BadInput(
        "term", "BAD_PERIOD", "学期格式应为 YYYY-SPRING 或 YYYY-AUTUMN", "the term must look like 2026-SPRING"
    )


async def record_term_visit(ctx: Context, given: VisitInput) -> SchoolVisit:
    """Record (or, with its version, correct) the county's visit to one school for one term."""
    school = (await school_repo.get_schools(ctx.session, [given.school_code])).get(given.school_code)
    if school is None or ctx.access().allows(REPORT, "READ", {"EDU": [school.path]}) is None:
        raise unknown_school("schoolCode")
    county_path = county_of(school.path)
    if unit_grant(ctx, county_path, "REVIEW") is None:
        raise Forbidden()
    term = term_of(given.term, await rules_for(ctx, school.province_code))
    if term is None:
        raise _bad_term()
    _check(given, term)
    findings = (given.findings or "").strip() or None
    visit = await visit_repo.lock_visit(ctx.session, school.code, term.code)
    before = _summary(visit) if visit is not None else None
    if visit is None:
        visit = TermVisit(
            term=term.code,
            county_code=county_path.rsplit("/", 1)[-1],
            school_code=school.code,
            school_path=school.path,
            visited_on=given.visited_on,
            recorded_by=ctx.actor,
            version=0,
            province_code=school.province_code,
        )
    elif given.version is None:
        raise BadInput(
            "version",
            "CONFLICT",
            f"该校本学期的调研已登记（版本 {visit.version}），修改须提供版本",
            f"this school's visit for the term is already recorded (version {visit.version}): give it to correct it",
        )
    else:
        check_version(visit, given.version)
    visit.county_code, visit.school_path = county_path.rsplit("/", 1)[-1], school.path
    visit.visited_on, visit.findings = given.visited_on, findings
    visit.students_checked, visit.households_visited = given.students_checked, given.households_visited
    visit.recorded_by = ctx.actor
    visit.version += 1
    await visit_repo.save(ctx.session, visit)
    await record_change(
        ctx,
        action="term_visit.record" if before is None else "term_visit.update",
        target_type="TermVisit",
        target_id=str(visit.id),
        scope_path=school.path,
        summary={"school": school.code, "term": term.code, "after": _summary(visit), "before": before},
    )
    return SchoolVisit(visit, school)


def _check(given: VisitInput, term: Term) -> None:
    if given.visited_on > today():
        raise BadInput("visitedOn", "FUTURE_DATE", "日期不能晚于今天", "the date cannot be in the future")
    if not term.start <= given.visited_on <= term.end:
        raise BadInput(
            "visitedOn",
            "VISIT_OUT_OF_TERM",
            f"开学时节调研须在本学期内（{term.start.isoformat()} 至 {term.end.isoformat()}，004 §5）",
            f"a term-start visit falls in the term, {term.start.isoformat()} to {term.end.isoformat()} (POLICY 004 §5)",
        )
    for name, value in (("studentsChecked", given.students_checked), ("householdsVisited", given.households_visited)):
        if value < 0:
            raise BadInput(name, "OUT_OF_RANGE", "人数不能为负", "a count cannot be negative")
    if len((given.findings or "").strip()) > FINDINGS_MAX:
        raise BadInput(
            "findings",
            "TOO_LONG",
            f"调研发现最多 {FINDINGS_MAX} 字",
            f"findings hold at most {FINDINGS_MAX} characters",
        )


def _summary(visit: TermVisit) -> dict[str, str | int | None]:
    return {
        "visitedOn": visit.visited_on.isoformat(),
        "studentsChecked": visit.students_checked,
        "householdsVisited": visit.households_visited,
        "findings": visit.findings,
        "version": visit.version,
    }


async def term_visit_coverage(ctx: Context, *, region_code: str, term: str) -> Coverage:
    """A county's, city's or province's coverage for the term, inside the caller's REPORT:READ scope."""
    region = await report_region(ctx, region_code)
    if region.level not in (NodeLevel.PROVINCE, NodeLevel.CITY, NodeLevel.COUNTY):
        raise BadInput("regionCode", "BAD_LEVEL", "按省、市或县统计", "a province, city or county is needed")
    span = term_of(term, await rules_for(ctx, region.path[:2]))
    if span is None:
        raise _bad_term()
    counties, schools = await _counties(ctx, [region.path], span)
    if region.level is NodeLevel.COUNTY:
        return counties.get(region.path) or Coverage(region.code, region.name, RegionLevel.COUNTY, span)
    total = Coverage(region.code, region.name, RegionLevel(region.level.value), span)
    _count(total, schools)
    total.counties = sorted(counties.values(), key=lambda c: c.code)
    return total


async def coverage_of_quarters(ctx: Context, keys: list[str]) -> dict[str, Coverage | None]:
    """The term-start coverage of county quarterly reports, keyed `county path|quarter` (`…|2026-Q1`):
    the term whose start the province puts in the quarter, or None when none starts in it."""
    access = ctx.access()
    wanted: dict[str, list[tuple[str, str]]] = {}  # term → (key, county path)
    terms: dict[str, Term] = {}
    rules_of_province: dict[str, ReportingRules] = {}
    for key in keys:
        path, quarter = key.rsplit("|", 1)
        if path[:2] not in rules_of_province:
            rules_of_province[path[:2]] = await rules_for(ctx, path[:2])
        rules = rules_of_province[path[:2]]
        span = parse_period(Cadence.QUARTER, quarter, rules)
        term = term_opening_in(span.start, span.end, rules) if span is not None else None
        if term is None or access.allows(REPORT, "READ", {"EDU": [path]}) is None:
            continue
        terms[term.code] = term
        wanted.setdefault(term.code, []).append((key, path))
    found: dict[str, Coverage | None] = dict.fromkeys(keys)
    for code, pairs in wanted.items():
        counties, _ = await _counties(ctx, [p for _, p in pairs], terms[code])
        for key, path in pairs:
            found[key] = counties.get(path)
    return found


async def _counties(
    ctx: Context, region_paths: list[str], term: Term
) -> tuple[dict[str, Coverage], list[tuple[School, TermVisit | None]]]:
    """Each county's coverage inside the regions (by county path), and every school with its visit."""
    access, session = ctx.access(), ctx.session
    regions = await visit_repo.counties_within(
        session, scope=access.scope(REPORT, "READ", status_repo.REGION_SCOPE_COLUMNS), region_paths=region_paths
    )
    schools = await visit_repo.schools_with_visits(
        session,
        scope=access.scope(REPORT, "READ", status_repo.SCHOOL_SCOPE_COLUMNS),
        region_paths=region_paths,
        term=term.code,
    )
    counties = {r.path: Coverage(r.code, r.name, RegionLevel.COUNTY, term) for r in regions}
    by_county: dict[str, list[tuple[School, TermVisit | None]]] = {}
    for school, visit in schools:
        by_county.setdefault(county_of(school.path), []).append((school, visit))
    for path, row in counties.items():
        _count(row, by_county.get(path, []))
    return counties, schools


def _count(row: Coverage, schools: list[tuple[School, TermVisit | None]]) -> None:
    for school, visit in schools:
        if visit is None:
            row.not_visited.append(school)
        else:
            row.visits.append(SchoolVisit(visit, school))


async def get_visits(ctx: Context, ids: list[str]) -> dict[str, SchoolVisit]:
    """Visits by id; one outside the caller's REPORT:READ scope answers like a missing one."""
    access = ctx.access()
    visits = await visit_repo.get_visits(ctx.session, [n for n in map(parse_id, ids) if n is not None])
    readable = [v for v in visits.values() if access.allows(REPORT, "READ", {"EDU": [v.school_path]})]
    schools = await school_repo.get_schools(ctx.session, {v.school_code for v in readable})
    return {str(v.id): SchoolVisit(v, schools[v.school_code]) for v in readable if v.school_code in schools}
