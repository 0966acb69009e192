"""Ledger entry rules at the resolver level (resolvers/ledgers/entries.py), for demo principals.

The same refusals through HTTP, mutation by mutation, are tests/test_ledger_refusals.py.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from authz.errors import Forbidden
from models import AuditLog
from models.base import today
from models.ledger import DropoutCategory, EntrySource, EntryStatus, Ledger
from resolvers.errors import BadInput
from resolvers.ledgers import entries
from tests.factories import make_child, make_entry
from tests.ledger_support import COUNTY_EDU, NEIGHBOUR_EDU, STAFF, YUANMOU_PRIMARY, YUANMOU_VILLAGE
from tests.report_support import CITY_EDU  # reads both counties' ledgers, writes none
from tests.resolvers.conftest import refusal


async def audit_rows(session) -> int:
    return int(await session.scalar(select(func.count()).select_from(AuditLog)) or 0)


async def open_suspected(ctx, child, **overrides):
    values = {
        "student_id": str(child.id),
        "ledger": Ledger.SUSPECTED,
        "source": EntrySource.DOOR_TO_DOOR,
        "opened_on": date(2026, 9, 1),
        "category": None,
        "note": None,
    }
    return await entries.open_entry(ctx, **(values | overrides))


async def test_the_county_bureau_opens_an_entry_carrying_the_childs_paths_and_audits_it(session, context_for):
    child = await make_child(session)
    before = await audit_rows(session)
    entry = await open_suspected(await context_for(COUNTY_EDU), child)
    assert (entry.status, entry.ledger, entry.opened_by) == (EntryStatus.OPEN, Ledger.SUSPECTED, COUNTY_EDU)
    assert (entry.school_path, entry.household_path, entry.residence_path) == (
        child.school_path,
        child.household_path,
        child.residence_path,
    )
    assert entry.responsible_path == "53/5323/532329"  # the county of the child's school answers for it
    assert not entry.is_relapse
    assert await audit_rows(session) == before + 1


async def test_the_school_staff_open_an_entry_for_their_own_pupil(session, context_for):
    child = await make_child(session)
    entry = await open_suspected(await context_for(STAFF), child)
    assert entry.opened_by == STAFF


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"source": EntrySource.ATTENDANCE}, "source", "RULE_OWNED"),
        ({"category": DropoutCategory.P}, "category", "DEFERRAL_NOT_APPROVED"),
        ({"opened_on": today() + timedelta(days=1)}, "openedOn", "FUTURE_DATE"),
    ],
)
async def test_an_entry_the_rules_do_not_allow_is_refused_and_nothing_is_written(
    session, context_for, overrides, field, code
):
    child = await make_child(session)
    before = await audit_rows(session)
    with pytest.raises(BadInput) as refused:
        await open_suspected(await context_for(COUNTY_EDU), child, **overrides)
    assert refusal(refused) == (field, code)
    assert await audit_rows(session) == before


async def test_a_child_already_on_a_ledger_is_not_entered_twice(session, context_for):
    child = await make_child(session)
    await make_entry(session, child)
    with pytest.raises(BadInput) as refused:
        await open_suspected(await context_for(COUNTY_EDU), child)
    assert refusal(refused) == ("studentId", "ALREADY_ON_LEDGER")


async def test_an_entry_after_a_closed_one_is_a_relapse_pointing_back_to_it(session, context_for):
    child = await make_child(session)
    closed = await make_entry(session, child, status=EntryStatus.CLOSED, opened_on=date(2026, 3, 2))
    entry = await open_suspected(await context_for(COUNTY_EDU), child)
    assert (entry.is_relapse, entry.previous_entry_id) == (True, closed.id)


async def test_a_return_must_lie_between_opening_and_today(session, context_for):
    entry = await make_entry(session, opened_on=date(2026, 9, 1))
    ctx = await context_for(COUNTY_EDU)
    for returned_on in (date(2026, 8, 31), today() + timedelta(days=1)):
        with pytest.raises(BadInput) as refused:
            await entries.mark_returned(ctx, entry_id=str(entry.id), returned_on=returned_on, version=entry.version)
        assert refusal(refused) == ("returnedOn", "OUT_OF_RANGE")
    returned = await entries.mark_returned(ctx, entry_id=str(entry.id), returned_on=date(2026, 9, 2), version=0)
    assert (returned.status, returned.returned_on) == (EntryStatus.RETURNED, date(2026, 9, 2))


async def test_category_p_is_set_only_by_an_approved_deferral(session, context_for):
    entry = await make_entry(session)
    ctx = await context_for(COUNTY_EDU)
    with pytest.raises(BadInput) as refused:
        await entries.set_category(ctx, entry_id=str(entry.id), category=DropoutCategory.P, version=entry.version)
    assert refusal(refused) == ("category", "DEFERRAL_NOT_APPROVED")
    changed = await entries.set_category(ctx, entry_id=str(entry.id), category=DropoutCategory.F, version=0)
    assert changed.category is DropoutCategory.F


async def test_the_neighbouring_county_is_told_not_found_for_a_child_and_an_entry_outside_it(session, context_for):
    child = await make_child(session)
    entry = await make_entry(session)
    neighbour = await context_for(NEIGHBOUR_EDU)
    assert await entries.get_entries(neighbour, [str(entry.id)]) == {}
    before = await audit_rows(session)
    with pytest.raises(BadInput) as refused:
        await open_suspected(neighbour, child)
    assert refusal(refused) == ("studentId", "NOT_FOUND")
    with pytest.raises(BadInput) as refused:
        await entries.set_category(neighbour, entry_id=str(entry.id), category=DropoutCategory.F, version=0)
    assert refusal(refused) == ("entryId", "NOT_FOUND")
    assert await audit_rows(session) == before


async def test_the_neighbour_opens_an_entry_for_a_child_living_and_at_school_in_its_county(session, context_for):
    child = await make_child(session, residence=YUANMOU_VILLAGE, school=YUANMOU_PRIMARY, grade=4)
    entry = await open_suspected(await context_for(NEIGHBOUR_EDU), child)
    assert entry.responsible_path == "53/5323/532328"


async def test_the_city_bureau_reads_the_ledgers_but_is_forbidden_to_write_them(session, context_for):
    child = await make_child(session)
    entry = await make_entry(session)
    city = await context_for(CITY_EDU)
    listed = await entries.get_entries(city, [str(entry.id)])
    assert list(listed) == [str(entry.id)]
    before = await audit_rows(session)
    with pytest.raises(Forbidden):
        await open_suspected(city, child)
    with pytest.raises(Forbidden):
        await entries.set_category(city, entry_id=str(entry.id), category=DropoutCategory.F, version=0)
    assert await audit_rows(session) == before
