"""Taking and reading the month-end statistics (models/period_statistics.py).

A snapshot of a range of months is two set-based statements: delete the months' rows, then one
INSERT … SELECT that reads the children once (enrolment, the same for every month) and the ledger
entries once per month they were on a ledger. Taking a month again replaces it, so the sweep can
refresh the current month every day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..period_statistics import PeriodStatistic
from .paths import within_path

# Snapshots of the same months one after the other (a sweep and a CLI run): reads are not blocked.
LOCK_SQL = "LOCK TABLE period_statistic IN SHARE ROW EXCLUSIVE MODE"
DELETE_SQL = """
DELETE FROM period_statistic WHERE period BETWEEN to_char(%(first)s::date, 'YYYY-MM')
                                              AND to_char(%(last)s::date, 'YYYY-MM')
"""

SNAPSHOT_SQL = """
WITH month AS (
    SELECT to_char(m, 'YYYY-MM') AS period, m::date AS first_day,
           (m + interval '1 month' - interval '1 day')::date AS last_day
      FROM generate_series(%(first)s::date, %(last)s::date, interval '1 month') AS m
),
places AS (  -- children holding a place (the county of their school), per school, the stage of their grade
            -- (1–6 primary, 7–9 junior; none recorded: primary, as the school reports count) and groups
    SELECT school_code, CASE WHEN coalesce(grade, 1) <= 6 THEN 'PRIMARY' ELSE 'JUNIOR' END AS stage,
           special_groups, count(*) AS children
      FROM child WHERE school_code IS NOT NULL
     GROUP BY 1, 2, 3
),
enrolment AS (
    SELECT g.special_group,
           concat_ws('/', split_part(s.path, '/', 1), split_part(s.path, '/', 2), split_part(s.path, '/', 3))
           AS county_path, p.stage, sum(p.children) AS enrolled
      FROM places p JOIN school s ON s.code = p.school_code
     CROSS JOIN LATERAL unnest(ARRAY['']::varchar[] || p.special_groups) AS g(special_group)
     GROUP BY 1, 2, 3
),
deferral AS (
    SELECT entry_id, min((decided_at AT TIME ZONE 'Asia/Shanghai')::date) AS approved_on
      FROM deferral_request WHERE status = 'APPROVED' GROUP BY entry_id
),
entry AS (  -- each entry with the day it left its ledger: closed out (China time) or, when superseded
            -- by its dropout entry, the day that entry opened
    SELECT e.responsible_path AS county_path, e.stage, e.ledger, coalesce(e.category, '') AS category,
           e.opened_on, e.returned_on, e.placed_on, f.approved_on,
           coalesce(e.close_reason = 'ESCALATED_TO_DROPOUT', false) AS superseded,
           CASE WHEN e.close_reason = 'ESCALATED_TO_DROPOUT'
                THEN least((e.closed_at AT TIME ZONE 'Asia/Shanghai')::date, d.opened_on)
                ELSE (e.closed_at AT TIME ZONE 'Asia/Shanghai')::date END AS ended_on,
           c.special_groups, c.school_code AS child_school, c.grade AS child_grade
      FROM ledger_entry e
      JOIN child c ON c.id = e.child_id
      LEFT JOIN ledger_entry d ON d.escalated_from_id = e.id
      LEFT JOIN deferral f ON f.entry_id = e.id
),
listed AS (  -- (month, entry) for every month the entry was on its ledger at some time
    SELECT m.period, m.first_day, m.last_day, x.*,
           (x.ended_on IS NULL OR x.ended_on > m.last_day) AS open_at_end
      FROM month m
      JOIN entry x ON x.opened_on <= m.last_day AND (x.ended_on IS NULL OR x.ended_on >= m.first_day)
),
present AS (  -- Table 1 counts who is absent now (issue 14 §2): an entry back at school by the month's end
              -- and not closed out is returned, awaiting close-out, not a suspected child or a dropout
    SELECT l.*, (l.open_at_end AND (l.returned_on <= l.last_day) IS TRUE) AS back_at_end FROM listed l
),
counted AS (
    SELECT l.period, g.special_group, k.category, l.county_path, l.stage, 0 AS enrolled,
           (l.ledger = 'SUSPECTED' AND l.open_at_end AND NOT l.back_at_end)::int AS suspected,
           (l.ledger = 'DROPOUT' AND l.open_at_end AND NOT l.back_at_end)::int AS dropouts,
           ((l.open_at_end AND l.approved_on <= l.last_day
             AND (l.returned_on IS NULL OR l.returned_on > l.last_day)) IS TRUE)::int AS deferred,
           (NOT l.superseded OR l.open_at_end)::int AS cases,
           ((l.returned_on BETWEEN l.first_day AND l.last_day) IS TRUE)::int AS returned,
           ((l.placed_on BETWEEN l.first_day AND l.last_day) IS TRUE)::int AS placed,
           ((NOT l.superseded AND l.ended_on BETWEEN l.first_day AND l.last_day) IS TRUE)::int AS closed_out,
           l.back_at_end::int AS awaiting_close_out
      FROM present l
     CROSS JOIN LATERAL unnest(ARRAY['']::varchar[] || l.special_groups) AS g(special_group)
     CROSS JOIN LATERAL unnest(CASE WHEN l.category = '' THEN ARRAY[''] ELSE ARRAY['', l.category] END)
           AS k(category)
),
withdrawn AS (  -- on the dropout ledger at the month's end but still holding a place: not 在校
    SELECT l.period, g.special_group, '' AS category,
           concat_ws('/', split_part(s.path, '/', 1), split_part(s.path, '/', 2), split_part(s.path, '/', 3))
           AS county_path, CASE WHEN coalesce(l.child_grade, 1) <= 6 THEN 'PRIMARY' ELSE 'JUNIOR' END AS stage,
           -1 AS enrolled, 0, 0, 0, 0, 0, 0, 0, 0
      FROM present l JOIN school s ON s.code = l.child_school
     CROSS JOIN LATERAL unnest(ARRAY['']::varchar[] || l.special_groups) AS g(special_group)
     WHERE l.ledger = 'DROPOUT' AND l.open_at_end AND NOT l.back_at_end
),
everything AS (  -- the column names are counted's
    SELECT * FROM counted
    UNION ALL
    SELECT * FROM withdrawn
    UNION ALL
    SELECT m.period, n.special_group, '' AS category, n.county_path, n.stage, n.enrolled, 0, 0, 0, 0, 0, 0, 0, 0
      FROM month m CROSS JOIN enrolment n
)
INSERT INTO period_statistic (period, special_group, category, county_path, stage, province_code, enrolled,
                              suspected, dropouts, deferred, cases, returned, placed, closed_out,
                              awaiting_close_out, taken_at)
