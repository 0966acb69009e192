"""The four steps of persuasion (劝返四步法) at the resolver level (resolvers/ledgers/persuasion.py).

The same visits through HTTP, with deferral and close-out, are tests/test_persuasion.py.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from authz.errors import Forbidden
from models.persuasion import Line, VisitMethod
from resolvers.errors import BadInput
from resolvers.ledgers.persuasion import Participant, record_visit
from tests.factories import make_entry, make_visit
from tests.ledger_support import COUNTY_EDU, NEIGHBOUR_EDU
from tests.persuasion_support import TOWNSHIP
from tests.report_support import CITY_EDU
from tests.resolvers.conftest import refusal

TEACHER = [Participant(name="班主任", department="学校", line=Line.EDU)]
JOINT = [*TEACHER, Participant(name="王乡长", department="狮山镇人民政府", line=Line.GOV)]


async def visit(ctx, entry, **overrides: Any):
    values: dict[str, Any] = {
        "entry_id": str(entry.id),
        "visited_on": date(2026, 10, 13),
        "method": VisitMethod.HOME_VISIT,
        "stage": 1,
        "participants": TEACHER,
        "outcome": "家长表示考虑送孩子返校",
        "next_step": None,
        "next_on": None,
    }
    return await record_visit(ctx, **(values | overrides))


async def test_the_township_records_a_first_visit_and_the_entry_remembers_the_day(session, context_for):
    entry = await make_entry(session)
    recorded = await visit(await context_for(TOWNSHIP), entry)
    assert (recorded.stage, recorded.recorded_by, recorded.participants[0]["line"]) == (1, TOWNSHIP, "EDU")
    assert entry.last_visit_on == date(2026, 10, 13)


async def test_the_steps_are_taken_in_order_by_the_day_of_the_visit(session, context_for):
    entry = await make_entry(session)
    await make_visit(session, entry, visited_on=date(2026, 10, 14), stage=1)
    county = await context_for(COUNTY_EDU)
    with pytest.raises(BadInput) as refused:
        await visit(county, entry, visited_on=date(2026, 10, 13), stage=2)  # before the first step was taken
    assert refusal(refused) == ("stage", "STAGE_SKIPPED")
    second = await visit(
        county,
        entry,
        visited_on=date(2026, 10, 15),
        stage=2,
        method=VisitMethod.ORDER_TO_CORRECT,
        correct_by=date(2026, 10, 29),
    )
    assert second.stage == 2


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"visited_on": date(2026, 10, 11)}, "visitedOn", "OUT_OF_RANGE"),
        ({"stage": 5}, "stage", "OUT_OF_RANGE"),
        ({"method": VisitMethod.JUDICIAL_DOCUMENT}, "stage", "METHOD_NEEDS_STAGE"),
        ({"participants": []}, "participants", "REQUIRED"),
        ({"method": VisitMethod.JOINT_VISIT}, "participants", "JOINT_NEEDS_DEPARTMENTS"),
        ({"outcome": "  "}, "outcome", "REQUIRED"),
        ({"next_on": date(2026, 10, 12)}, "nextOn", "OUT_OF_RANGE"),
    ],
)
async def test_a_visit_breaking_a_rule_is_refused(session, context_for, overrides, field, code):
    entry = await make_entry(session)
    with pytest.raises(BadInput) as refused:
        await visit(await context_for(COUNTY_EDU), entry, **overrides)
    assert refusal(refused) == (field, code)
    assert entry.last_visit_on is None


async def test_a_joint_visit_of_two_departments_is_recorded(session, context_for):
    entry = await make_entry(session)
    recorded = await visit(await context_for(COUNTY_EDU), entry, method=VisitMethod.JOINT_VISIT, participants=JOINT)
    assert {p["department"] for p in recorded.participants} == {"学校", "狮山镇人民政府"}


async def test_the_neighbouring_county_is_told_not_found_and_the_city_is_forbidden(session, context_for):
    entry = await make_entry(session)
    with pytest.raises(BadInput) as refused:
        await visit(await context_for(NEIGHBOUR_EDU), entry)
    assert refusal(refused) == ("entryId", "NOT_FOUND")
    with pytest.raises(Forbidden):
        await visit(await context_for(CITY_EDU), entry)
    assert entry.last_visit_on is None
