"""The attendance rules that feed the ledgers (POLICY 003 annex 1 notes 1–2), through the API and the CLI:
absent more than a week without leave → suspected; still absent more than a month later → dropout."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from baoxue.app import create_app
from baoxue.cli import main
from models.base import today
from tests.conftest import error_codes, gql, make_settings, token_for
from tests.ledger_support import (
    ATTENDANCE,
    COUNTY_EDU,
    NEIGHBOUR_EDU,
    STAFF,
    WUDING_PRIMARY,
    YUANMOU_PRIMARY,
    YUANMOU_VILLAGE,
    entries_of,
    make_student,
    record_absent,
    run_rules,
    school_days,
)

NEIGHBOUR_STAFF = f"staff-school-{YUANMOU_PRIMARY}"  # 元谋县元马镇中心小学
TOWNSHIP = "gov-township-532329101"  # 狮山镇
OTHER_WUDING_PRIMARY = "2153000037"  # 武定县环州乡中心小学

STUDENT_ATTENDANCE = """query($id: ID!, $month: String!) { node(id: $id) { ... on Student {
  attendance(month: $month) { days { day status } } } } }"""
LINKS = """query($id: ID!) { node(id: $id) { ... on LedgerEntry { id ledger status openedOn returnedOn
  isRelapse version closeOut { reason } escalatedFrom { id } previousEntry { id } } } }"""
CLOSE = """mutation($input: CloseOutLedgerEntryInput!) { closeOutLedgerEntry(input: $input) {
  entry { status version } errors { field code message } } }"""


async def register(
    client: httpx.AsyncClient,
    token: str,
    day: date,
    absent: Sequence[str] = (),
    *,
    school: str = WUDING_PRIMARY,
    grade: int = 3,
) -> dict[str, Any]:
    """A class register: the listed children absent without leave, the rest of the class present."""
    absences = [{"studentId": s} for s in absent]
    variables = {
        "input": {"day": day.isoformat(), "absences": absences, "classOf": {"schoolCode": school, "grade": grade}}
    }
    result = await gql(client, ATTENDANCE, variables, token)
    return result["data"]["recordAttendance"] if result.get("data") else result  # type: ignore[no-any-return]


async def links(client: httpx.AsyncClient, token: str, entry_id: str) -> dict[str, Any]:
    return (await gql(client, LINKS, {"id": entry_id}, token))["data"]["node"]  # type: ignore[no-any-return]


def opened_for(payloads: list[dict[str, Any]], student_id: str) -> list[int]:
    """How many entries each payload opened for the child."""
    return [len([e for e in p["opened"] if e["student"]["id"] == student_id]) for p in payloads]


async def test_five_school_days_absent_open_nothing_and_the_sixth_opens_a_suspected_entry(client):
    """POLICY 003 annex 1 note 1: suspected dropout is absent "超过一星期" (more than one week) without leave:
    more than five school days (README "School days and unknown days"); the weekend counts for nothing."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    student = await make_student(client, county)
    week = await record_absent(client, staff, student["id"], school_days(date(2026, 9, 7), date(2026, 9, 11)))
    assert opened_for(week, student["id"]) == [0, 0, 0, 0, 0]
    sunday = await run_rules(client, county, date(2026, 9, 13))  # Mon 7th – Sun 13th: exactly seven days
    assert all(e["student"]["id"] != student["id"] for e in sunday["opened"])
    assert await entries_of(client, county, student["id"]) == []

    eighth = (await record_absent(client, staff, student["id"], [date(2026, 9, 14)]))[0]
    [entry] = eighth["opened"]
    assert (entry["ledger"], entry["status"], entry["source"], entry["openedOn"]) == (
        "SUSPECTED",
        "OPEN",
        "ATTENDANCE",
        "2026-09-14",  # the 6th school day absent
    )
    assert entry["evidence"] == {"firstAbsentOn": "2026-09-07", "lastAbsentOn": "2026-09-14", "schoolDaysAbsent": 6}
    assert [e["id"] for e in await entries_of(client, county, student["id"])] == [entry["id"]]


