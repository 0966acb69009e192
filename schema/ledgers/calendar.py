"""The school calendar (校历) as a query and a mutation (issue 14 §1; resolvers/ledgers/calendar.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from models.school_calendar import DayKind, DaySource
from models.school_calendar import SchoolCalendarDay as DayRow
from resolvers.ledgers import calendar as calendar_resolvers

from ..context import Info
from ..enums import described
from ..errors import LedgerError
from ..inputs import ints, stored_in
from ..mutations import run_mutation

described(
    DayKind,
    {DayKind.DAY_OFF: "放假 / no school", DayKind.SCHOOL_DAY: "调课上课 / a make-up school day"},
    "校历中的日子 / a marked day of the calendar",
)
described(
    DaySource,
    {
        DaySource.NATIONAL: "国务院节假日安排（默认）/ the State Council's holidays (the default)",
        DaySource.PROVINCE: "省级设定 / set by the province",
        DaySource.COUNTY: "县级本地放假 / a county's local day off",
    },
    "由谁设定 / who set the day",
)


@strawberry.type(description="学期 / a term.")
class SchoolTerm:
    first_day: date = strawberry.field(description="开学日 / first day.")
    last_day: date = strawberry.field(description="结束日 / last day.")


@strawberry.type(description="校历中的一天 / a day marked against Monday–Friday.")
class CalendarDay:
    day: date = strawberry.field(description="日期 / the day.")
    kind: DayKind = strawberry.field(description="放假或调课上课 / off, or a make-up school day.")
    source: DaySource = strawberry.field(description="来源 / who set it.")
    note: str = strawberry.field(description="说明，如 国庆节 / note, e.g. the holiday's name.")


@strawberry.type(
    description="校历：上课日 = 学期内（省未设学期则全年）、非县本地放假日，且为调课上课日或国家工作日 / a school "
    "calendar: a school day is in a term (all year while the province has none), not a county's day off, and a "
    "make-up school day or else a national working day (Monday–Friday less public holidays, plus make-up days)."
)
class SchoolCalendar:
    region_code: str = strawberry.field(description="省或县代码 / the province or county.")
    year: int = strawberry.field(description="年度 / the calendar year.")
    version: int = strawberry.field(description="版本；未设定为 0 / version; 0 while never kept (defaults only).")
    updated_by: str | None = strawberry.field(description="最后设定人 / kept last by.")
    updated_at: datetime | None = strawberry.field(description="最后设定时间 / kept last at.")
    terms: list[SchoolTerm] = strawberry.field(
        description="本年开始的学期（省设）/ the province's terms begun this year."
    )
    days: list[CalendarDay] = strawberry.field(
        description="节假日、调课日（国家默认、省设、县设）/ days off and make-up days: national defaults, the "
        "province's and (for a county) its own."
    )
    school_days: int = strawberry.field(description="全年上课日数 / school days in the year.")


def _calendar(view: calendar_resolvers.CalendarView) -> SchoolCalendar:
    return SchoolCalendar(
        region_code=view.region.code,
        year=view.year,
        version=view.version,
        updated_by=view.updated_by,
        updated_at=view.updated_at,
        terms=[SchoolTerm(first_day=a, last_day=b) for a, b in view.terms],
        days=[CalendarDay(day=d.day, kind=d.kind, source=d.source, note=d.note) for d in view.days],
        school_days=view.school_days,
    )


YEARS = ints(2000, 2100)


async def school_calendar(
    info: Info, region_code: str, year: Annotated[int, strawberry.argument(metadata=YEARS)]
) -> SchoolCalendar:
    return _calendar(await calendar_resolvers.read_calendar(info.context, region_code, year))


@strawberry.input(description="学期 / a term.")
class SchoolTermInput:
    first_day: date = strawberry.field(description="开学日（在该年度内）/ first day, in the year.")
    last_day: date = strawberry.field(description="结束日（200 天内）/ last day, within 200 days.")


@strawberry.input(description="校历中的一天 / a marked day.")
class CalendarDayInput:
    day: date = strawberry.field(description="日期（在该年度内）/ the day, in the year.")
    note: str = strawberry.field(
        default="", metadata=stored_in(DayRow, "note"), description="说明（最多 100 字）/ note, up to 100 characters."
    )


@strawberry.input(
    description="设定一个年度的校历（整体替换）/ keep a year's calendar of a province or county (replaces it whole)."
)
class SetSchoolCalendarInput:
    region_code: str = strawberry.field(description="省或县代码 / the province or county.")
    year: int = strawberry.field(metadata=YEARS, description="年度 2000–2100 / the calendar year.")
    version: int = strawberry.field(description="读取时的版本，未设定为 0 / the version read, 0 if never kept.")
    terms: list[SchoolTermInput] | None = strawberry.field(
        default=None,
        description="本年开始的学期（仅省；不填则不变）/ the terms begun this year (province only; null: unchanged).",
    )
    days_off: list[CalendarDayInput] = strawberry.field(
        default_factory=list, description="放假日（省：节假日；县：本地放假）/ days off: a province's, a county's own."
    )
    school_days: list[CalendarDayInput] = strawberry.field(
        default_factory=list, description="调课上课日（仅省）/ make-up school days (province only)."
    )


@strawberry.type(description="校历设定结果 / the calendar kept.")
class SchoolCalendarPayload:
    calendar: SchoolCalendar | None = strawberry.field(default=None, description="校历 / the calendar.")
    errors: list[LedgerError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


async def set_school_calendar(info: Info, input: SetSchoolCalendarInput) -> SchoolCalendarPayload:
    return await run_mutation(
        info,
        SchoolCalendarPayload,
        lambda: calendar_resolvers.set_calendar(
            info.context,
            region_code=input.region_code,
            year=input.year,
            version=input.version,
            terms=None if input.terms is None else [(t.first_day, t.last_day) for t in input.terms],
            days_off=[calendar_resolvers.DayInput(d.day, d.note) for d in input.days_off],
            school_days=[calendar_resolvers.DayInput(d.day, d.note) for d in input.school_days],
        ),
        lambda view: SchoolCalendarPayload(calendar=_calendar(view)),
    )
