"""The school calendar (校历) and the attendance read through the API (issue 14 §1).

POLICY 003 annex 1 notes 1–2 count absence from class (未到校上课): only school days count. A province
keeps its terms, holidays and make-up days over the State Council's calendar; a county may add local days
off; attendance is recorded on school days only (NOT_A_SCHOOL_DAY). Marks and registers are readable per
child and per class and month (各班考勤汇总, POLICY 004 §4), scoped like the child.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from tests.conftest import error_codes, gql, token_for
from tests.ledger_support import (
    ATTENDANCE,
    COUNTY_EDU,
    NEIGHBOUR_EDU,
    STAFF,
    WUDING,
    WUDING_PRIMARY,
    YUANMOU,
    YUANMOU_PRIMARY,
    YUANMOU_VILLAGE,
    make_student,
    record_absent,
    school_days,
)

PROVINCE_EDU = "edu-province-53"
CITY_EDU = "edu-city-5323"
NEIGHBOUR_STAFF = f"staff-school-{YUANMOU_PRIMARY}"

CALENDAR = """query($region: String!, $year: Int!) { schoolCalendar(regionCode: $region, year: $year) {
  regionCode year version updatedBy terms { firstDay lastDay } days { day kind source note } schoolDays } }"""
SET_CALENDAR = """mutation($input: SetSchoolCalendarInput!) { setSchoolCalendar(input: $input) {
  calendar { regionCode year version terms { firstDay lastDay } days { day kind source note } schoolDays }
  errors { field code message } } }"""
STUDENT_MONTH = """query($id: ID!, $month: String!) { node(id: $id) { ... on Student { attendance(month: $month) {
  month schoolDays totals { present absent excused unknown } days { day status leaveReason leaveUntil } } } } }"""
CLASS_MONTH = """query($school: String!, $grade: Int!, $month: String!) {
  classAttendance(schoolCode: $school, grade: $grade, month: $month) { schoolCode grade month schoolDays
  registersTaken pupilCount totals { present absent excused unknown }
  pupils { student { id } totals { present absent excused unknown } } } }"""


async def set_calendar(client: httpx.AsyncClient, token: str, **fields: Any) -> dict[str, Any]:
    result = await gql(client, SET_CALENDAR, {"input": {"version": 0, **fields}}, token)
    return result["data"]["setSchoolCalendar"] if result.get("data") else result  # type: ignore[no-any-return]


def refusals(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


def day_off(day: str, note: str = "") -> dict[str, str]:
    return {"day": day, "note": note}


async def test_the_national_holidays_are_the_default_calendar(client):
    """Issue 14 §1: the year's national holidays and make-up working days (国务院办公厅节假日安排) by default."""
    token = await token_for(client, PROVINCE_EDU)
    seen = (await gql(client, CALENDAR, {"region": "53", "year": 2026}, token))["data"]["schoolCalendar"]
    days = {d["day"]: d for d in seen["days"]}
    assert (seen["version"], seen["terms"]) == (0, [])
    assert days["2026-10-01"] == {"day": "2026-10-01", "kind": "DAY_OFF", "source": "NATIONAL", "note": "国庆节"}
    assert (days["2026-09-20"]["kind"], days["2026-09-20"]["source"]) == ("SCHOOL_DAY", "NATIONAL")  # 调休
    assert "2026-10-08" not in days  # an ordinary Thursday
    assert 245 <= seen["schoolDays"] <= 252  # the year's working days


async def test_a_province_keeps_terms_holidays_and_make_up_days_and_attendance_follows(client):
    """Issue 14 §1: the province's term dates plus holidays and make-up days decide the school days; attendance
    on a day that is not one is refused with NOT_A_SCHOOL_DAY and nothing is kept."""
    province, county, staff = [await token_for(client, u) for u in (PROVINCE_EDU, COUNTY_EDU, STAFF)]
    kept = await set_calendar(
        client,
        province,
        regionCode="53",
        year=2026,
        terms=[
            {"firstDay": "2026-03-02", "lastDay": "2026-07-10"},
            {"firstDay": "2026-09-01", "lastDay": "2027-01-22"},
        ],
        daysOff=[day_off("2026-11-20", "全省运动会")],
        schoolDays=[day_off("2026-11-21", "补课")],
    )
    assert kept["errors"] == []
    assert (kept["calendar"]["version"], len(kept["calendar"]["terms"])) == (1, 2)
    marked = {d["day"]: (d["kind"], d["source"], d["note"]) for d in kept["calendar"]["days"]}
    assert marked["2026-11-20"] == ("DAY_OFF", "PROVINCE", "全省运动会")
    assert marked["2026-11-21"] == ("SCHOOL_DAY", "PROVINCE", "补课")

    student = await make_student(client, county)
    for day in ("2026-11-20", "2026-08-19", "2026-11-22"):  # the province's day off, summer, a Sunday
        [refused] = await record_absent(client, staff, student["id"], [date.fromisoformat(day)])
        assert (refusals(refused), refused["recorded"]) == ([("day", "NOT_A_SCHOOL_DAY")], 0)
    [saturday] = await record_absent(client, staff, student["id"], [date(2026, 11, 21)])  # the make-up day
    assert (saturday["errors"], saturday["recorded"]) == ([], 1)
    month = await gql(client, STUDENT_MONTH, {"id": student["id"], "month": "2026-11"}, county)
    days = [d["day"] for d in month["data"]["node"]["attendance"]["days"]]
    assert "2026-11-21" in days
    assert "2026-11-20" not in days
    assert "2026-11-22" not in days


