"""A case's whole life through the API: flagged by attendance, visited, escalated, returned, placed,
closed out — seen and done by the county bureau, none of it by the neighbouring county."""

from __future__ import annotations

from datetime import date

from tests.conftest import error_codes, gql, token_for
from tests.ledger_support import (
    COUNTY_EDU,
    ENTRY,
    NEIGHBOUR_EDU,
    STAFF,
    WUDING_PRIMARY,
    entries_of,
    make_student,
    record_absent,
    run_rules,
    school_days,
)

VISIT = """mutation($input: RecordPersuasionVisitInput!) { recordPersuasionVisit(input: $input) {
  visit { stage method } entry { lastVisitOn version } errors { field code message } } }"""
CATEGORY = """mutation($input: SetLedgerCategoryInput!) { setLedgerCategory(input: $input) {
  entry { category version } errors { field code message } } }"""
PLACE = """mutation($input: RecordPlacementInput!) { recordPlacement(input: $input) {
  entry { status placement { method } version } errors { field code message } } }"""
CLOSE = """mutation($input: CloseOutLedgerEntryInput!) { closeOutLedgerEntry(input: $input) {
  entry { status closeOut { reason by } version } errors { field code message } } }"""
REGISTER = """mutation($input: RecordAttendanceInput!) { recordAttendance(input: $input) {
  recorded returned { id status returnedOn } errors { field code message } } }"""


async def test_a_case_from_attendance_to_close_out(client):
    """POLICY 003 annex 1 notes 1–2 (suspected after a week, dropout after a further month), POLICY 004 §9
    (every visit recorded), POLICY 001 (placement before close-out), POLICY 004 §2 (dynamic close-out)."""
    county = await token_for(client, COUNTY_EDU)
    staff = await token_for(client, STAFF)
    neighbour = await token_for(client, NEIGHBOUR_EDU)
    student = await make_student(client, county)

    # absent without leave from Monday 7 September: the 6th school day (Mon 14th) makes it suspected
    payloads = await record_absent(client, staff, student["id"], school_days(date(2026, 9, 7), date(2026, 9, 14)))
    assert [len(p["opened"]) for p in payloads] == [0, 0, 0, 0, 0, 1]
    suspected = payloads[-1]["opened"][0]
    assert (suspected["ledger"], suspected["source"], suspected["openedOn"]) == (
        "SUSPECTED",
        "ATTENDANCE",
        "2026-09-14",
    )

    assert [e["id"] for e in await entries_of(client, county, student["id"])] == [suspected["id"]]
    current = "query($id: ID!) { node(id: $id) { ... on Student { currentEntry { id ledger } } } }"
    seen = (await gql(client, current, {"id": student["id"]}, county))["data"]["node"]
    assert seen["currentEntry"] == {"id": suspected["id"], "ledger": "SUSPECTED"}
    assert (await gql(client, ENTRY, {"id": suspected["id"]}, neighbour))["data"]["node"] is None

    visit = {
        "entryId": suspected["id"],
        "visitedOn": "2026-09-15",
        "method": "HOME_VISIT",
        "stage": 1,
        "participants": [{"name": "班主任", "department": "学校", "line": "EDU"}],
        "outcome": "家长答应送孩子返校",
    }
    result = (await gql(client, VISIT, {"input": visit}, county))["data"]["recordPersuasionVisit"]
    assert result["errors"] == []
    assert result["entry"]["lastVisitOn"] == "2026-09-15"

    # still absent more than a month after it became suspected: a dropout entry, linked
    # the school enters the month's absences late, latest day first: no batch sees the run, the sweep does
    batches = await record_absent(
        client, staff, student["id"], school_days(date(2026, 9, 15), date(2026, 10, 15))[::-1]
    )
    assert not any(p["escalated"] for p in batches)
    assert (await run_rules(client, county, date(2026, 10, 14)))["escalated"] == []  # one month, not more
    swept = await run_rules(client, county, date(2026, 10, 15))
    dropout = next(e for e in swept["escalated"] if e["student"]["id"] == student["id"])
    assert (dropout["ledger"], dropout["openedOn"]) == ("DROPOUT", "2026-10-15")
    entries = await entries_of(client, county, student["id"])
    closed = next(e for e in entries if e["id"] == suspected["id"])
    assert closed["closeOut"]["reason"] == "ESCALATED_TO_DROPOUT"

    # the category must be set before close-out
    placed = await gql(
        client,
        CLOSE,
        {"input": {"entryId": dropout["id"], "reason": "DECEASED", "version": dropout["version"]}},
        county,
    )
    assert [e["code"] for e in placed["data"]["closeOutLedgerEntry"]["errors"]] == ["CATEGORY_REQUIRED"]
    category = await gql(
        client, CATEGORY, {"input": {"entryId": dropout["id"], "category": "F", "version": dropout["version"]}}, county
    )
    version = category["data"]["setLedgerCategory"]["entry"]["version"]

    # back at school: the class register of 19 October has no absence for the child
    register = await gql(
        client,
        REGISTER,
        {"input": {"day": "2026-10-19", "absences": [], "classOf": {"schoolCode": WUDING_PRIMARY, "grade": 3}}},
        staff,
    )
    returned = register["data"]["recordAttendance"]["returned"]
    assert [(e["id"], e["status"], e["returnedOn"]) for e in returned] == [(dropout["id"], "RETURNED", "2026-10-19")]
    version += 1

    # close-out needs a placement first
    refused = await gql(
        client,
        CLOSE,
        {"input": {"entryId": dropout["id"], "reason": "RETURNED_AND_PLACED", "version": version}},
        county,
    )
    assert [e["code"] for e in refused["data"]["closeOutLedgerEntry"]["errors"]] == ["PLACEMENT_REQUIRED"]
    placement = {"entryId": dropout["id"], "placement": "JOIN_CLASS", "placedOn": "2026-10-20", "version": version}
    placed = (await gql(client, PLACE, {"input": placement}, county))["data"]["recordPlacement"]
    assert placed["errors"] == []
    closed = await gql(
        client,
        CLOSE,
        {"input": {"entryId": dropout["id"], "reason": "RETURNED_AND_PLACED", "version": placed["entry"]["version"]}},
        county,
    )
    assert closed["data"]["closeOutLedgerEntry"]["entry"]["closeOut"] == {
        "reason": "RETURNED_AND_PLACED",
        "by": COUNTY_EDU,
    }


