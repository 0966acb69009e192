"""Writing students' records: registration, corrections, enrolment history, each change audited.

Every operation goes through HTTP as a demo account; what is checked is what the user reads back.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from datagen.demo.seed import national_id
from models import AuditLog, Child
from models.base import today
from models.child import Guardian
from models.enrolment import EnrolmentEvent
from tests.conftest import error_codes, gql, token_for
from tests.ledger_support import COUNTY_EDU, NEIGHBOUR_EDU, STAFF, WUDING_PRIMARY, WUDING_VILLAGE, raw_id

WUDING_JUNIOR = "2153000035"  # 武定县第二中学 (junior only)
HUANZHOU_PRIMARY = "2153000037"  # 武定县环州乡中心小学: another Wuding primary school
GAOQIAO_VILLAGE = "532329102201"  # 高桥村, 高桥镇: another township of Wuding
TOWNSHIP, NEW_TOWNSHIP = "gov-township-532329101", "gov-township-532329102"  # 狮山镇 (WUDING_VILLAGE's), 高桥镇
CITY_EDU = "edu-city-5323"
BIRTH = date(2016, 4, 9)

STUDENT_FIELDS = """id name version grade stage nationalId registryNumber
  school { code } guardians { name relation phone } enrolmentHistory { change on schoolCode grade }"""
PAYLOAD = f"student {{ {STUDENT_FIELDS} }} errors {{ field code message }}"
CREATE = f"mutation($input: CreateStudentInput!) {{ createStudent(input: $input) {{ {PAYLOAD} }} }}"
UPDATE = f"mutation($input: UpdateStudentInput!) {{ updateStudent(input: $input) {{ {PAYLOAD} }} }}"
CHANGE = f"""mutation($input: RecordEnrolmentChangeInput!) {{ recordEnrolmentChange(input: $input) {{
  {PAYLOAD} }} }}"""
STUDENT = f"query($id: ID!) {{ node(id: $id) {{ ... on Student {{ {STUDENT_FIELDS} }} }} }}"
OPEN_ENTRY = """mutation($input: OpenLedgerEntryInput!) { openLedgerEntry(input: $input) {
  entry { id } errors { code } } }"""
ENTRIES = """query($f: LedgerEntryFilter) { ledgerEntries(filter: $f, first: 10) { edges { node { id } } } }"""

_sequence = itertools.count(2000)


async def free_id(session, county: str = "532329", birth: date = BIRTH) -> str:
    """A valid national ID nobody holds yet."""
    while True:
        number = national_id(county, birth, next(_sequence), male=False)
        if await session.scalar(select(Child.id).where(Child.national_id == number)) is None:
            return number


async def new_input(session, **overrides: Any) -> dict[str, Any]:
    """A registration at the Wuding primary school, grade 3, one guardian; overrides win."""
    return {
        "name": "李春燕",
        "gender": "FEMALE",
        "birthDate": BIRTH.isoformat(),
        "nationalId": await free_id(session),
        "householdRegionCode": WUDING_VILLAGE,
        "residenceRegionCode": WUDING_VILLAGE,
        "schoolCode": WUDING_PRIMARY,
        "grade": 3,
        "enrolledOn": "2022-09-01",
        "guardians": [{"name": "李建华", "relation": "母亲", "phone": "13912345678"}],
    } | overrides


async def call(
    client: httpx.AsyncClient, query: str, input: dict[str, Any], token: str, request_id: str | None = None
) -> dict[str, Any]:
    """The mutation's payload (its only field), or the whole response when the operation was refused."""
    headers = {"Authorization": f"Bearer {token}"} | ({"X-Request-ID": request_id} if request_id else {})
    response = await client.post("/graphql", json={"query": query, "variables": {"input": input}}, headers=headers)
    assert response.status_code == 200, response.text
    result = response.json()
    return next(iter(result["data"].values())) if result.get("data") and not result.get("errors") else result


async def register(client, session, token: str, **overrides: Any) -> dict[str, Any]:
    payload = await call(client, CREATE, await new_input(session, **overrides), token)
    assert payload["errors"] == [], payload
    return payload["student"]


async def read(client, token: str, student_id: str) -> dict[str, Any] | None:
    return (await gql(client, STUDENT, {"id": student_id}, token))["data"]["node"]


async def counts(session) -> tuple[int | None, ...]:
    return tuple([await session.scalar(select(func.count()).select_from(t)) for t in (Child, Guardian, AuditLog)])