async def test_leave_of_absence_never_opens_an_entry(client):
    """POLICY 003 annex 1 notes 1–2: only absence "且未请假" (without leave) counts; 请假未到校 is counted apart."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    student = await make_student(client, county)
    days = school_days(date(2026, 9, 7), date(2026, 10, 23))
    payloads = await record_absent(client, staff, student["id"], days, leave="ILLNESS")
    assert all(p["errors"] == [] and p["recorded"] == 1 for p in payloads)
    assert sum(opened_for(payloads, student["id"])) == 0
    await run_rules(client, county, date(2026, 11, 20))
    assert await entries_of(client, county, student["id"]) == []


async def test_a_day_on_leave_breaks_a_run_of_absence(client):
    """POLICY 003 annex 1 note 1: the week without leave must be unbroken; a day on leave (请假) starts it afresh."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    student = await make_student(client, county)
    await record_absent(client, staff, student["id"], school_days(date(2026, 9, 7), date(2026, 9, 10)))
    await record_absent(client, staff, student["id"], [date(2026, 9, 11)], leave="ILLNESS")
    later = await record_absent(client, staff, student["id"], school_days(date(2026, 9, 14), date(2026, 9, 20)))
    assert opened_for(later, student["id"]) == [0, 0, 0, 0, 0, 1]  # Mon 14th … Fri 18th, Sun 20th (make-up day)
    assert later[-1]["opened"][0]["openedOn"] == "2026-09-20"


async def test_a_weekend_without_marks_does_not_break_a_run(client):
    """POLICY 003 annex 1 note 1: Saturday and Sunday are no school days: without marks they keep the run going."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    student = await make_student(client, county)
    payloads = await record_absent(client, staff, student["id"], school_days(date(2026, 9, 9), date(2026, 9, 16)))
    assert opened_for(payloads, student["id"]) == [0, 0, 0, 0, 0, 1]  # Wed 9th … Wed 16th, six marks
    assert payloads[-1]["opened"][0]["openedOn"] == "2026-09-16"


async def test_a_class_register_without_the_child_counts_as_present_and_breaks_a_run(client):
    """POLICY 003 annex 1 note 1: a day at school breaks the week; a class register (整班点名) that does not
    list the child means the child was there, one that lists the child is an absence."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    student = await make_student(client, county)
    for day in school_days(date(2026, 9, 7), date(2026, 9, 10)):
        assert (await register(client, staff, day, [student["id"]]))["errors"] == []
    present = await register(client, staff, date(2026, 9, 11))
    assert (present["errors"], present["recorded"]) == ([], 0)
    days = school_days(date(2026, 9, 14), date(2026, 9, 20))
    later = [await register(client, staff, d, [student["id"]]) for d in days]
    assert opened_for(later, student["id"]) == [0, 0, 0, 0, 0, 1]
    [entry] = [e for e in later[-1]["opened"] if e["student"]["id"] == student["id"]]
    assert entry["openedOn"] == "2026-09-20"


