"""The school calendar (校历, issue 14 §1): read and kept by region and year.

A province keeps its terms, its days off (holidays) and its make-up school days over the national
calendar's defaults (models/school_calendar.py); a county keeps only its local days off. Saving replaces
the region's year as a whole, from the version read (a stale version is refused: CONFLICT).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise

from authz.errors import Forbidden
from models.base import utcnow
from models.region import Region, RegionLevel
from models.repos import regions as region_repo
from models.repos import school_calendar as calendar_repo
from models.school_calendar import DayKind, DaySource, national_days

from ..audit import record_change
from ..context import Context
from ..errors import BadInput, unknown_region
from ..versioning import check_version
from .errors import LedgerErrorCode

MAX_TERMS = 4  # terms whose first day falls in one year
MAX_DAYS = 120  # marked days of one region in one year
LONGEST_TERM = timedelta(days=200)


@dataclass(frozen=True)
class CalendarDay:
    day: date
    kind: DayKind
    source: DaySource
    note: str


@dataclass(frozen=True)
class CalendarView:
    region: Region
    year: int
    version: int  # 0: never kept, the national defaults only
    updated_by: str | None
    updated_at: datetime | None
    terms: list[tuple[date, date]]
    days: list[CalendarDay]
    school_days: int


@dataclass(frozen=True)
class DayInput:
    day: date
    note: str


async def _region(ctx: Context, code: str) -> Region:
    region = await region_repo.get_region(ctx.session, code)
    if region is None:
        raise unknown_region("regionCode")
    if region.level not in (RegionLevel.PROVINCE, RegionLevel.COUNTY):
        raise BadInput("regionCode", LedgerErrorCode.NOT_PROVINCE_OR_COUNTY)
    return region


async def read_calendar(ctx: Context, region_code: str, year: int) -> CalendarView:
    """The year's effective calendar of a province or county: for a reader of it, or of a unit inside it."""
    region = await _region(ctx, region_code)
    access = ctx.access()
    if access.allows("CALENDAR", "READ", {"EDU": [region.path]}) is None and not access.sees_as_ancestor(
        "CALENDAR", "READ", "EDU", region.path
    ):
        raise unknown_region("regionCode") if access.holds_anywhere("CALENDAR", "READ") else Forbidden()
    return await _view(ctx, region, year)


async def _view(ctx: Context, region: Region, year: int) -> CalendarView:
    province = region.path.split("/")[0]
    paths = [province] if region.path == province else [province, region.path]
    row = await calendar_repo.calendar_row(ctx.session, region.path, year)
    days: dict[date, CalendarDay] = {
        d: CalendarDay(d, kind, DaySource.NATIONAL, note) for d, (kind, note) in national_days(year).items()
    }
    for marked in await calendar_repo.days_of(ctx.session, paths, year):
        source = DaySource.PROVINCE if marked.region_path == province else DaySource.COUNTY
        days[marked.day] = CalendarDay(marked.day, marked.kind, source, marked.note)
    terms = [(t.first_day, t.last_day) for t in await calendar_repo.terms_of(ctx.session, province, year)]
    # A province's own count leaves out every county's local days off.
    effective = await calendar_repo.county_calendar(ctx.session, region.path)
    counted = effective.school_days(date(year, 1, 1), date(year, 12, 31))
    return CalendarView(
        region=region,
        year=year,
        version=row.version if row else 0,
        updated_by=row.updated_by if row else None,
        updated_at=row.updated_at if row else None,
        terms=terms,
        days=[days[d] for d in sorted(days)],
        school_days=len(counted),
    )


