"""Guyuan's Table 1 and Table 2 in a school's monthly report: generated from the ledgers, enrolment and
attendance as of the month's last day, and frozen once submitted."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import gql, token_for
from tests.ledger_support import WUDING, WUDING_PRIMARY, make_student, open_entry, record_absent
from tests.report_support import (
    COUNTY_EDU,
    MINISTRY,
    NOTE,
    PRINCIPAL,
    STAFF,
    codes,
    draft_school,
    read,
    submitted_march,
)

CHINA = ZoneInfo("Asia/Shanghai")
DEMO_JUNIOR = "2153000011"  # 双柏县大庄镇中学: demo cases in March and October 2026
ENTRIES = """query($f: LedgerEntryFilter, $after: String) { ledgerEntries(filter: $f, first: 100, after: $after) {
  pageInfo { hasNextPage endCursor } edges { node { id ledger stage category openedOn student { id }
  returnedOn closeOut { at } } } } }"""
LEDGER_COUNTS = """query($r: String) { ledgerCounts(regionCode: $r, by: COUNTY) { ledger status countedAs entries } }"""
MARK_RETURNED = """mutation($input: MarkReturnedInput!) { markReturned(input: $input) {
  entry { version } errors { code } } }"""


async def _entries(client: Any, token: str, school: str, end: date) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after = None
    while True:
        f = {"schoolCode": school, "openedTo": end.isoformat()}
        page = (await gql(client, ENTRIES, {"f": f, "after": after}, token))["data"]["ledgerEntries"]
        out += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return out
        after = page["pageInfo"]["endCursor"]


def _open_at(entry: dict[str, Any], end: date) -> bool:
    closed = entry["closeOut"]
    return closed is None or datetime.fromisoformat(closed["at"]).astimezone(CHINA).date() > end


def _table1_from_ledger(entries: list[dict[str, Any]], end: date) -> dict[str, Counter[str]]:
    """What `ledgerEntries` says Table 1 must count: entries opened by the end, not closed out by then and not
    back at school by then (issue 14 §2: Table 1 counts who is absent now)."""
    out: dict[str, Counter[str]] = {"PRIMARY": Counter(), "JUNIOR": Counter(), "TOTAL": Counter()}
    for e in entries:
        if not _open_at(e, end) or (e["returnedOn"] and date.fromisoformat(e["returnedOn"]) <= end):
            continue
        keys = (
            ["suspected"] if e["ledger"] == "SUSPECTED" else ["dropouts", *([e["category"]] if e["category"] else [])]
        )
        for stage in (e["stage"], "TOTAL"):
            out[stage].update(keys)
    return out


def _table1_counts(report: dict[str, Any]) -> dict[str, Counter[str]]:
    out: dict[str, Counter[str]] = {}
    for row in report["table1"]:
        counts = Counter({"suspected": row["suspected"], "dropouts": row["dropouts"]})
        counts.update({c["category"]: c["count"] for c in row["byCategory"]})
        out[row["stage"]] = +counts
    return out


@pytest.mark.parametrize(
    ("school", "period", "end"),
    [(DEMO_JUNIOR, "2026-03", date(2026, 3, 31)), (DEMO_JUNIOR, "2026-10", date(2026, 10, 31))],
)
async def test_table1_equals_the_ledger_as_of_the_period_end(client, school, period, end):
    """POLICY 003 annex 1 notes 1–3: suspected and dropout counts, dropouts by category A–T, per stage — the
    entries `ledgerEntries` shows for the school opened by the month's end and not closed out by then."""
    staff = await token_for(client, f"staff-school-{school}")
    county = await token_for(client, "edu-county-532322")  # 双柏县
    drafted = await draft_school(client, staff, period, school=school)
    assert drafted["errors"] == []
    report = drafted["report"]
    entries = await _entries(client, county, school, end)
    assert entries, "the demo has cases at this school"
    assert _table1_counts(report) == {k: +v for k, v in _table1_from_ledger(entries, end).items()}
    listed = [*report["dropouts"], *report["suspected"]]
    assert {r["studentId"] for r in listed if not r["closedOut"]} == {
        e["student"]["id"] for e in entries if _open_at(e, end)
    }