async def test_a_province_holiday_week_neither_counts_nor_breaks_a_run(client):
    """POLICY 003 annex 1 note 1, issue 14 §1: a holiday week does not turn two or three missed school days into
    "more than a week": the days off neither count nor break the run, the 6th school day absent opens."""
    province, county, staff = [await token_for(client, u) for u in (PROVINCE_EDU, COUNTY_EDU, STAFF)]
    week = [day_off(f"2026-11-{d:02d}", "秋假") for d in range(9, 14)]
    assert (await set_calendar(client, province, regionCode="53", year=2026, daysOff=week))["errors"] == []
    student = await make_student(client, county)
    before = await record_absent(client, staff, student["id"], [date(2026, 11, 5), date(2026, 11, 6)])
    after = await record_absent(client, staff, student["id"], school_days(date(2026, 11, 16), date(2026, 11, 19)))
    assert [len(p["opened"]) for p in before + after] == [0, 0, 0, 0, 0, 1]  # 5, 6, then 16–18: five; 19th
    [entry] = after[-1]["opened"]
    assert entry["openedOn"] == "2026-11-19"
    assert entry["evidence"] == {"firstAbsentOn": "2026-11-05", "lastAbsentOn": "2026-11-19", "schoolDaysAbsent": 6}


async def test_a_county_adds_local_days_off_for_its_own_schools_only(client):
    """Issue 14 §1: a county may add local days off; its neighbour's schools keep the day."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    neighbour_county, neighbour_staff = await token_for(client, NEIGHBOUR_EDU), await token_for(client, NEIGHBOUR_STAFF)
    kept = await set_calendar(client, county, regionCode=WUDING, year=2026, daysOff=[day_off("2026-11-16", "彝族节")])
    assert kept["errors"] == []
    assert {(d["day"], d["source"]) for d in kept["calendar"]["days"]} >= {("2026-11-16", "COUNTY")}
    mine = await make_student(client, county)
    theirs = await make_student(client, neighbour_county, village=YUANMOU_VILLAGE, school=YUANMOU_PRIMARY)
    [refused] = await record_absent(client, staff, mine["id"], [date(2026, 11, 16)])
    assert refusals(refused) == [("day", "NOT_A_SCHOOL_DAY")]
    [kept_there] = await record_absent(client, neighbour_staff, theirs["id"], [date(2026, 11, 16)])
    assert (kept_there["errors"], kept_there["recorded"]) == ([], 1)
    # The school reads its county's calendar; the province's own count leaves the county's day off out.
    seen = (await gql(client, CALENDAR, {"region": WUDING, "year": 2026}, staff))["data"]["schoolCalendar"]
    assert ("2026-11-16", "COUNTY") in {(d["day"], d["source"]) for d in seen["days"]}


async def test_a_county_may_not_set_terms_or_make_up_days_nor_another_countys_calendar(client):
    """Issue 14 §1: terms and make-up days are the province's; each county keeps its own (双线四级)."""
    county, staff, city = [await token_for(client, u) for u in (COUNTY_EDU, STAFF, CITY_EDU)]
    terms = [{"firstDay": "2026-09-01", "lastDay": "2027-01-22"}]
    assert refusals(await set_calendar(client, county, regionCode=WUDING, year=2026, terms=terms)) == [
        ("terms", "PROVINCE_ONLY")
    ]
    make_up = await set_calendar(client, county, regionCode=WUDING, year=2026, schoolDays=[day_off("2026-11-21")])
    assert refusals(make_up) == [("schoolDays", "PROVINCE_ONLY")]
    for token, region in ((county, YUANMOU), (county, "53"), (staff, WUDING), (city, WUDING)):
        assert error_codes(await set_calendar(client, token, regionCode=region, year=2026)) == ["FORBIDDEN"]
    neighbour = await token_for(client, NEIGHBOUR_EDU)
    refused = await gql(client, CALENDAR, {"region": WUDING, "year": 2026}, neighbour)  # as if 武定 did not exist
    assert [(e["extensions"]["code"], e["extensions"]["reason"]) for e in refused["errors"]] == [
        ("BAD_USER_INPUT", "UNKNOWN_REGION")
    ]
    assert (await gql(client, CALENDAR, {"region": WUDING, "year": 2026}, county))["data"]["schoolCalendar"][
        "version"
    ] == 0