async def set_calendar(
    ctx: Context,
    *,
    region_code: str,
    year: int,
    version: int,
    terms: list[tuple[date, date]] | None,
    days_off: list[DayInput],
    school_days: list[DayInput],
) -> CalendarView:
    """Replace the region's year: a province's terms (None: kept as they are), days off and make-up days;
    a county's local days off. `version` is the version read (0 for a year never kept)."""
    region = await _region(ctx, region_code)
    ctx.access().require("CALENDAR", "WRITE", {"EDU": [region.path]})
    province = region.level is RegionLevel.PROVINCE
    if not province and (terms is not None or school_days):
        raise BadInput("terms" if terms is not None else "schoolDays", LedgerErrorCode.PROVINCE_ONLY)
    marked = _checked_days(year, days_off, school_days)
    if terms is not None:
        await _check_terms(ctx, region.path, year, terms)
    row = await calendar_repo.calendar_row(ctx.session, region.path, year, lock=True)
    if row is None:
        check_version(_Unkept(), version)
        row = await calendar_repo.claim_new_calendar(ctx.session, region.path, year, ctx.actor)
        if row is None:  # another writer kept the year first, since it was read
            raise BadInput("version", LedgerErrorCode.CONFLICT)
    else:
        check_version(row, version)
        row.version += 1
        row.updated_by, row.updated_at = ctx.actor, utcnow()
        ctx.session.add(row)
    await calendar_repo.replace_year(ctx.session, region.path, year, marked, terms)
    await record_change(
        ctx,
        action="calendar.set",
        target_type="SchoolCalendar",
        target_id=f"{region.code}/{year}",
        scope_path=region.path,
        summary={
            "version": row.version,
            "terms": None if terms is None else [[a.isoformat(), b.isoformat()] for a, b in terms],
            "days_off": [d.day.isoformat() for d in days_off],
            "school_days": [d.day.isoformat() for d in school_days],
        },
    )
    return await _view(ctx, region, year)


@dataclass
class _Unkept:
    """A year never kept reads as version 0."""

    version: int = 0


def _checked_days(year: int, days_off: list[DayInput], school_days: list[DayInput]) -> list[tuple[date, DayKind, str]]:
    if len(days_off) + len(school_days) > MAX_DAYS:
        raise BadInput(
            "daysOff", LedgerErrorCode.OUT_OF_RANGE, f"每年最多 {MAX_DAYS} 天", f"at most {MAX_DAYS} days a year"
        )
    out: dict[date, tuple[date, DayKind, str]] = {}
    for name, kind, rows in (("daysOff", DayKind.DAY_OFF, days_off), ("schoolDays", DayKind.SCHOOL_DAY, school_days)):
        for n, d in enumerate(rows):
            if d.day.year != year:
                raise BadInput(f"{name}.{n}.day", LedgerErrorCode.NOT_IN_YEAR)
            if d.day in out:
                raise BadInput(
                    f"{name}.{n}.day", LedgerErrorCode.OUT_OF_RANGE, "同一天只能设定一次", "a day is set once"
                )
            out[d.day] = (d.day, kind, d.note.strip())
    return sorted(out.values())


async def _check_terms(ctx: Context, province_path: str, year: int, terms: list[tuple[date, date]]) -> None:
    if len(terms) > MAX_TERMS:
        raise BadInput(
            "terms", LedgerErrorCode.OUT_OF_RANGE, f"每年最多 {MAX_TERMS} 个学期", f"at most {MAX_TERMS} terms"
        )
    for n, (first, last) in enumerate(terms):
        if first.year != year:
            raise BadInput(f"terms.{n}.firstDay", LedgerErrorCode.NOT_IN_YEAR)
        if not first <= last <= first + LONGEST_TERM:
            raise BadInput(
                f"terms.{n}.lastDay",
                LedgerErrorCode.TERMS_OVERLAP,
                f"学期须在开始后 {LONGEST_TERM.days} 天内结束",
                f"a term ends on or after its first day and within {LONGEST_TERM.days} days",
            )
    others = [(t.first_day, t.last_day) for t in await calendar_repo.other_terms(ctx.session, province_path, year)]
    spans = sorted([*((a, b, n) for n, (a, b) in enumerate(terms)), *((a, b, -1) for a, b in others)])
    for (_, end, _), (start, _, n) in pairwise(spans):
        if start <= end:
            raise BadInput(f"terms.{max(n, 0)}.firstDay", LedgerErrorCode.TERMS_OVERLAP)
