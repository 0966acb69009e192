"""Every ledger mutation and read, refused outside the caller's jurisdiction and to a role without the action.

Each level acts only inside its own jurisdiction (双线四级, ARCHITECTURE §4): the neighbouring county is told
NOT_FOUND, exactly as for a missing object; the city bureau, which reads the ledgers but writes none,
gets FORBIDDEN. Nothing is written either way.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from models import AuditLog
from tests.conftest import error_codes, gql, token_for
from tests.ledger_support import COUNTY_EDU, ENTRY, NEIGHBOUR_EDU
from tests.persuasion_support import JOINT, deferred_on_joint_visits, new_case

CITY_EDU = "edu-city-5323"  # LEDGER:READ over both counties, no LEDGER:WRITE, CLOSE or APPROVE_DEFERRAL


def mutations(entry: dict[str, Any], deferral_id: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """mutation name → (its input type, an input that the county bureau could send)."""
    e, v = entry["id"], entry["version"]
    return {
        "openLedgerEntry": (
            "OpenLedgerEntryInput",
            {"studentId": entry["studentId"], "ledger": "DROPOUT", "source": "MANUAL", "openedOn": "2026-10-01"},
        ),
        "setLedgerCategory": ("SetLedgerCategoryInput", {"entryId": e, "category": "F", "version": v}),
        "markReturned": ("MarkReturnedInput", {"entryId": e, "returnedOn": "2026-10-10", "version": v}),
        "recordPlacement": (
            "RecordPlacementInput",
            {"entryId": e, "placement": "JOIN_CLASS", "placedOn": "2026-10-10", "version": v},
        ),
        "closeOutLedgerEntry": ("CloseOutLedgerEntryInput", {"entryId": e, "reason": "DECEASED", "version": v}),
        "recordPersuasionVisit": (
            "RecordPersuasionVisitInput",
            {
                "entryId": e,
                "visitedOn": "2026-10-10",
                "method": "JOINT_VISIT",
                "stage": 1,
                "participants": JOINT,
                "outcome": "家长同意",
            },
        ),
        "setCasePlan": (
            "SetCasePlanInput",
            {
                "studentId": entry["studentId"],
                "goal": "返校",
                "responsibleEdu": "校长",
                "responsibleGov": "村主任",
                "steps": [],
            },
        ),
        "requestDeferral": ("RequestDeferralInput", {"entryId": e, "basis": "JOINT_VISITS", "grounds": "拒不返校"}),
        "decideDeferral": ("DecideDeferralInput", {"deferralId": deferral_id, "approve": True}),
        "handOverLedgerEntry": (
            "HandOverLedgerEntryInput",
            {"entryId": e, "toRegionCode": "640402", "notice": "书面通知", "version": v},
        ),
    }


async def audit_rows(sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditLog)) or 0)


@pytest.fixture
async def case(client):
    county = await token_for(client, COUNTY_EDU)
    entry = await new_case(client, county)
    deferral_id = await deferred_on_joint_visits(client, entry)
    current = (await gql(client, ENTRY, {"id": entry["id"]}, county))["data"]["node"]
    return {**entry, "version": current["version"]}, deferral_id


@pytest.mark.parametrize(
    "name",
    [
        "openLedgerEntry",
        "setLedgerCategory",
        "markReturned",
        "recordPlacement",
        "closeOutLedgerEntry",
        "recordPersuasionVisit",
        "setCasePlan",
        "requestDeferral",
        "decideDeferral",
        "handOverLedgerEntry",
    ],
)
async def test_the_neighbouring_county_is_told_not_found_and_writes_nothing(client, sessions, case, name):
    entry, deferral_id = case
    input_type, input = mutations(entry, deferral_id)[name]
    query = f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ errors {{ field code }} }} }}"
    before = await audit_rows(sessions)
    result = await gql(client, query, {"input": input}, await token_for(client, NEIGHBOUR_EDU))
    assert [e["code"] for e in result["data"][name]["errors"]] == ["NOT_FOUND"]
    assert await audit_rows(sessions) == before


@pytest.mark.parametrize(
    "name",
    [
        "openLedgerEntry",
        "setLedgerCategory",
        "markReturned",
        "recordPlacement",
        "closeOutLedgerEntry",
        "recordPersuasionVisit",
        "setCasePlan",
        "requestDeferral",
        "decideDeferral",
        "handOverLedgerEntry",
    ],
)
async def test_a_reader_without_the_action_is_forbidden_and_writes_nothing(client, sessions, case, name):
    entry, deferral_id = case
    input_type, input = mutations(entry, deferral_id)[name]
    query = f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ errors {{ field code }} }} }}"
    before = await audit_rows(sessions)
    result = await gql(client, query, {"input": input}, await token_for(client, CITY_EDU))
    assert error_codes(result) == ["FORBIDDEN"]
    assert await audit_rows(sessions) == before


async def test_the_neighbour_reads_neither_the_entry_nor_the_students_current_entry(client, case):
    entry, _ = case
    neighbour = await token_for(client, NEIGHBOUR_EDU)
    assert (await gql(client, ENTRY, {"id": entry["id"]}, neighbour))["data"]["node"] is None
    current = "query($id: ID!) { node(id: $id) { ... on Student { currentEntry { id } } } }"
    assert (await gql(client, current, {"id": entry["studentId"]}, neighbour))["data"]["node"] is None
    county = await token_for(client, COUNTY_EDU)
    mine = (await gql(client, current, {"id": entry["studentId"]}, county))["data"]["node"]
    assert mine == {"currentEntry": {"id": entry["id"]}}