async def test_bad_calendars_are_refused_with_the_field_and_nothing_is_kept(client):
    """Issue 14 §1, input rules: days in the year, terms in order and apart, a province or county, no stale write."""
    province = await token_for(client, PROVINCE_EDU)
    cases = [
        ({"regionCode": "5323"}, [("regionCode", "NOT_PROVINCE_OR_COUNTY")]),
        ({"daysOff": [day_off("2027-01-04")]}, [("daysOff.0.day", "NOT_IN_YEAR")]),
        ({"terms": [{"firstDay": "2026-09-01", "lastDay": "2026-08-01"}]}, [("terms.0.lastDay", "TERMS_OVERLAP")]),
        (
            {
                "terms": [
                    {"firstDay": "2026-03-02", "lastDay": "2026-07-10"},
                    {"firstDay": "2026-07-01", "lastDay": "2026-12-31"},
                ]
            },
            [("terms.1.firstDay", "TERMS_OVERLAP")],
        ),
        ({"version": 3}, [("version", "CONFLICT")]),
    ]
    for fields, expected in cases:
        payload = await set_calendar(client, province, **{"regionCode": "53", "year": 2026, **fields})
        assert refusals(payload) == expected, fields
    for fields in ({"daysOff": [day_off("2026-11-20", "长" * 101)]}, {"year": 1999}):  # bounded at the input
        assert error_codes(await set_calendar(client, province, **{"regionCode": "53", "year": 2026, **fields})) == [
            "BAD_USER_INPUT"
        ]
    seen = (await gql(client, CALENDAR, {"region": "53", "year": 2026}, province))["data"]["schoolCalendar"]
    assert (seen["version"], seen["terms"]) == (0, [])
    assert all(d["source"] == "NATIONAL" for d in seen["days"])
    kept = await set_calendar(client, province, regionCode="53", year=2026, daysOff=[day_off("2026-11-20")])
    stale = await set_calendar(client, province, regionCode="53", year=2026, daysOff=[day_off("2026-11-27")])
    assert (kept["errors"], refusals(stale)) == ([], [("version", "CONFLICT")])


# --- leave ---------------------------------------------------------------------------------------


async def test_leave_takes_a_reason_and_an_end_date_covering_the_school_days_to_it(client):
    """POLICY 002 二(七) (请假 with its reason) and POLICY 003 annex 1 (leave counted apart, never absence): a leave
    until a later day covers the school days up to it that have no record of their own."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    student = await make_student(client, county)
    absence = {"studentId": student["id"], "leave": {"reason": "ILLNESS", "until": "2026-11-13"}}
    result = await gql(client, ATTENDANCE, {"input": {"day": "2026-11-09", "absences": [absence]}}, staff)
    assert result["data"]["recordAttendance"]["errors"] == []
    await record_absent(client, staff, student["id"], [date(2026, 11, 16)], leave="FAMILY")
    month = (await gql(client, STUDENT_MONTH, {"id": student["id"], "month": "2026-11"}, county))["data"]["node"]
    days = {d["day"]: d for d in month["attendance"]["days"]}
    assert days["2026-11-09"] == {
        "day": "2026-11-09",
        "status": "EXCUSED",
        "leaveReason": "ILLNESS",
        "leaveUntil": "2026-11-13",
    }
    assert [days[f"2026-11-{d}"]["status"] for d in (10, 11, 12, 13)] == ["EXCUSED"] * 4
    assert (days["2026-11-16"]["leaveReason"], days["2026-11-17"]["status"]) == ("FAMILY", "UNKNOWN")
    assert month["attendance"]["totals"]["absent"] == 0


async def test_a_leave_corrected_to_an_absence_keeps_no_leave(client):
    """POLICY 003 annex 1 (leave counted apart): a later record of the same day replaces the leave whole."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    student = await make_student(client, county)
    absence = {"studentId": student["id"], "leave": {"reason": "ILLNESS", "until": "2026-11-13"}}
    await gql(client, ATTENDANCE, {"input": {"day": "2026-11-09", "absences": [absence]}}, staff)
    [corrected] = await record_absent(client, staff, student["id"], [date(2026, 11, 9)])
    assert corrected["errors"] == []
    month = (await gql(client, STUDENT_MONTH, {"id": student["id"], "month": "2026-11"}, county))["data"]["node"]
    days = {d["day"]: d for d in month["attendance"]["days"]}
    assert days["2026-11-09"] == {"day": "2026-11-09", "status": "ABSENT", "leaveReason": None, "leaveUntil": None}
    assert days["2026-11-10"]["status"] == "UNKNOWN"  # the leave that covered it is gone