async def test_escalates_to_dropout_only_more_than_a_month_after_it_opened(client):
    """POLICY 003 annex 1 note 2: a dropout is a suspected dropout "超过一个月仍未到校且未请假"; exactly one
    month is not yet more than one. The suspected entry is closed as escalated and linked from the dropout."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    student = await make_student(client, county)
    first = await record_absent(client, staff, student["id"], school_days(date(2026, 9, 7), date(2026, 9, 14)))
    suspected = first[-1]["opened"][0]
    month = await record_absent(client, staff, student["id"], school_days(date(2026, 9, 15), date(2026, 10, 14)))
    assert not any(p["escalated"] for p in month)  # 14 October is one month after 14 September
    assert (await links(client, county, suspected["id"]))["status"] == "OPEN"

    [dropout] = (await record_absent(client, staff, student["id"], [date(2026, 10, 15)]))[0]["escalated"]
    assert (dropout["ledger"], dropout["status"], dropout["openedOn"]) == ("DROPOUT", "OPEN", "2026-10-15")
    assert (await links(client, county, dropout["id"]))["escalatedFrom"] == {"id": suspected["id"]}
    closed = await links(client, county, suspected["id"])
    assert (closed["status"], closed["closeOut"]) == ("CLOSED", {"reason": "ESCALATED_TO_DROPOUT"})
    assert [e["id"] for e in await entries_of(client, county, student["id"], status="OPEN")] == [dropout["id"]]


async def test_attendance_resuming_marks_an_open_entry_returned_on_that_day(client):
    """POLICY 003 annex 1 note 1 read backwards: back at class, no longer absent; a day on leave is not a return."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    student = await make_student(client, county)
    entry = (await record_absent(client, staff, student["id"], school_days(date(2026, 9, 7), date(2026, 9, 14))))[-1]
    entry = entry["opened"][0]
    leave = (await record_absent(client, staff, student["id"], [date(2026, 9, 15)], leave="ILLNESS"))[0]
    assert leave["returned"] == []
    assert (await links(client, county, entry["id"]))["status"] == "OPEN"

    back = await register(client, staff, date(2026, 9, 16))
    assert [(e["id"], e["status"], e["returnedOn"]) for e in back["returned"]] == [
        (entry["id"], "RETURNED", "2026-09-16")
    ]
    now = await links(client, county, entry["id"])
    assert (now["status"], now["returnedOn"]) == ("RETURNED", "2026-09-16")


async def test_an_entry_reopened_after_a_return_escalates_a_month_after_it_reopened(client):
    """POLICY 003 annex 1 notes 1–2: back at school, then absent more than a week again, the child is suspected
    afresh; a dropout only when "超过一个月仍未到校" counted from then, and the entry does not flip back to
    RETURNED on the strength of the old return."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    student = await make_student(client, county)
    entry = (await record_absent(client, staff, student["id"], school_days(date(2026, 9, 7), date(2026, 9, 14))))[-1]
    entry = entry["opened"][0]
    assert [e["returnedOn"] for e in (await register(client, staff, date(2026, 9, 15)))["returned"]] == ["2026-09-15"]

    days = school_days(date(2026, 9, 16), date(2026, 10, 22))  # 16, 17, 18, 20 (make-up), 21, 22: suspected again
    again = await record_absent(client, staff, student["id"], days)
    assert [p["returned"] for p in again] == [[]] * len(days)
    assert [p["escalated"] for p in again] == [[]] * len(days)  # 22 October is one month after 22 September
    reopened = [(e["id"], day) for p, day in zip(again, days, strict=True) for e in p["reopened"]]
    assert reopened == [(entry["id"], date(2026, 9, 22))]  # the 6th school day of the new absence
    assert not any(p["opened"] for p in again)  # the same entry, not a new one
    now = await links(client, county, entry["id"])
    assert (now["status"], now["returnedOn"]) == ("OPEN", None)

    [dropout] = (await record_absent(client, staff, student["id"], [date(2026, 10, 23)]))[0]["escalated"]
    assert (dropout["ledger"], dropout["openedOn"]) == ("DROPOUT", "2026-10-23")
    assert (await links(client, county, dropout["id"]))["escalatedFrom"] == {"id": entry["id"]}


async def test_a_child_listed_twice_in_one_batch_is_recorded_once_the_later_listing_standing(client):
    """POLICY 003 annex 1 note 1 (leave is not absence): one mark per child per day, a later record replacing an
    earlier one; a batch naming a child twice is no server error."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    student = await make_student(client, county)
    await record_absent(client, staff, student["id"], school_days(date(2026, 9, 7), date(2026, 9, 11)))
    twice = [{"studentId": student["id"]}, {"studentId": student["id"], "leave": {"reason": "FAMILY"}}]
    result = await gql(client, ATTENDANCE, {"input": {"day": "2026-09-14", "absences": twice}}, staff)
    payload = result["data"]["recordAttendance"]
    assert (payload["errors"], payload["recorded"], payload["opened"]) == ([], 1, [])  # on leave: run broken