SELECT period, special_group, category, county_path, stage, split_part(county_path, '/', 1),
       sum(enrolled), sum(suspected), sum(dropouts), sum(deferred), sum(cases), sum(returned), sum(placed),
       sum(closed_out), sum(awaiting_close_out), now()
  FROM everything
 GROUP BY period, special_group, category, county_path, stage
HAVING sum(enrolled) <> 0 OR sum(cases) <> 0
    OR sum(suspected + dropouts + returned + placed + closed_out + awaiting_close_out) <> 0
"""


class Cursor(Protocol):
    def execute(self, query: Any, params: Any = ..., /) -> Any: ...


def _params(first: date, last: date) -> dict[str, date]:
    if (first.year, first.month) > (last.year, last.month):
        raise ValueError(f"{first:%Y-%m} is after {last:%Y-%m}")
    return {"first": first.replace(day=1), "last": last.replace(day=1)}


async def snapshot(session: AsyncSession, first: date, last: date) -> int:
    """Take the months from `first`'s to `last`'s again, every province; returns the rows written."""
    params = _params(first, last)
    connection = await session.connection()
    await connection.exec_driver_sql(LOCK_SQL)
    await connection.exec_driver_sql(DELETE_SQL, params)
    result = await connection.exec_driver_sql(SNAPSHOT_SQL, params)
    return int(result.rowcount)


def snapshot_with(cursor: Cursor, first: date, last: date) -> None:
    """The same on a psycopg cursor, inside its transaction (the synthetic loader, the benchmark)."""
    params = _params(first, last)
    cursor.execute(LOCK_SQL)
    cursor.execute(DELETE_SQL, params)
    cursor.execute(SNAPSHOT_SQL, params)


@dataclass(frozen=True)
class StatisticRow:
    region_path: str
    period: str
    stage: str | None  # None: both stages
    special_group: str  # "": all children
    category: str  # "": all entries
    enrolled: int
    suspected: int
    dropouts: int
    deferred: int
    cases: int
    returned: int
    placed: int
    closed_out: int
    awaiting_close_out: int
    taken_at: datetime
    population: int  # the rates' denominator: enrolled + dropouts of every category


COUNTS = (
    "enrolled",
    "suspected",
    "dropouts",
    "deferred",
    "cases",
    "returned",
    "placed",
    "closed_out",
    "awaiting_close_out",
)


async def statistics_by_region(
    session: AsyncSession,
    *,
    scope: ColumnElement[bool],
    region_path: str | None,
    depth: int,
    periods: list[str],
    by_stage: bool,
    groups: list[str],
    categories: list[str],
    limit: int,
) -> list[StatisticRow]:
    """Rows summed per region `depth` path components deep × period (× stage) × group × category, for
    the groups and categories given ("" the rows of everyone); at most `limit` rows."""
    s = PeriodStatistic
    path = col(s.county_path)
    region = func.concat_ws("/", *(func.split_part(path, "/", n) for n in range(1, depth + 1)))
    where = [scope, col(s.period).in_(periods), col(s.special_group).in_(groups), col(s.category).in_(categories)]
    if region_path is not None:
        where.append(within_path(path, region_path))
    group: list[Any] = [region, col(s.period), *([col(s.stage)] if by_stage else []), col(s.special_group)]
    group.append(col(s.category))
    sums = [func.sum(getattr(s, name)) for name in COUNTS]
    stmt = select(*group, *sums, func.max(col(s.taken_at))).where(*where).group_by(*group).order_by(*group)
    out: list[StatisticRow] = []
    for found in (await session.execute(stmt.limit(limit))).all():
        values = list(found)
        stage = str(values.pop(2)) if by_stage else None
        counts = dict(zip(COUNTS, (int(v) for v in values[4:-1]), strict=True))
        out.append(
            StatisticRow(
                region_path=str(values[0]),
                period=str(values[1]),
                stage=stage,
                special_group=str(values[2]),
                category=str(values[3]),
                **counts,
                taken_at=values[-1],
                population=counts["enrolled"] + counts["dropouts"],
            )
        )
    return out


async def periods_taken(session: AsyncSession, periods: list[str]) -> set[str]:
    """Which of these periods have been taken (one index probe each)."""
    stmt = text(
        "SELECT p FROM unnest(CAST(:periods AS text[])) AS p "
        "WHERE EXISTS (SELECT 1 FROM period_statistic s WHERE s.period = p)"
    )
    return {str(p) for p in await session.scalars(stmt, {"periods": periods})}
