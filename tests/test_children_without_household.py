"""Children found without a household registration or an ID number (POLICY 004 §2 铁脚板摸排: 无户籍、无学籍).

Registered through HTTP with a residence and the reasons; what is checked is what each account reads back:
the residence's government line finds the child, the education line only once it is enrolled in its school,
a neighbouring county never.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from models import AuditLog, Child
from models.base import today
from models.ledger import LedgerEntry
from resolvers.students.records import MAX_NO_HOUSEHOLD_REASON, MAX_NO_ID_REASON
from tests.conftest import error_codes, gql, input_refusals, token_for
from tests.factories import make_child
from tests.ledger_support import COUNTY_EDU, NEIGHBOUR_EDU, WUDING_PRIMARY, WUDING_VILLAGE, raw_id
from tests.test_student_records import free_id

TOWNSHIP = "gov-township-532329101"  # 狮山镇: WUDING_VILLAGE (狮山村) lies in it
OTHER_TOWNSHIP = "gov-township-532329102"  # 高桥镇, same county
COUNTY_GOV = "gov-county-532329"  # 武定县人民政府
NEIGHBOUR_GOV = "gov-county-532328"  # 元谋县人民政府
GAOQIAO_VILLAGE = "532329102201"  # 高桥村, 高桥镇

FIELDS = """id name version nationalId noHouseholdReason noIdReason householdRegion { code }
  residenceRegion { code } school { code }"""
PAYLOAD = f"student {{ {FIELDS} }} errors {{ field code message }}"
CREATE = f"mutation($input: CreateStudentInput!) {{ createStudent(input: $input) {{ {PAYLOAD} }} }}"
UPDATE = f"mutation($input: UpdateStudentInput!) {{ updateStudent(input: $input) {{ {PAYLOAD} }} }}"
ENROL = f"""mutation($input: RecordEnrolmentChangeInput!) {{ recordEnrolmentChange(input: $input) {{
  {PAYLOAD} }} }}"""
NODE = f"query($id: ID!) {{ node(id: $id) {{ ... on Student {{ {FIELDS} }} }} }}"
STUDENTS = """query($f: StudentFilter, $after: String) { students(filter: $f, first: 100, after: $after) {
  edges { node { id } } pageInfo { hasNextPage endCursor } } }"""
OPEN_ENTRY = """mutation($input: OpenLedgerEntryInput!) { openLedgerEntry(input: $input) {
  entry { id responsibleRegionCode student { id } } errors { field code } } }"""
ENTRIES = """query($f: LedgerEntryFilter) { ledgerEntries(filter: $f, first: 10) { edges { node { id } } } }"""

BIRTH = date(2016, 3, 2)
NO_HOUSEHOLD = "父母未办理出生登记，未落户"
NO_ID = "未落户，无身份证号"


def found_child(**overrides: Any) -> dict[str, Any]:
    """A child found door to door in 狮山村: no household registration, no ID number, not at school."""
    return {
        "name": "王小花",
        "gender": "FEMALE",
        "birthDate": BIRTH.isoformat(),
        "residenceRegionCode": WUDING_VILLAGE,
        "noHouseholdReason": f"  {NO_HOUSEHOLD} ",
        "noIdReason": NO_ID,
        "guardians": [{"name": "王大山", "relation": "父亲"}],
    } | overrides


async def mutate(client, query: str, input: dict[str, Any], username: str) -> dict[str, Any]:
    result = await gql(client, query, {"input": input}, await token_for(client, username))
    return next(iter(result["data"].values())) if result.get("data") and not result.get("errors") else result


async def register(client, username: str = TOWNSHIP, **overrides: Any) -> dict[str, Any]:
    payload = await mutate(client, CREATE, found_child(**overrides), username)
    assert payload["errors"] == [], payload
    return payload["student"]  # type: ignore[no-any-return]


async def read(client, username: str, student_id: str) -> dict[str, Any] | None:
    return (await gql(client, NODE, {"id": student_id}, await token_for(client, username)))["data"]["node"]


async def listed(client, username: str, region_code: str | None = WUDING_VILLAGE) -> list[str]:
    """Every student the account lists in the region (all pages): the scope SQL, not a single-row check."""
    token, after, ids = await token_for(client, username), None, []
    while True:
        variables = {"f": {"regionCode": region_code} if region_code else {}, "after": after}
        page = (await gql(client, STUDENTS, variables, token))["data"]["students"]
        ids += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]


def codes(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def test_a_child_without_household_or_id_is_registered_and_read_back_with_the_reasons(client, session):
    student = await register(client)
    assert student["nationalId"] is None
    assert (student["householdRegion"], student["residenceRegion"]) == (None, {"code": WUDING_VILLAGE})
    assert (student["noHouseholdReason"], student["noIdReason"]) == (NO_HOUSEHOLD, NO_ID)  # trimmed
    again = await read(client, COUNTY_GOV, student["id"])
    assert again == student
    row = await session.get(Child, raw_id(student["id"]))
    assert (row.household_region_code, row.household_path, row.province_code) == (None, None, "53")
    audit = await session.scalar(
        select(AuditLog).where(AuditLog.action == "student.create", AuditLog.target_id == str(row.id))
    )
    assert audit.scope_path == row.residence_path  # logged where the child lives, readable within scope


async def test_the_residence_government_line_sees_the_child_the_neighbour_does_not(client):
    student = await register(client)
    for username in (TOWNSHIP, COUNTY_GOV):
        assert (await read(client, username, student["id"]))["id"] == student["id"]
        assert student["id"] in await listed(client, username)
    for username in (OTHER_TOWNSHIP, NEIGHBOUR_GOV, NEIGHBOUR_EDU):
        assert await read(client, username, student["id"]) is None
    assert student["id"] not in await listed(client, OTHER_TOWNSHIP, None)
    assert student["id"] not in await listed(client, NEIGHBOUR_GOV, None)


async def test_the_county_bureau_sees_the_child_only_once_enrolled_in_its_school(client):
    student = await register(client)
    assert await read(client, COUNTY_EDU, student["id"]) is None
    assert student["id"] not in await listed(client, COUNTY_EDU)
    enrol = {
        "studentId": student["id"],
        "change": "ENROL",
        "schoolCode": WUDING_PRIMARY,
        "grade": 3,
        "on": today().isoformat(),
        "version": 1,
    }
    refused = await mutate(client, ENROL, enrol, NEIGHBOUR_EDU)
    assert codes(refused) == [("studentId", "NOT_FOUND")]
    payload = await mutate(client, ENROL, enrol, COUNTY_EDU)
    assert payload["errors"] == []
    assert (await read(client, COUNTY_EDU, student["id"]))["school"] == {"code": WUDING_PRIMARY}
    assert student["id"] in await listed(client, COUNTY_EDU)
    assert await read(client, NEIGHBOUR_EDU, student["id"]) is None


async def test_a_neighbouring_county_cannot_register_a_child_living_here(client, session):
    before = await session.scalar(select(func.count()).select_from(Child))
    result = await gql(client, CREATE, {"input": found_child()}, await token_for(client, NEIGHBOUR_GOV))
    assert error_codes(result) == ["FORBIDDEN"]
    assert await session.scalar(select(func.count()).select_from(Child)) == before


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"noHouseholdReason": None}, ("noHouseholdReason", "REQUIRED")),
        ({"noHouseholdReason": "   "}, ("noHouseholdReason", "REQUIRED")),
        ({"noIdReason": None}, ("noIdReason", "REQUIRED")),
        ({"householdRegionCode": WUDING_VILLAGE}, ("noHouseholdReason", "REASON_NOT_NEEDED")),
        ({"householdRegionCode": "532329"}, ("householdRegionCode", "NOT_A_PLACE")),
    ],
)
async def test_a_registration_without_its_reasons_is_refused_by_name_and_writes_nothing(
    client, session, overrides, expected
):
    before = await session.scalar(select(func.count()).select_from(Child))
    payload = await mutate(client, CREATE, found_child(**overrides), TOWNSHIP)
    assert payload["student"] is None
    assert codes(payload) == [expected]
    assert "/" in payload["errors"][0]["message"]  # Chinese / English
    assert await session.scalar(select(func.count()).select_from(Child)) == before


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"noHouseholdReason": "无" * (MAX_NO_HOUSEHOLD_REASON + 1)}, ("input.noHouseholdReason", "TOO_LONG")),
        ({"noHouseholdReason": "未落户\x00"}, ("input.noHouseholdReason", "INVALID_TEXT")),
        ({"noIdReason": "无" * (MAX_NO_ID_REASON + 1)}, ("input.noIdReason", "TOO_LONG")),
        ({"noIdReason": "\x00"}, ("input.noIdReason", "INVALID_TEXT")),
    ],
)
async def test_reasons_past_their_column_or_holding_nul_are_refused_before_any_work(
    client, session, overrides, expected
):
    before = await session.scalar(select(func.count()).select_from(Child))
    result = await mutate(client, CREATE, found_child(**overrides), TOWNSHIP)
    assert input_refusals(result) == [expected]
    assert await session.scalar(select(func.count()).select_from(Child)) == before


async def test_the_longest_reasons_are_kept_whole(client):
    student = await register(
        client, noHouseholdReason="户" * MAX_NO_HOUSEHOLD_REASON, noIdReason="证" * MAX_NO_ID_REASON
    )
    assert (len(student["noHouseholdReason"]), len(student["noIdReason"])) == (
        MAX_NO_HOUSEHOLD_REASON,
        MAX_NO_ID_REASON,
    )


async def test_an_id_reason_with_an_id_is_refused(client, session):
    payload = await mutate(client, CREATE, found_child(nationalId=await free_id(session, birth=BIRTH)), TOWNSHIP)
    assert codes(payload) == [("noIdReason", "REASON_NOT_NEEDED")]


async def test_registering_the_household_and_the_id_later_drops_the_reasons(client, session):
    student = await register(client)
    number = await free_id(session, birth=BIRTH)
    move = {"studentId": student["id"], "version": 1, "householdRegionCode": GAOQIAO_VILLAGE, "nationalId": number}
    payload = await mutate(client, UPDATE, move, TOWNSHIP)
    assert payload["errors"] == []
    after = payload["student"]
    assert (after["householdRegion"], after["noHouseholdReason"]) == ({"code": GAOQIAO_VILLAGE}, None)
    assert (after["nationalId"], after["noIdReason"]) == (number, None)
    # Registered in 高桥镇 now: that township finds the child by household as well.
    assert (await read(client, OTHER_TOWNSHIP, student["id"]))["id"] == student["id"]
    again = await mutate(
        client, UPDATE, {"studentId": student["id"], "version": 2, "noHouseholdReason": "未落户"}, TOWNSHIP
    )
    assert codes(again) == [("noHouseholdReason", "REASON_NOT_NEEDED")]


async def test_a_correction_keeps_the_reasons_bounded(client):
    student = await register(client)
    payload = await mutate(
        client,
        UPDATE,
        {"studentId": student["id"], "version": 1, "noIdReason": "证" * (MAX_NO_ID_REASON + 1)},
        TOWNSHIP,
    )
    assert input_refusals(payload) == [("input.noIdReason", "TOO_LONG")]
    payload = await mutate(
        client, UPDATE, {"studentId": student["id"], "version": 1, "noHouseholdReason": "户口迁出未迁入"}, TOWNSHIP
    )
    assert payload["student"]["noHouseholdReason"] == "户口迁出未迁入"


async def test_the_ledger_opens_an_entry_for_a_child_without_household(client, session):
    student = await register(client)
    entry = {"studentId": student["id"], "ledger": "SUSPECTED", "source": "MANUAL", "openedOn": today().isoformat()}
    opened = await mutate(client, OPEN_ENTRY, entry, TOWNSHIP)
    assert opened["errors"] == []
    assert opened["entry"]["responsibleRegionCode"] == "532329"  # the county the child lives in answers for it
    row = await session.get(LedgerEntry, raw_id(opened["entry"]["id"]))
    assert (row.household_path, row.residence_path) == (
        None,
        (await session.get(Child, raw_id(student["id"]))).residence_path,
    )

    async def seen_by(username: str) -> list[str]:
        result = await gql(client, ENTRIES, {"f": {"studentId": student["id"]}}, await token_for(client, username))
        return [e["node"]["id"] for e in result["data"]["ledgerEntries"]["edges"]]

    assert await seen_by(COUNTY_GOV) == [opened["entry"]["id"]]
    assert await seen_by(COUNTY_EDU) == [opened["entry"]["id"]]  # the responsible county's bureau
    assert await seen_by(NEIGHBOUR_GOV) == []
    assert await seen_by(NEIGHBOUR_EDU) == []


async def test_the_table_refuses_a_child_with_no_place_or_no_reason(session):
    """The check constraints hold whatever writes the row (the roster apply included)."""
    cases = [
        {"household_region_code": None, "household_path": None},  # no household and no reason
        {"national_id": None},  # no ID and no reason
        {
            "household_region_code": None,
            "household_path": None,
            "no_household_reason": "未落户",
            "residence_region_code": None,
            "residence_path": None,
            "school_code": None,
            "school_path": None,
            "grade": None,
        },  # nowhere at all
        {"household_path": None},  # a code without its path
    ]
    for overrides in cases:
        async with session.begin_nested():
            with pytest.raises(IntegrityError):
                await make_child(session, **overrides)
    kept = await make_child(session, national_id=None, no_id_reason="未落户", residence=WUDING_VILLAGE)
    school_only = await make_child(
        session,
        household_region_code=None,
        household_path=None,
        no_household_reason="学籍名册未载户籍地",
        residence_region_code=None,
        residence_path=None,
    )
    found = sa.text("SELECT count(*) FROM child WHERE id IN (:a, :b)")
    assert await session.scalar(found, {"a": kept.id, "b": school_only.id}) == 2