async def test_a_child_flagged_again_after_close_out_gets_a_new_relapse_entry(client):
    """POLICY 003 §2(二) "确保辍学无新增、无反弹" and POLICY 004 §2 (dynamic close-out): a child flagged again
    after close-out is a relapse (反弹) on a new entry that points to the closed one."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    student = await make_student(client, county)
    first = (await record_absent(client, staff, student["id"], school_days(date(2026, 9, 7), date(2026, 9, 14))))[-1]
    first = first["opened"][0]
    assert first["isRelapse"] is False
    close = {"entryId": first["id"], "reason": "ENROLLED_ELSEWHERE_CONFIRMED", "version": first["version"]}
    closed = (await gql(client, CLOSE, {"input": close}, county))["data"]["closeOutLedgerEntry"]
    assert (closed["errors"], closed["entry"]["status"]) == ([], "CLOSED")

    await register(client, staff, date(2026, 9, 15))  # at school again
    again = await record_absent(client, staff, student["id"], school_days(date(2026, 9, 16), date(2026, 9, 22)))
    [relapse] = again[-1]["opened"]
    assert relapse["id"] != first["id"]
    seen = await links(client, county, relapse["id"])
    assert (seen["ledger"], seen["openedOn"], seen["isRelapse"]) == ("SUSPECTED", "2026-09-22", True)
    assert seen["previousEntry"] == {"id": first["id"]}
    assert (await links(client, county, first["id"]))["status"] == "CLOSED"


async def test_a_single_absence_with_nothing_after_it_never_grows_into_an_entry(client):
    """Issue 14 §1 on POLICY 003 annex 1 note 1: unknown is not absent. A school recording absences one child
    at a time records one absence, then nothing: no entry a week, nor a month, later."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    student = await make_student(client, county)
    await record_absent(client, staff, student["id"], [date(2026, 9, 7)])
    for as_of in (date(2026, 9, 15), date(2026, 10, 20)):
        swept = await run_rules(client, county, as_of)
        assert all(e["student"]["id"] != student["id"] for k in ("opened", "escalated") for e in swept[k])
    assert await entries_of(client, county, student["id"]) == []


async def test_an_unknown_school_day_ends_the_run(client):
    """Issue 14 §1: a school day with no record ends the run's evidence; absences after it start afresh."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    student = await make_student(client, county)
    await record_absent(client, staff, student["id"], school_days(date(2026, 9, 7), date(2026, 9, 10)))
    # Friday 11th: nothing recorded
    later = await record_absent(client, staff, student["id"], school_days(date(2026, 9, 14), date(2026, 9, 20)))
    assert opened_for(later, student["id"]) == [0, 0, 0, 0, 0, 1]  # 14–18 and Sunday 20th: six, from the 14th
    assert later[-1]["opened"][0]["evidence"] == {
        "firstAbsentOn": "2026-09-14",
        "lastAbsentOn": "2026-09-20",
        "schoolDaysAbsent": 6,
    }


async def test_a_late_sweep_catches_up_opening_and_escalating_in_one_run(client):
    """POLICY 003 annex 1 notes 1–2 applied as of a date: a backlog entered late and latest day first (each
    batch runs the rules as of its own day, so none of them sees the run), absent on every school day from
    7 September to 16 October: the sweep finds the child suspected from the 14th, a dropout from 15 October."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    student = await make_student(client, county)
    backlog = await record_absent(client, staff, student["id"], school_days(date(2026, 9, 7), date(2026, 10, 16))[::-1])
    assert sum(opened_for(backlog, student["id"])) == 0  # each batch ran the rules as of its own day

    swept = await run_rules(client, county, date(2026, 10, 20))
    assert swept["errors"] == []
    [suspected] = [e for e in swept["opened"] if e["student"]["id"] == student["id"]]
    [dropout] = [e for e in swept["escalated"] if e["student"]["id"] == student["id"]]
    assert (suspected["openedOn"], dropout["ledger"], dropout["openedOn"]) == ("2026-09-14", "DROPOUT", "2026-10-15")
    absent = len(school_days(date(2026, 9, 7), date(2026, 10, 15)))  # 25: holidays and make-up days counted right
    assert dropout["evidence"] == {
        "firstAbsentOn": "2026-09-07",
        "lastAbsentOn": "2026-10-15",
        "schoolDaysAbsent": absent,
    }
    assert (await links(client, county, dropout["id"]))["escalatedFrom"] == {"id": suspected["id"]}
    assert (await links(client, county, suspected["id"]))["closeOut"] == {"reason": "ESCALATED_TO_DROPOUT"}

    again = await run_rules(client, county, date(2026, 10, 20))
    assert (again["opened"], again["escalated"], again["returned"]) == ([], [], [])
    assert len(await entries_of(client, county, student["id"])) == 2


