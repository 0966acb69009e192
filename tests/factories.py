"""Factories: rows written straight into the test's session, each `make_x(session, **overrides)`.

For tests below the API (tests/resolvers, tests/models). The HTTP tests register children through
`createStudent` instead (tests/ledger_support.py), so they also cover the mutation.
Defaults: a boy in grade 3 of 武定县狮山镇中心小学, registered and living in 狮山村.
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.cn import ric

from models.child import Child, Gender
from models.ledger import EntrySource, Ledger, LedgerEntry
from models.persuasion import PersuasionVisit, VisitMethod
from models.region import Region
from models.school import School
from resolvers.ledgers.common import new_entry
from tests.ledger_support import WUDING_PRIMARY, WUDING_VILLAGE

_order = itertools.count(701, 2)  # odd (a boy's) order codes, which the demo's children do not use much


async def _region(session: AsyncSession, code: str) -> Region:
    region = await session.get(Region, code)
    assert region is not None, f"no region {code}"
    return region


async def free_national_id(session: AsyncSession, county: str, birth: date) -> str:
    """A valid 18-character ID for a boy born on `birth` in `county` that no child has yet."""
    while True:
        body = f"{county}{birth:%Y%m%d}{next(_order) % 1000:03d}"
        number = body + ric.calc_check_digit(body + "X")  # it reads the first 17 characters
        if (await session.execute(select(Child.id).where(Child.national_id == number))).first() is None:
            return number


async def make_child(
    session: AsyncSession,
    *,
    village: str = WUDING_VILLAGE,
    residence: str | None = None,
    school: str | None = WUDING_PRIMARY,
    **overrides: Any,
) -> Child:
    """A child flushed to the session, its paths read from its village, residence and school."""
    household = await _region(session, village)
    living = await _region(session, residence or village)
    school_row = await session.get(School, school) if school else None
    assert school is None or school_row is not None, f"no school {school}"
    birth: date = overrides.get("birth_date", date(2017, 5, 12))
    values: dict[str, Any] = {
        "name": "测试儿童",
        "gender": Gender.MALE,
        "birth_date": birth,
        "special_groups": [],
        "school_code": school,
        "grade": 3 if school else None,
        "school_path": school_row.path if school_row else None,
        "household_region_code": village,
        "household_path": household.path,
        "residence_region_code": living.code,
        "residence_path": living.path,
        "province_code": village[:2],
    }
    values.update(overrides)
    if "national_id" not in values:
        values["national_id"] = await free_national_id(session, village[:6], birth)
    child = Child(**values)
    session.add(child)
    await session.flush()
    return child


async def make_entry(session: AsyncSession, child: Child | None = None, **overrides: Any) -> LedgerEntry:
    """An open entry on the suspected ledger for `child` (a new one by default), carrying its paths."""
    child = child or await make_child(session)
    opened_on: date = overrides.get("opened_on", date(2026, 10, 12))
    values: dict[str, Any] = {
        "ledger": Ledger.SUSPECTED,
        "source": EntrySource.MANUAL,
        "opened_by": "factory",
        "version": 0,
    }
    entry = new_entry(child, opened_on=opened_on, **(values | {k: v for k, v in overrides.items() if k != "opened_on"}))
    session.add(entry)
    await session.flush()
    return entry


async def make_visit(session: AsyncSession, entry: LedgerEntry, **overrides: Any) -> PersuasionVisit:
    """A first-stage home visit on `entry` by its class teacher."""
    assert entry.id is not None
    values: dict[str, Any] = {
        "entry_id": entry.id,
        "child_id": entry.child_id,
        "visited_on": entry.opened_on,
        "method": VisitMethod.HOME_VISIT,
        "stage": 1,
        "participants": [{"name": "班主任", "department": "学校", "line": "EDU"}],
        "outcome": "家长表示考虑送孩子返校",
        "recorded_by": "factory",
        "province_code": entry.province_code,
    }
    visit = PersuasionVisit(**(values | overrides))
    session.add(visit)
    await session.flush()
    return visit