async def test_bad_leave_is_refused_with_the_field(client):
    """POLICY 002 二(七): leave has its reason; an end date comes after the day, within 92 days."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    student = await make_student(client, county)
    for until, field in (("2026-11-09", "absences.0.leave.until"), ("2027-03-01", "absences.0.leave.until")):
        absence = {"studentId": student["id"], "leave": {"reason": "OTHER", "until": until}}
        result = await gql(client, ATTENDANCE, {"input": {"day": "2026-11-09", "absences": [absence]}}, staff)
        assert refusals(result["data"]["recordAttendance"]) == [(field, "OUT_OF_RANGE")]
    no_reason = {"studentId": student["id"], "leave": {"until": "2026-11-10"}}
    result = await gql(client, ATTENDANCE, {"input": {"day": "2026-11-09", "absences": [no_reason]}}, staff)
    assert "errors" in result  # the reason is required by the schema


# --- reading attendance --------------------------------------------------------------------------


async def test_a_class_month_summary_counts_each_pupils_school_days(client):
    """POLICY 004 §4 (各班考勤汇总) and issue 14 §1: present by the register, absent as recorded, unknown
    where nothing was recorded; readable by the school and its county, refused to the neighbour county."""
    county, staff = await token_for(client, COUNTY_EDU), await token_for(client, STAFF)
    a = await make_student(client, county, grade=6)
    b = await make_student(client, county, grade=6)
    register = {
        "day": "2026-11-02",
        "absences": [{"studentId": a["id"]}],
        "classOf": {"schoolCode": WUDING_PRIMARY, "grade": 6},
    }
    assert (await gql(client, ATTENDANCE, {"input": register}, staff))["data"]["recordAttendance"]["errors"] == []
    await record_absent(client, staff, a["id"], [date(2026, 11, 3)])
    variables = {"school": WUDING_PRIMARY, "grade": 6, "month": "2026-11"}
    seen = (await gql(client, CLASS_MONTH, variables, staff))["data"]["classAttendance"]
    school_days_in_november = len(school_days(date(2026, 11, 1), date(2026, 11, 30)))
    assert (seen["schoolDays"], seen["registersTaken"]) == (school_days_in_november, 1)
    pupils = {p["student"]["id"]: p["totals"] for p in seen["pupils"]}
    assert seen["pupilCount"] == len(pupils) >= 2
    rest = school_days_in_november - 2
    assert pupils.pop(a["id"]) == {"present": 0, "absent": 2, "excused": 0, "unknown": rest}
    present_once = {"present": 1, "absent": 0, "excused": 0, "unknown": rest + 1}
    assert pupils[b["id"]] == present_once
    assert list(pupils.values()) == [present_once] * len(pupils)  # b, and any other pupil of the class
    others = len(pupils)
    assert seen["totals"] == {"present": others, "absent": 2, "excused": 0, "unknown": rest + others * (rest + 1)}
    by_county = (await gql(client, CLASS_MONTH, variables, county))["data"]["classAttendance"]
    assert by_county["pupilCount"] == seen["pupilCount"]

    neighbour = await token_for(client, NEIGHBOUR_EDU)
    assert error_codes(await gql(client, CLASS_MONTH, variables, neighbour)) == ["FORBIDDEN"]
    hidden = await gql(client, STUDENT_MONTH, {"id": a["id"], "month": "2026-11"}, neighbour)
    assert hidden == {"data": {"node": None}}  # the neighbour does not see the child, nor its attendance
    assert error_codes(await gql(client, CLASS_MONTH, {**variables, "month": "2026-13"}, staff)) == ["BAD_USER_INPUT"]