async def test_table1_counts_new_cases_by_stage_and_category(client):
    """POLICY 003 annex 1: a dropout counts under its category; a case opened after the month does not."""
    staff, county = await token_for(client, STAFF), await token_for(client, COUNTY_EDU)
    first = (await draft_school(client, staff))["report"]
    before = _table1_counts(first)
    kids = [await make_student(client, county, enrolledOn="2025-09-01") for _ in range(3)]
    assert (await open_entry(client, staff, kids[0]["id"], ledger="DROPOUT", opened_on=date(2026, 3, 5), category="F"))[
        "errors"
    ] == []
    assert (await open_entry(client, staff, kids[1]["id"], opened_on=date(2026, 3, 31)))["errors"] == []
    assert (await open_entry(client, staff, kids[2]["id"], opened_on=date(2026, 4, 1)))["errors"] == []
    report = (await draft_school(client, staff, version=first["version"]))["report"]
    after = _table1_counts(report)
    assert after["PRIMARY"] - before["PRIMARY"] == Counter({"dropouts": 1, "F": 1, "suspected": 1})
    assert after["TOTAL"] - before["TOTAL"] == Counter({"dropouts": 1, "F": 1, "suspected": 1})
    entries = await _entries(client, county, WUDING_PRIMARY, date(2026, 3, 31))
    assert _table1_counts(report) == {k: +v for k, v in _table1_from_ledger(entries, date(2026, 3, 31)).items()}


async def test_should_attend_and_on_leave_as_of_the_month_end(client):
    """POLICY 003 annex 1: should attend (应到校人数) counts the children enrolled on the month's last day
    (enrolment history), on leave (请假未到校人数) those whose last school day of the month was leave."""
    staff, county = await token_for(client, STAFF), await token_for(client, COUNTY_EDU)
    before = (await draft_school(client, staff))["report"]
    on_leave = await make_student(client, county, enrolledOn="2026-02-10")
    await make_student(client, county, enrolledOn="2026-02-10")
    await make_student(client, county, enrolledOn="2026-04-01")  # not yet at the school in March
    assert (await record_absent(client, staff, on_leave["id"], [date(2026, 3, 31)], leave="ILLNESS"))[0]["errors"] == []
    after = (await draft_school(client, staff, version=before["version"]))["report"]
    rows = {r["stage"]: r for r in after["table1"]}
    old = {r["stage"]: r for r in before["table1"]}
    for stage in ("PRIMARY", "TOTAL"):
        assert rows[stage]["shouldAttend"] - old[stage]["shouldAttend"] == 2
        assert rows[stage]["onLeave"] - old[stage]["onLeave"] == 1
    assert rows["JUNIOR"]["shouldAttend"] == 0  # a primary school


async def test_a_child_back_at_school_awaiting_close_out_counts_as_returned_not_as_a_dropout(client):
    """POLICY 003 annex 1 note 1 (pupils not at school) and issue 14 §2: a dropout back at school by the month's
    end but not closed out leaves Table 1's dropouts and stays on Table 2 with the return in the remarks;
    `ledgerCounts` shows the case as RETURNED."""
    staff, county = await token_for(client, STAFF), await token_for(client, COUNTY_EDU)
    first = (await draft_school(client, staff))["report"]
    kid = await make_student(client, county, enrolledOn="2025-09-01")
    entry = (await open_entry(client, staff, kid["id"], ledger="DROPOUT", opened_on=date(2026, 3, 2), category="G"))[
        "entry"
    ]
    absent = (await draft_school(client, staff, version=first["version"]))["report"]
    assert _table1_counts(absent)["TOTAL"] - _table1_counts(first)["TOTAL"] == Counter({"dropouts": 1, "G": 1})
    back = {"entryId": entry["id"], "returnedOn": "2026-03-20", "version": entry["version"]}
    assert (await gql(client, MARK_RETURNED, {"input": back}, county))["data"]["markReturned"]["errors"] == []
    returned = (await draft_school(client, staff, version=absent["version"]))["report"]
    assert _table1_counts(returned) == _table1_counts(first)
    row = next(r for r in returned["dropouts"] if r["studentId"] == kid["id"])
    assert (row["closedOut"], row["remarks"]) == (False, "2026-03-20 返校")
    counts = (await gql(client, LEDGER_COUNTS, {"r": WUDING}, county))["data"]["ledgerCounts"]
    assert {(r["ledger"], r["status"], r["countedAs"]) for r in counts if r["status"] == "RETURNED"} >= {
        ("DROPOUT", "RETURNED", "RETURNED")
    }
    assert all(r["countedAs"] == r["ledger"] for r in counts if r["status"] != "RETURNED")


