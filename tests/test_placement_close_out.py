"""Placement of returned children (分类安置, POLICY 001) and close-out (销号, POLICY 004 §2: dynamic close-out):
each reason has its precondition, nothing is deleted, a stale version changes nothing."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import error_codes, gql, token_for
from tests.ledger_support import COUNTY_EDU, ENTRY, NEIGHBOUR_EDU, STAFF, make_student

OPEN = """mutation($input: OpenLedgerEntryInput!) { openLedgerEntry(input: $input) {
  entry { id version status } errors { field code message } } }"""
RETURNED = """mutation($input: MarkReturnedInput!) { markReturned(input: $input) {
  entry { id version status returnedOn } errors { field code message } } }"""
PLACE = """mutation($input: RecordPlacementInput!) { recordPlacement(input: $input) {
  entry { version status placement { method schoolCode placedOn } } errors { field code message } } }"""
CLOSE = """mutation($input: CloseOutLedgerEntryInput!) { closeOutLedgerEntry(input: $input) {
  entry { status version closeOut { reason note by } } errors { field code message } } }"""


async def open_entry(client, token, student_id, ledger="SUSPECTED", category=None):
    result = await gql(
        client,
        OPEN,
        {
            "input": {
                "studentId": student_id,
                "ledger": ledger,
                "source": "DOOR_TO_DOOR",
                "openedOn": "2026-10-01",
                "category": category,
            }
        },
        token,
    )
    payload = result["data"]["openLedgerEntry"]
    assert payload["errors"] == []
    return payload["entry"]


async def returned_entry(client, token, **student):
    child = await make_student(client, token, **student)
    entry = await open_entry(client, token, child["id"])
    result = await gql(
        client,
        RETURNED,
        {"input": {"entryId": entry["id"], "returnedOn": "2026-10-12", "version": entry["version"]}},
        token,
    )
    payload = result["data"]["markReturned"]
    assert payload["errors"] == []
    return payload["entry"]


def codes(result, field):
    return [e["code"] for e in result["data"][field]["errors"]]


async def test_placement_needs_a_returned_child(client):
    """POLICY 001: placement is for children back at school."""
    county = await token_for(client, COUNTY_EDU)
    child = await make_student(client, county)
    entry = await open_entry(client, county, child["id"])
    placement = {"entryId": entry["id"], "placement": "JOIN_CLASS", "placedOn": "2026-10-13", "version": 1}
    assert codes(await gql(client, PLACE, {"input": placement}, county), "recordPlacement") == ["NOT_RETURNED"]


@pytest.mark.parametrize("method", ["HOME_TEACHING", "SPECIAL_SCHOOL"])
async def test_home_teaching_and_special_schools_are_for_disabled_children(client, method):
    """POLICY 001 §2.2: special-education schools and home teaching (送教上门) serve disabled children."""
    county = await token_for(client, COUNTY_EDU)
    entry = await returned_entry(client, county)
    placement = {"entryId": entry["id"], "placement": method, "placedOn": "2026-10-13", "version": entry["version"]}
    assert codes(await gql(client, PLACE, {"input": placement}, county), "recordPlacement") == ["NOT_DISABLED"]

    disabled = await returned_entry(
        client, county, special_groups=["DISABLED"], disabilityCategory="肢体残疾", disabilityGrade=2
    )
    placement |= {"entryId": disabled["id"], "version": disabled["version"]}
    placed = (await gql(client, PLACE, {"input": placement}, county))["data"]["recordPlacement"]
    assert placed["errors"] == []
    assert placed["entry"]["placement"] == {"method": method, "schoolCode": None, "placedOn": "2026-10-13"}


async def test_returned_and_placed_closes_only_after_placement(client):
    """POLICY 001: classified placement comes before close-out."""
    county = await token_for(client, COUNTY_EDU)
    entry = await returned_entry(client, county)
    close = {"entryId": entry["id"], "reason": "RETURNED_AND_PLACED", "version": entry["version"]}
    assert codes(await gql(client, CLOSE, {"input": close}, county), "closeOutLedgerEntry") == ["PLACEMENT_REQUIRED"]
    placement = {
        "entryId": entry["id"],
        "placement": "SEPARATE_CLASS",
        "placedOn": "2026-10-13",
        "version": entry["version"],
    }
    placed = (await gql(client, PLACE, {"input": placement}, county))["data"]["recordPlacement"]["entry"]
    close["version"] = placed["version"]
    closed = (await gql(client, CLOSE, {"input": close}, county))["data"]["closeOutLedgerEntry"]
    assert closed["entry"]["status"] == "CLOSED"
    assert closed["entry"]["closeOut"] == {"reason": "RETURNED_AND_PLACED", "note": None, "by": COUNTY_EDU}


async def test_a_closed_entry_is_kept_and_cannot_change(client):
    """ARCHITECTURE §5 / POLICY 004 §2: closed out, never deleted; the record stays readable and frozen."""
    county = await token_for(client, COUNTY_EDU)
    child = await make_student(client, county)
    entry = await open_entry(client, county, child["id"])
    close = {"entryId": entry["id"], "reason": "ENROLLED_ELSEWHERE_CONFIRMED", "version": entry["version"]}
    closed = (await gql(client, CLOSE, {"input": close}, county))["data"]["closeOutLedgerEntry"]["entry"]
    again = {"entryId": entry["id"], "reason": "DECEASED", "version": closed["version"]}
    assert codes(await gql(client, CLOSE, {"input": again}, county), "closeOutLedgerEntry") == ["CLOSED"]
    node = (await gql(client, ENTRY, {"id": entry["id"]}, county))["data"]["node"]
    assert node["status"] == "CLOSED"
    assert node["closeOut"]["reason"] == "ENROLLED_ELSEWHERE_CONFIRMED"


async def test_each_close_reason_has_its_precondition(client):
    """POLICY 003 annex 1 note 3 (a dropout has a category), compulsory ages; a deferral is no close-out reason
    (seed 001 二2, tests/test_deferral.py)."""
    county = await token_for(client, COUNTY_EDU)
    dropout = await open_entry(client, county, (await make_student(client, county))["id"], ledger="DROPOUT")
    v = dropout["version"]

    async def refused(reason, note=None, entry=dropout, version=v):
        close = {"entryId": entry["id"], "reason": reason, "note": note, "version": version}
        return codes(await gql(client, CLOSE, {"input": close}, county), "closeOutLedgerEntry")

    assert await refused("DECEASED") == ["CATEGORY_REQUIRED"]
    suspected = await open_entry(client, county, (await make_student(client, county))["id"])
    sv = suspected["version"]
    assert await refused("OTHER", entry=suspected, version=sv) == ["REQUIRED"]
    assert await refused("OTHER", "  ", entry=suspected, version=sv) == ["REQUIRED"]
    assert await refused("AGED_OUT", entry=suspected, version=sv) == ["STILL_SCHOOL_AGE"]
    assert await refused("ESCALATED_TO_DROPOUT", entry=suspected, version=sv) == ["RULE_OWNED"]

    township = await token_for(client, "gov-township-532329101")  # the government line registers a child out of school
    aged = await make_student(client, township, school=None, grade=None, birth=date(2010, 3, 1))
    old = await open_entry(client, county, aged["id"], category="O")
    assert await refused("AGED_OUT", entry=old, version=old["version"]) == []


async def test_a_stale_version_gets_conflict_and_changes_nothing(client):
    """ARCHITECTURE §5: optimistic versioning, never a silent overwrite."""
    county = await token_for(client, COUNTY_EDU)
    entry = await returned_entry(client, county)
    placement = {
        "entryId": entry["id"],
        "placement": "JOIN_CLASS",
        "placedOn": "2026-10-13",
        "version": entry["version"],
    }
    assert (await gql(client, PLACE, {"input": placement}, county))["data"]["recordPlacement"]["errors"] == []
    stale = placement | {"placement": "INDIVIDUAL_TUTORING"}
    result = (await gql(client, PLACE, {"input": stale}, county))["data"]["recordPlacement"]
    assert [e["code"] for e in result["errors"]] == ["CONFLICT"]
    assert "version" in result["errors"][0]["message"]
    node = (await gql(client, ENTRY, {"id": entry["id"]}, county))["data"]["node"]
    assert node["placement"]["method"] == "JOIN_CLASS"


async def test_out_of_scope_and_roles_without_the_action_are_refused(client):
    """Each level acts only inside its jurisdiction; close-out is the county bureau's (POLICY 004 §2)."""
    county = await token_for(client, COUNTY_EDU)
    entry = await returned_entry(client, county)
    placement = {
        "entryId": entry["id"],
        "placement": "JOIN_CLASS",
        "placedOn": "2026-10-13",
        "version": entry["version"],
    }
    neighbour = await token_for(client, NEIGHBOUR_EDU)
    assert codes(await gql(client, PLACE, {"input": placement}, neighbour), "recordPlacement") == ["NOT_FOUND"]
    city = await token_for(client, "edu-city-5323")
    assert error_codes(await gql(client, PLACE, {"input": placement}, city)) == ["FORBIDDEN"]
    staff = await token_for(client, STAFF)
    close = {"entryId": entry["id"], "reason": "DECEASED", "version": entry["version"]}
    assert error_codes(await gql(client, CLOSE, {"input": close}, staff)) == ["FORBIDDEN"]