async def test_neighbouring_county_can_do_nothing_to_the_case(client):
    """Each level sees and acts only in its own jurisdiction (双线四级, ARCHITECTURE §4)."""
    county = await token_for(client, COUNTY_EDU)
    staff = await token_for(client, STAFF)
    neighbour = await token_for(client, NEIGHBOUR_EDU)
    student = await make_student(client, county)
    payloads = await record_absent(client, staff, student["id"], school_days(date(2026, 9, 7), date(2026, 9, 14)))
    entry = payloads[-1]["opened"][0]

    assert await entries_of(client, neighbour, student["id"]) == []
    category = await gql(
        client, CATEGORY, {"input": {"entryId": entry["id"], "category": "F", "version": entry["version"]}}, neighbour
    )
    assert [e["code"] for e in category["data"]["setLedgerCategory"]["errors"]] == ["NOT_FOUND"]
    swept = await run_rules(client, neighbour, date(2026, 10, 15))
    assert all(e["student"]["id"] != student["id"] for e in swept["escalated"])
    absent = await record_absent(client, neighbour, student["id"], [date(2026, 9, 15)])
    assert [e["code"] for e in absent[0]["errors"]] == ["NOT_FOUND"]


async def test_a_school_may_not_close_out_or_run_the_rules(client):
    """Close-out (销号) and the sweep are the county bureau's (POLICY 004 §2): a school role is refused."""
    county = await token_for(client, COUNTY_EDU)
    staff = await token_for(client, STAFF)
    student = await make_student(client, county)
    payloads = await record_absent(client, staff, student["id"], school_days(date(2026, 9, 7), date(2026, 9, 14)))
    entry = payloads[-1]["opened"][0]
    refused = await gql(
        client, CLOSE, {"input": {"entryId": entry["id"], "reason": "DECEASED", "version": entry["version"]}}, staff
    )
    assert error_codes(refused) == ["FORBIDDEN"]
    assert error_codes(await run_rules(client, staff, date(2026, 10, 1))) == ["FORBIDDEN"]