@pytest.fixture
def sweep_db(databases, monkeypatch):
    """A database of its own, migrated with the demo data, for the CLI (it commits)."""
    url = databases.create("sweep")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BAOXUE_JWT_SECRET", "cli-test-secret-0123456789abcdefghij")
    main(["migrate"])
    main(["seed", "demo"])
    return url


async def _absences_committed(url: str) -> None:
    """Through the API with each operation committed: A absent 7–14 September, entered latest day first
    (no batch sees the run); B absent 7–14 September (suspected by the batch of the 14th), then to 15 October
    entered latest day first; C on leave throughout."""
    engine = create_async_engine(url, poolclass=NullPool)
    app = create_app(make_settings(), sessions=async_sessionmaker(engine, expire_on_commit=False))
    transport = httpx.ASGITransport(app=app, client=("10.0.0.1", 1234))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://baoxue.test") as client:
            county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
            a, b, c = [await make_student(client, county) for _ in range(3)]
            a_days = await record_absent(client, staff, a["id"], school_days(date(2026, 9, 7), date(2026, 9, 14))[::-1])
            assert not any(p["opened"] for p in a_days)
            b_days = await record_absent(client, staff, b["id"], school_days(date(2026, 9, 7), date(2026, 9, 14)))
            assert len(b_days[-1]["opened"]) == 1
            b_more = await record_absent(
                client, staff, b["id"], school_days(date(2026, 9, 15), date(2026, 10, 15))[::-1]
            )
            assert not any(p["escalated"] for p in b_more)
            await record_absent(
                client, staff, c["id"], school_days(date(2026, 9, 7), date(2026, 10, 16)), leave="ILLNESS"
            )
    finally:
        await engine.dispose()


def test_cli_ledger_sweep_applies_the_rules_as_of_a_date_and_prints_the_counts(sweep_db, capsys):
    """POLICY 003 annex 1 notes 1–2 by the operator's daily sweep (`baoxue ledger sweep --as-of`)."""
    asyncio.run(_absences_committed(sweep_db))
    capsys.readouterr()
    main(["ledger", "sweep", "--as-of", "2026-10-14"])
    main(["ledger", "sweep", "--as-of", "2026-10-15"])
    main(["ledger", "sweep", "--as-of", "2026-10-15"])
    assert capsys.readouterr().out.splitlines() == [
        "ledger rules as of 2026-10-14: 1 suspected opened, 0 reopened, 0 escalated to dropout, 0 returned",
        "ledger rules as of 2026-10-15: 0 suspected opened, 0 reopened, 1 escalated to dropout, 0 returned",
        "ledger rules as of 2026-10-15: 0 suspected opened, 0 reopened, 0 escalated to dropout, 0 returned",
    ]