async def audit_rows(session, student_id: str) -> list[AuditLog]:
    """The student's audited changes (full reads of personal data left out), oldest first."""
    stmt = select(AuditLog).where(AuditLog.target_type == "Student", AuditLog.target_id == str(raw_id(student_id)))
    stmt = stmt.where(AuditLog.action != "student.read_personal_data").order_by(AuditLog.id)
    return list((await session.scalars(stmt)).all())


def codes(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


# -- registration ------------------------------------------------------------------------------


async def test_school_registers_an_enrolled_child_shown_masked_only_to_the_city(client, session):
    token = await token_for(client, STAFF)
    number = await free_id(session)
    student = await register(client, session, token, nationalId=number)
    assert [student[f] for f in ("grade", "stage", "school", "version")] == [3, "PRIMARY", {"code": WUDING_PRIMARY}, 1]
    assert (student["nationalId"], student["registryNumber"]) == (number, f"G{number}")
    assert student["guardians"] == [{"name": "李建华", "relation": "母亲", "phone": "13912345678"}]
    assert student["enrolmentHistory"] == [
        {"change": "ENROL", "on": "2022-09-01", "schoolCode": WUDING_PRIMARY, "grade": 3}
    ]
    city = await read(client, await token_for(client, CITY_EDU), student["id"])
    assert city["nationalId"] == f"{number[:6]}********{number[-4:]}"
    assert city["guardians"][0]["phone"] == "139****5678"


async def test_county_bureau_registers_a_junior_pupil_enrolled_today(client, session):
    token = await token_for(client, COUNTY_EDU)
    number = await free_id(session, birth=date(2012, 3, 5))
    junior = {"schoolCode": WUDING_JUNIOR, "grade": 8, "birthDate": "2012-03-05", "enrolledOn": None}
    student = await register(client, session, token, nationalId=number, **junior)
    assert (student["grade"], student["stage"], student["nationalId"]) == (8, "JUNIOR", number)
    assert [(e["change"], e["on"]) for e in student["enrolmentHistory"]] == [("ENROL", today().isoformat())]


async def test_a_duplicate_national_id_is_refused_and_nothing_is_written(client, session):
    token = await token_for(client, STAFF)
    first = await new_input(session)
    await register(client, session, token, nationalId=first["nationalId"])
    before = await counts(session)
    payload = await call(client, CREATE, await new_input(session, nationalId=first["nationalId"], name="另一人"), token)
    assert (payload["student"], codes(payload)) == (None, [("nationalId", "DUPLICATE_NATIONAL_ID")])
    assert await counts(session) == before


def _wrong_check_digit(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


PHONE = [{"name": "李建华", "relation": "母亲", "phone": "139-1234-5678"}]
RULES = {  # what breaks the rule, given the valid ID → the field and code the user is shown
    "check-digit": (lambda n: {"nationalId": _wrong_check_digit(n)}, ("nationalId", "INVALID_CHECK_DIGIT")),
    "birth-date": (lambda n: {"birthDate": "2016-04-10"}, ("nationalId", "BIRTH_DATE_MISMATCH")),
    "county-code": (lambda n: {"householdRegionCode": "532329"}, ("householdRegionCode", "NOT_A_PLACE")),
    "junior-at-primary": (lambda n: {"grade": 8}, ("grade", "STAGE_NOT_TAUGHT")),
    "disability": (lambda n: {"disabilityCategory": "智力残疾"}, ("specialGroups", "DISABILITY_WITHOUT_GROUP")),
    "phone": (lambda n: {"guardians": PHONE}, ("guardians.0.phone", "INVALID_PHONE")),
}


@pytest.mark.parametrize(("overrides", "expected"), RULES.values(), ids=RULES.keys())
async def test_a_registration_breaking_a_rule_writes_nothing(client, session, overrides, expected):
    token = await token_for(client, STAFF)
    data = await new_input(session)
    data |= overrides(data["nationalId"])
    before = await counts(session)
    payload = await call(client, CREATE, data, token)
    assert (payload["student"], codes(payload)) == (None, [expected])
    assert await counts(session) == before
    assert await session.scalar(select(Child.id).where(Child.national_id == data["nationalId"])) is None


async def test_township_registers_a_child_found_out_of_school_in_its_village(client, session):
    token = await token_for(client, TOWNSHIP)
    student = await register(client, session, token, schoolCode=None, grade=None, enrolledOn=None)
    assert [student[f] for f in ("school", "grade", "stage", "registryNumber")] == [None] * 4
    assert student["enrolmentHistory"] == []
    assert (await read(client, token, student["id"]))["name"] == "李春燕"


async def test_county_bureau_cannot_register_a_child_without_a_school(client, session):
    """The education line holds CHILD:WRITE only by school: an out-of-school child is the government's."""
    before = await counts(session)
    result = await call(
        client, CREATE, await new_input(session, schoolCode=None, grade=None), await token_for(client, COUNTY_EDU)
    )
    assert error_codes(result) == ["FORBIDDEN"]
    assert await counts(session) == before


@pytest.mark.parametrize("username", [NEIGHBOUR_EDU, CITY_EDU, "edu-county-220802"])
async def test_registration_at_a_wuding_school_is_refused_outside_its_jurisdiction(client, session, username):
    """Even with an ID already registered: a refusal leaks nothing of who exists (ARCHITECTURE §6)."""
    taken = await new_input(session)
    await register(client, session, await token_for(client, STAFF), nationalId=taken["nationalId"])
    token, before = await token_for(client, username), await counts(session)
    for number in (await free_id(session), taken["nationalId"]):
        result = await call(client, CREATE, await new_input(session, nationalId=number), token)
        assert error_codes(result) == ["FORBIDDEN"]
    assert await counts(session) == before


async def test_a_registration_enrolled_in_the_future_is_refused(client, session):
    before = await counts(session)
    tomorrow = (today() + timedelta(days=1)).isoformat()
    payload = await call(client, CREATE, await new_input(session, enrolledOn=tomorrow), await token_for(client, STAFF))
    assert (payload["student"], codes(payload)) == (None, [("enrolledOn", "FUTURE_DATE")])
    assert await counts(session) == before


# -- corrections -------------------------------------------------------------------------------


async def test_correcting_the_name_bumps_the_version(client, session):
    token = await token_for(client, STAFF)
    student = await register(client, session, token)
    payload = await call(client, UPDATE, {"studentId": student["id"], "version": 1, "name": " 李春艳 "}, token)
    assert payload["errors"] == []
    assert ((await read(client, token, student["id"]))["name"], payload["student"]["version"]) == ("李春艳", 2)


async def test_a_stale_version_is_a_conflict_naming_the_current_version(client, session):
    token = await token_for(client, STAFF)
    student = await register(client, session, token)
    await call(client, UPDATE, {"studentId": student["id"], "version": 1, "name": "李春艳"}, token)
    payload = await call(client, UPDATE, {"studentId": student["id"], "version": 1, "name": "李小燕"}, token)
    assert codes(payload) == [("version", "CONFLICT")]
    assert "now version 2" in payload["errors"][0]["message"]
    after = await read(client, token, student["id"])
    assert (after["name"], after["version"]) == ("李春艳", 2)
    assert [r.action for r in await audit_rows(session, student["id"])] == ["student.create", "student.update"]


async def test_a_refused_correction_leaves_the_record_as_it_was(client, session):
    """The name was set before the ID was found wrong: none of the change is kept."""
    token = await token_for(client, STAFF)
    data = await new_input(session)
    student = await register(client, session, token, nationalId=data["nationalId"])
    bad = _wrong_check_digit(data["nationalId"])
    payload = await call(
        client, UPDATE, {"studentId": student["id"], "version": 1, "name": "改名", "nationalId": bad}, token
    )
    assert codes(payload) == [("nationalId", "INVALID_CHECK_DIGIT")]
    after = await read(client, token, student["id"])
    assert (after["name"], after["nationalId"], after["version"]) == ("李春燕", data["nationalId"], 1)


async def test_correcting_the_national_id_corrects_the_registry_number(client, session):
    token = await token_for(client, STAFF)
    student = await register(client, session, token)
    corrected = await free_id(session)
    payload = await call(client, UPDATE, {"studentId": student["id"], "version": 1, "nationalId": corrected}, token)
    after = await read(client, token, student["id"])
    assert (payload["errors"], after["nationalId"], after["registryNumber"]) == ([], corrected, f"G{corrected}")


async def test_neighbouring_county_updating_a_wuding_child_is_told_not_found(client, session):
    student = await register(client, session, await token_for(client, STAFF))
    payload = await call(
        client, UPDATE, {"studentId": student["id"], "version": 1, "name": "X"}, await token_for(client, NEIGHBOUR_EDU)
    )
    assert (payload["student"], codes(payload)) == (None, [("studentId", "NOT_FOUND")])
    assert (await read(client, await token_for(client, STAFF), student["id"]))["name"] == "李春燕"


async def test_moving_house_to_another_township_moves_the_ledger_entry_with_the_child(client, session):
    county = await token_for(client, COUNTY_EDU)
    student = await register(client, session, county)
    entry = {"studentId": student["id"], "ledger": "SUSPECTED", "source": "MANUAL", "openedOn": today().isoformat()}
    opened = await call(client, OPEN_ENTRY, entry, county)
    assert opened["errors"] == []
    old, new = await token_for(client, TOWNSHIP), await token_for(client, NEW_TOWNSHIP)

    async def seen_by(token: str) -> list[str]:
        result = await gql(client, ENTRIES, {"f": {"studentId": student["id"]}}, token)
        return [e["node"]["id"] for e in result["data"]["ledgerEntries"]["edges"]]

    assert (await seen_by(old), await seen_by(new)) == ([opened["entry"]["id"]], [])
    move = {"householdRegionCode": GAOQIAO_VILLAGE, "residenceRegionCode": GAOQIAO_VILLAGE}
    payload = await call(client, UPDATE, {"studentId": student["id"], "version": 1, **move}, county)
    assert payload["errors"] == []
    assert (await seen_by(old), await seen_by(new)) == ([], [opened["entry"]["id"]])
    assert (await read(client, new, student["id"]))["name"] == "李春燕"


# -- enrolment history -------------------------------------------------------------------------


def change(student: dict[str, Any], kind: str, school: str, **extra: Any) -> dict[str, Any]:
    """A change in grade 3, dated yesterday, based on the version read."""
    yesterday = (today() - timedelta(days=1)).isoformat()
    base = {"studentId": student["id"], "change": kind, "schoolCode": school, "grade": 3, "on": yesterday}
    return base | {"version": student["version"]} | extra


async def test_a_transfer_out_then_in_is_kept_in_order_and_the_school_follows(client, session):
    staff, county = await token_for(client, STAFF), await token_for(client, COUNTY_EDU)
    student = await register(client, session, staff)
    out = await call(client, CHANGE, change(student, "TRANSFER_OUT", WUDING_PRIMARY), staff)
    assert (out["errors"], out["student"]["school"], out["student"]["version"]) == ([], None, 2)
    assert (await call(client, CHANGE, change(out["student"], "TRANSFER_IN", HUANZHOU_PRIMARY), county))["errors"] == []
    after = await read(client, county, student["id"])
    assert [(e["change"], e["schoolCode"]) for e in after["enrolmentHistory"]] == [
        ("ENROL", WUDING_PRIMARY),
        ("TRANSFER_OUT", WUDING_PRIMARY),
        ("TRANSFER_IN", HUANZHOU_PRIMARY),
    ]
    assert (after["school"], after["grade"], after["version"]) == ({"code": HUANZHOU_PRIMARY}, 3, 3)
    assert await read(client, staff, student["id"]) is None  # the old school no longer sees the child


async def test_a_transfer_in_while_still_enrolled_is_refused(client, session):
    county = await token_for(client, COUNTY_EDU)
    student = await register(client, session, county)
    payload = await call(client, CHANGE, change(student, "TRANSFER_IN", HUANZHOU_PRIMARY), county)
    assert codes(payload) == [("studentId", "ALREADY_ENROLLED")]
    assert (await read(client, county, student["id"]))["school"] == {"code": WUDING_PRIMARY}


async def test_a_transfer_out_from_a_school_the_child_is_not_at_is_refused(client, session):
    county = await token_for(client, COUNTY_EDU)
    student = await register(client, session, county)
    payload = await call(client, CHANGE, change(student, "TRANSFER_OUT", HUANZHOU_PRIMARY), county)
    assert codes(payload) == [("schoolCode", "NOT_ENROLLED_HERE")]
    after = await read(client, county, student["id"])
    assert (after["school"], len(after["enrolmentHistory"])) == ({"code": WUDING_PRIMARY}, 1)


async def test_county_bureau_enrols_an_out_of_school_child_the_township_found(client, session):
    found = await register(client, session, await token_for(client, TOWNSHIP), schoolCode=None, grade=None)
    county = await token_for(client, COUNTY_EDU)
    payload = await call(client, CHANGE, change(found, "ENROL", WUDING_PRIMARY), county)
    assert payload["errors"] == []
    after = await read(client, county, found["id"])
    assert (after["school"], after["stage"]) == ({"code": WUDING_PRIMARY}, "PRIMARY")
    assert after["registryNumber"] == f"G{after['nationalId']}"
    assert [e["change"] for e in after["enrolmentHistory"]] == ["ENROL"]


async def test_an_enrolment_change_dated_in_the_future_is_refused(client, session):
    county = await token_for(client, COUNTY_EDU)
    student = await register(client, session, county)
    tomorrow = (today() + timedelta(days=1)).isoformat()
    payload = await call(client, CHANGE, change(student, "TRANSFER_OUT", WUDING_PRIMARY, on=tomorrow), county)
    assert codes(payload) == [("on", "FUTURE_DATE")]
    assert (await read(client, county, student["id"]))["version"] == 1


async def test_an_enrolment_change_before_the_last_one_or_before_birth_is_refused(client, session):
    """The history (学籍变动) reads in order, and the reports count enrolment from it as of a day: a change
    dated before the last one recorded, or before the child was born, would rewrite what they counted."""
    county = await token_for(client, COUNTY_EDU)
    student = await register(client, session, county)  # enrolled on 1 September 2022
    early = await call(client, CHANGE, change(student, "TRANSFER_OUT", WUDING_PRIMARY, on="2022-08-31"), county)
    assert codes(early) == [("on", "BEFORE_LAST_CHANGE")]
    unborn = await call(
        client, CREATE, await new_input(session, birthDate="2016-05-01", enrolledOn="2016-04-30"), county
    )
    assert codes(unborn) == [("enrolledOn", "BEFORE_BIRTH")]
    after = await read(client, county, student["id"])
    assert (after["version"], len(after["enrolmentHistory"])) == (1, 1)


@pytest.mark.parametrize("grade", [0, 10])
async def test_an_enrolment_change_names_a_grade_from_one_to_nine(client, session, grade):
    staff = await token_for(client, STAFF)
    student = await register(client, session, staff)
    payload = await call(client, CHANGE, change(student, "TRANSFER_OUT", WUDING_PRIMARY, grade=grade), staff)
    assert codes(payload) == [("grade", "OUT_OF_RANGE")]
    after = await read(client, staff, student["id"])
    assert (after["school"], len(after["enrolmentHistory"])) == ({"code": WUDING_PRIMARY}, 1)


async def test_neighbouring_county_cannot_record_a_wuding_childs_transfer(client, session):
    student = await register(client, session, await token_for(client, STAFF))
    payload = await call(
        client, CHANGE, change(student, "TRANSFER_OUT", WUDING_PRIMARY), await token_for(client, NEIGHBOUR_EDU)
    )
    assert codes(payload) == [("studentId", "NOT_FOUND")]


# -- audit -------------------------------------------------------------------------------------


async def test_every_change_is_audited_with_its_actor_and_request(client, session):
    staff, county = await token_for(client, STAFF), await token_for(client, COUNTY_EDU)
    created = await call(client, CREATE, await new_input(session), staff, "req-create")
    student = created["student"]
    steps = [
        (UPDATE, {"studentId": student["id"], "version": 1, "name": "李春艳"}, staff, "req-update"),
        (CHANGE, change(student | {"version": 2}, "TRANSFER_OUT", WUDING_PRIMARY), staff, "req-out"),
        (CHANGE, change(student | {"version": 3}, "TRANSFER_IN", HUANZHOU_PRIMARY), county, "req-in"),
    ]
    for query, input, token, request_id in steps:
        assert (await call(client, query, input, token, request_id))["errors"] == []
    rows = await audit_rows(session, student["id"])
    assert [(r.action, r.actor, r.request_id, r.summary["version"]) for r in rows] == [
        ("student.create", STAFF, "req-create", 1),
        ("student.update", STAFF, "req-update", 2),
        ("student.transfer_out", STAFF, "req-out", 3),
        ("student.transfer_in", COUNTY_EDU, "req-in", 4),
    ]
    assert await session.scalar(select(func.count()).where(EnrolmentEvent.child_id == raw_id(student["id"]))) == 3


async def test_a_registration_and_its_audit_row_roll_back_together(client, session):
    """Two registrations in one operation, the second refused: the first child and its audit row both go."""
    kept = await new_input(session)
    refused = await new_input(session, schoolCode=None, grade=None)
    query = """mutation($a: CreateStudentInput!, $b: CreateStudentInput!) {
      a: createStudent(input: $a) { student { id } errors { code } }
      b: createStudent(input: $b) { student { id } errors { code } } }"""
    result = await gql(client, query, {"a": kept, "b": refused}, await token_for(client, COUNTY_EDU))
    assert error_codes(result) == ["FORBIDDEN"]
    assert await session.scalar(select(Child.id).where(Child.national_id == kept["nationalId"])) is None
    created = select(func.count()).where(AuditLog.action == "student.create", AuditLog.actor == COUNTY_EDU)
    assert await session.scalar(created) == 0
