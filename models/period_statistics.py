"""Month-end ledger statistics (期末统计): counts per month, county, stage, special group and category,
computed from the ledgers' history by `models/repos/period_statistics.py` and read by dashboards.

One row per (period `YYYY-MM`, special group, category, responsible county, stage). `special_group` is
"" for all children and otherwise one group of `SpecialGroup` (a child in several groups counts in
each); `category` is "" for all entries and otherwise one category A–T. The key starts with the
period and the two dimensions, so a province-wide series without them reads one narrow index range
per month (a few thousand rows), not the category and group rows beside them.

What a row counts, as of the end of the month's last day in China time (models/base.CHINA_TIME):
- stocks at the month's end: `suspected` and `dropouts` (entries on that ledger opened by then and not
  closed out by then, whatever their status: Guyuan Table 1 and `ledgerCounts` count the same way),
  `deferred` (of those, with a deferral approved by then and not back at school by then);
- flows within the month: `cases` (entries on a ledger at any time in the month; a suspected entry
  superseded by its dropout entry counts only while it was the child's current entry), `returned`
  (back at school in the month), `placed` (placed in the month), `closed_out` (销号 in the month,
  not counting a suspected entry superseded by its dropout entry);
- `enrolled` (在校): children holding a place at a school of the county (by their grade's stage), not
  counting those on the dropout ledger at the month's end. Enrolment has no history here: it is the
  enrolment when the row was taken (`taken_at`), for every month taken then. Category rows carry no
  enrolment (0): enrolment is not split by category.
Entries count under the county answering for them, their stage and their category, and the child's
special groups, as they stand when the row is taken.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import path_type

ALL = ""  # special_group / category of the rows that count everyone


def count_field() -> Any:
    return Field(default=0, sa_type=sa.BigInteger)


class PeriodStatistic(SQLModel, table=True):
    __tablename__ = "period_statistic"

    period: str = Field(primary_key=True, max_length=7)
    special_group: str = Field(primary_key=True, max_length=24)
    category: str = Field(primary_key=True, max_length=2)
    county_path: str = Field(primary_key=True, sa_type=path_type())
    stage: str = Field(primary_key=True, max_length=24)
    province_code: str = Field(max_length=2, index=True)
    enrolled: int = count_field()
    suspected: int = count_field()
    dropouts: int = count_field()
    deferred: int = count_field()
    cases: int = count_field()
    returned: int = count_field()
    placed: int = count_field()
    closed_out: int = count_field()
    awaiting_close_out: int = count_field()  # back at school by the month's end, not yet closed out
    taken_at: datetime = Field(sa_type=sa.DateTime(timezone=True))


MONTH_CODE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def month_code(day: date) -> str:
    """The period a day lies in: `2026-03`."""
    return f"{day.year:04d}-{day.month:02d}"


def month_start(code: str) -> date | None:
    """The first day of a period `YYYY-MM`, or None when the code is not one."""
    found = MONTH_CODE.match(code)
    return date(int(found.group(1)), int(found.group(2)), 1) if found else None


def months_through(first: date, last: date) -> list[str]:
    """The periods from `first`'s month to `last`'s, in order."""
    year, month, out = first.year, first.month, []
    while (year, month) <= (last.year, last.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def months_back(day: date, count: int) -> list[str]:
    """The `count` periods ending with `day`'s month (a dashboard's default series)."""
    back = day.year * 12 + day.month - 1 - (count - 1)
    return months_through(date(back // 12, back % 12 + 1, 1), day)


def rate(numerator: int, denominator: int) -> float | None:
    """numerator / denominator, or None when there is nothing to divide by."""
    return numerator / denominator if denominator > 0 else None
