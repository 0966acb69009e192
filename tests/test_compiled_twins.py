"""The compiled path's SQL twins (issue 18 §2) against the Python rules they copy, over generated inputs:
each twin sits beside its rule, and a difference here would be a difference between the two paths."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, DateTime, Integer, String, column, literal, select, text, values
from sqlalchemy.ext.asyncio import AsyncSession

from models import Child, LedgerEntry
from models.ledger import EntryStatus, Ledger
from models.province import age_on, age_on_sql
from models.report import ReportRevision, ReportStatus, is_late, is_late_sql, is_locked, is_locked_sql
from models.repos.ledger import SchoolAgeRow, schooling_status, schooling_status_sql
from resolvers.compiled.jsonsql import iso_datetime
from resolvers.reports.reading import current_shown, current_shown_order, shown_sql, shown_versions


async def evaluated(session: AsyncSession, expressions: Sequence[Any]) -> list[Any]:
    """Each expression's value, in statements of at most 500 columns."""
    out: list[Any] = []
    for start in range(0, len(expressions), 500):
        out.extend((await session.execute(select(*expressions[start : start + 500]))).one())
    return out


def some_day(rng: random.Random) -> date:
    return date(2000, 1, 1) + timedelta(days=rng.randrange(0, 365 * 40))


async def test_the_database_counts_ages_as_python_does(session):
    """`age_on_sql` is `age_on` for random birth dates and days, and around 29 February and year ends."""
    rng = random.Random("age_on")
    pairs = [(some_day(rng), some_day(rng)) for _ in range(1500)]
    leap = [date(2012, 2, 29), date(2016, 2, 29), date(2011, 2, 28), date(2011, 3, 1), date(2010, 12, 31)]
    days = [date(2026, 2, 28), date(2028, 2, 29), date(2026, 3, 1), date(2026, 8, 31), date(2027, 1, 1)]
    pairs += [(birth, day) for birth in leap for day in days]
    ages = await evaluated(session, [age_on_sql(literal(birth, Date), day) for birth, day in pairs])
    assert ages == [age_on(birth, day) for birth, day in pairs]


async def test_the_database_names_the_schooling_status_as_python_does(session):
    """`schooling_status_sql` is `schooling_status` for every school code shape and entry (none, or any
    ledger and status)."""
    entries: list[tuple[Ledger, EntryStatus] | None] = [None, *((lg, st) for lg in Ledger for st in EntryStatus)]
    cases = [(code, entry) for code in (None, "", "2153000001") for entry in entries]
    expressions = [
        schooling_status_sql(
            literal(code, String),
            literal(entry[0].value if entry else None, String),
            literal(entry[1].value if entry else None, String),
        )
        for code, entry in cases
    ]
    expected = [
        schooling_status(
            SchoolAgeRow(
                child=Child(school_code=code),
                entry=LedgerEntry(ledger=entry[0], status=entry[1]) if entry else None,
            )
        )
        for code, entry in cases
    ]
    assert await evaluated(session, expressions) == expected


async def test_the_database_tells_locked_and_late_reports_as_python_does(session):
    statuses = list(ReportStatus)
    locked = await evaluated(session, [is_locked_sql(literal(s.value, String)) for s in statuses])
    assert locked == [is_locked(s) for s in statuses]
    rng = random.Random("late")
    days: list[int | None] = [None, 0, 1, -1, *(rng.randint(-400, 400) for _ in range(200))]
    late = await evaluated(session, [is_late_sql(literal(d, Integer)) for d in days])
    assert late == [is_late(d) for d in days]


async def test_the_database_writes_instants_as_strawberry_does(session):
    """`iso_datetime` is Python's `isoformat()` of the instant psycopg reads, in the session's time zone:
    microseconds only when not zero, with their trailing zeros kept."""
    rng = random.Random("instants")
    start = datetime(2001, 1, 1, tzinfo=UTC)
    instants = [start + timedelta(seconds=rng.randrange(0, 30 * 365 * 86400)) for _ in range(300)]
    instants = [
        t.replace(microsecond=rng.choice([0, 0, 120000, 1, 999999, rng.randrange(1_000_000)])) for t in instants
    ]
    for zone in ("UTC", "Asia/Shanghai", "America/St_Johns"):
        await session.execute(text(f"SET LOCAL TIME ZONE '{zone}'"))
        values = [literal(t, DateTime(timezone=True)) for t in instants]
        read = await evaluated(session, values)
        written = await evaluated(session, [iso_datetime(v) for v in values])
        assert written == [t.isoformat() for t in read], zone
    await session.execute(text("SET LOCAL TIME ZONE 'UTC'"))


async def test_the_database_picks_the_versions_shown_and_the_current_one_as_python_does(session):
    """`shown_sql` and `current_shown_order` pick what `shown_versions` and `current_shown` pick, for
    generated version histories, current numbers and readers who work on the unit or not."""
    rng = random.Random("versions")
    for _ in range(300):
        statuses = [rng.choice(list(ReportStatus)) for _ in range(rng.randint(1, 5))]
        current, works_on = rng.randint(1, len(statuses)), rng.random() < 0.5
        revisions = [ReportRevision(number=n, status=st) for n, st in enumerate(statuses, start=1)]
        picked = current_shown(shown_versions(revisions, works_on), current)
        rows = values(column("number", Integer), column("status", String), name="v").data(
            [(r.number, r.status.value) for r in revisions]
        )
        stmt = (
            select(rows.c.number)
            .where(shown_sql(rows.c.status, literal(works_on)))
            .order_by(*current_shown_order(rows.c.number, literal(current)))
            .limit(1)
        )
        assert await session.scalar(stmt) == (picked.number if picked else None), (statuses, current, works_on)