async def test_table2_has_the_columns_of_annex_2(client):
    """POLICY 003 annex 2: seq, name, gender, ID number, registry number, home address, poverty-registered,
    reason A–T, school after return, closed out, remarks — the ID numbers masked in the API."""
    staff, county = await token_for(client, STAFF), await token_for(client, COUNTY_EDU)
    kid = await make_student(client, county, enrolledOn="2025-09-01", special_groups=["POVERTY_REGISTERED"])
    entry = (await open_entry(client, staff, kid["id"], ledger="DROPOUT", opened_on=date(2026, 3, 2), category="G"))[
        "entry"
    ]
    back = {"entryId": entry["id"], "returnedOn": "2026-03-20", "version": entry["version"]}
    assert (await gql(client, MARK_RETURNED, {"input": back}, county))["data"]["markReturned"]["errors"] == []
    report = (await draft_school(client, staff))["report"]
    row = next(r for r in report["dropouts"] if r["studentId"] == kid["id"])
    assert row["seq"] == len(report["dropouts"])  # the newest case, numbered from 1 in opening order
    assert (row["name"], row["gender"], row["reason"], row["povertyRegistered"], row["closedOut"]) == (
        kid["name"],
        "MALE",
        "G",
        True,
        False,
    )
    assert row["nationalId"].startswith("532329")
    assert row["nationalId"][6:14] == "********"
    assert row["registryNumber"].startswith("G53232")
    assert "*" in row["registryNumber"]
    assert row["homeAddress"] == "云南省楚雄彝族自治州武定县狮山镇狮山村民委员会"
    assert row["schoolAfterReturn"] == "武定县狮山镇中心小学"
    assert row["remarks"] == "2026-03-20 返校"


async def test_a_submitted_report_is_frozen(client):
    """Issue 6 §2: snapshot rows, never recomputed: a ledger change after submission does not change the
    submitted report; generating it again or annotating it is refused (LOCKED)."""
    staff, principal = await token_for(client, STAFF), await token_for(client, PRINCIPAL)
    county = await token_for(client, COUNTY_EDU)
    listed, later = [await make_student(client, county, enrolledOn="2025-09-01") for _ in range(2)]
    assert (await open_entry(client, staff, listed["id"], opened_on=date(2026, 3, 16)))["errors"] == []
    report = await submitted_march(client, staff, principal)
    assert listed["id"] in [r["studentId"] for r in report["suspected"]]

    opened = await open_entry(client, staff, later["id"], ledger="DROPOUT", opened_on=date(2026, 3, 9), category="E")
    assert opened["errors"] == []
    again = await read(client, county, report["id"])
    assert (again["table1"], again["dropouts"], again["suspected"]) == (
        report["table1"],
        report["dropouts"],
        report["suspected"],
    )
    assert codes(await draft_school(client, staff, version=report["version"])) == ["LOCKED"]
    note = {"reportId": report["id"], "studentId": listed["id"], "note": "补充", "version": report["version"]}
    assert codes((await gql(client, NOTE, {"input": note}, staff))["data"]["setReportNote"]) == ["LOCKED"]


async def test_the_ministry_reads_figures_not_children(client):
    """Issue 6 §5: the ministry reads no personal data; reports' lists need the ledgers' read right."""
    report = await submitted_march(client, await token_for(client, STAFF), await token_for(client, PRINCIPAL))
    seen = await read(client, await token_for(client, MINISTRY), report["id"])
    assert seen["table1"] == report["table1"]
    assert (seen["dropouts"], seen["suspected"]) == (None, None)