# --- refusals ------------------------------------------------------------------------------------


async def test_attendance_for_a_future_day_is_refused(client):
    """POLICY 003 §2(二) "学校每日清查": a register records a day that has happened, never tomorrow."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    student = await make_student(client, county)
    [refused] = await record_absent(client, staff, student["id"], [today() + timedelta(days=1)])
    assert ([(e["field"], e["code"]) for e in refused["errors"]], refused["recorded"]) == ([("day", "FUTURE_DATE")], 0)


async def test_a_child_outside_the_class_register_is_refused(client):
    """POLICY 003 annex 1 note 1 counts a class's own pupils: a register lists only children of that class."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    student = await make_student(client, county)  # grade 3 of WUDING_PRIMARY
    refused = await register(client, staff, date(2026, 9, 7), [student["id"]], grade=4)
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("absences.0.studentId", "NOT_IN_CLASS")]
    # Another school's class is not this school's register to take at all: it answers like a missing school.
    other = await register(client, staff, date(2026, 9, 7), [student["id"]], school=OTHER_WUDING_PRIMARY)
    assert [(e["field"], e["code"]) for e in other["errors"]] == [("classOf.schoolCode", "UNKNOWN_SCHOOL")]


async def test_a_neighbouring_county_school_cannot_record_a_wuding_child(client):
    """Each level acts only in its own jurisdiction (双线四级, ARCHITECTURE §4): 元谋 staff do not see a 武定 child."""
    county, neighbour_staff = await token_for(client, COUNTY_EDU), await token_for(client, NEIGHBOUR_STAFF)
    student = await make_student(client, county)
    [refused] = await record_absent(client, neighbour_staff, student["id"], [date(2026, 9, 7)])
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("absences.0.studentId", "NOT_FOUND")]


async def test_a_neighbouring_school_cannot_take_a_wuding_class_register(client):
    """Each level acts only in its own jurisdiction (双线四级, ARCHITECTURE §4): 元谋 staff cannot mark a 武定 class
    present, so the 武定 child's run of absence is not broken."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    neighbour_staff = await token_for(client, NEIGHBOUR_STAFF)
    student = await make_student(client, county)
    await record_absent(client, staff, student["id"], school_days(date(2026, 9, 7), date(2026, 9, 10)))
    # 武定's school answers as a missing school would (issue 17 §4) ...
    refused = await register(client, neighbour_staff, date(2026, 9, 11))
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("classOf.schoolCode", "UNKNOWN_SCHOOL")]
    # ... and so does a class with nobody in it: the answer does not tell a neighbour which classes are empty.
    empty = await register(client, neighbour_staff, date(2026, 9, 11), grade=9)
    assert empty["errors"] == refused["errors"]
    later = await record_absent(client, staff, student["id"], [date(2026, 9, 14), date(2026, 9, 15)])
    assert [e["openedOn"] for p in later for e in p["opened"]] == []  # the 11th is unknown: the run starts again
    seen = await gql(client, STUDENT_ATTENDANCE, {"id": student["id"], "month": "2026-09"}, county)
    days = {d["day"]: d["status"] for d in seen["data"]["node"]["attendance"]["days"]}
    assert (days["2026-09-10"], days["2026-09-11"], days["2026-09-14"]) == ("ABSENT", "UNKNOWN", "ABSENT")


@pytest.mark.parametrize("username", [TOWNSHIP, COUNTY_EDU])
async def test_roles_without_attendance_write_are_forbidden_and_nothing_is_kept(client, username):
    """POLICY 003 §2(二): the school takes the daily register (学校每日清查); township and county see the child
    but may not write its attendance."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    other = await token_for(client, username)
    student = await make_student(client, county)
    refused = await record_absent(client, other, student["id"], school_days(date(2026, 9, 7), date(2026, 9, 14)))
    assert all(error_codes(r) == ["FORBIDDEN"] for r in refused)
    # had the refused marks been kept, one more absent day would make six school days and open an entry
    [payload] = await record_absent(client, staff, student["id"], [date(2026, 9, 15)])
    assert (payload["errors"], payload["opened"]) == ([], [])


async def test_a_school_role_may_not_run_the_rules(client):
    """POLICY 003 §2(二) "县（区）每月汇总": the sweep is the county bureau's, not a school's."""
    staff = await token_for(client, STAFF)
    assert error_codes(await run_rules(client, staff, date(2026, 10, 1))) == ["FORBIDDEN"]


async def test_a_county_sweep_leaves_another_countys_children_alone(client):
    """Each level acts only in its own jurisdiction (双线四级, ARCHITECTURE §4), applied to
    POLICY 003 annex 1 note 1."""
    wuding = await token_for(client, COUNTY_EDU)
    yuanmou, yuanmou_staff = await token_for(client, NEIGHBOUR_EDU), await token_for(client, NEIGHBOUR_STAFF)
    child = await make_student(client, yuanmou, village=YUANMOU_VILLAGE, school=YUANMOU_PRIMARY)
    backlog = school_days(date(2026, 9, 7), date(2026, 9, 14))[::-1]  # latest day first: no batch sees the run
    week = await record_absent(client, yuanmou_staff, child["id"], backlog)
    assert sum(opened_for(week, child["id"])) == 0

    swept = await run_rules(client, wuding, date(2026, 9, 30))
    assert all(e["student"]["id"] != child["id"] for k in ("opened", "escalated", "returned") for e in swept[k])
    assert await entries_of(client, yuanmou, child["id"]) == []
    own = await run_rules(client, yuanmou, date(2026, 9, 30))  # the child's own county would open it
    assert [e["openedOn"] for e in own["opened"] if e["student"]["id"] == child["id"]] == ["2026-09-14"]


async def test_the_opening_day_gives_the_same_answer_whichever_order_the_register_and_the_sweep_come_in(client):
    """Issue 14 §1 on POLICY 003 annex 1 note 1: five school days absent, then on the 6th the day's class register
    and the day's sweep in either order: listed absent, the entry opens on the 6th with the same evidence; not
    listed (present), no entry opens, whichever came first."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    week, sixth = school_days(date(2026, 9, 7), date(2026, 9, 11)), date(2026, 9, 14)
    children = {grade: await make_student(client, county, grade=grade) for grade in (2, 4, 5, 6)}
    for child in children.values():
        await record_absent(client, staff, child["id"], week)

    def opened(payload: dict[str, Any], child: dict[str, Any]) -> list[dict[str, Any]]:
        return [e for e in payload["opened"] if e["student"]["id"] == child["id"]]

    register_first = await register(client, staff, sixth, [children[4]["id"]], grade=4)
    assert opened(await run_rules(client, county, sixth), children[4]) == []
    assert opened(await run_rules(client, county, sixth), children[5]) == []
    sweep_first = await register(client, staff, sixth, [children[5]["id"]], grade=5)
    [a], [b] = opened(register_first, children[4]), opened(sweep_first, children[5])
    assert (a["openedOn"], a["evidence"]) == (b["openedOn"], b["evidence"])
    assert a["evidence"] == {"firstAbsentOn": "2026-09-07", "lastAbsentOn": "2026-09-14", "schoolDaysAbsent": 6}

    await register(client, staff, sixth, [], grade=6)  # present on the 6th: register, then sweep
    assert opened(await run_rules(client, county, sixth), children[6]) == []
    assert opened(await run_rules(client, county, sixth), children[2]) == []  # sweep, then the register
    assert opened(await register(client, staff, sixth, [], grade=2), children[2]) == []
    assert [await entries_of(client, county, children[g]["id"]) for g in (2, 6)] == [[], []]
