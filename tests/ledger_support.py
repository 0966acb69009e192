"""Shared steps for the ledger tests: register a child through the API, record absences, read entries.

Children are created through `createStudent` so the tests do not depend on the demo's children.
"""

from __future__ import annotations

import base64
import itertools
from datetime import date
from typing import Any

import httpx

from datagen.demo.seed import national_id
from models.school_calendar import CountyCalendar
from tests.conftest import gql, payload

WUDING = "532329"  # 武定县
YUANMOU = "532328"  # 元谋县, Wuding's neighbour in 楚雄州
WUDING_VILLAGE = "532329101201"  # 狮山村, 狮山镇
YUANMOU_VILLAGE = "532328101206"  # 乐甫村, 元马镇
WUDING_PRIMARY = "2153000036"  # 武定县狮山镇中心小学
YUANMOU_PRIMARY = "2153000031"  # 元谋县元马镇中心小学
COUNTY_EDU = f"edu-county-{WUDING}"
NEIGHBOUR_EDU = f"edu-county-{YUANMOU}"
STAFF = f"staff-school-{WUDING_PRIMARY}"

_sequence = itertools.count(300)

ENTRY_FIELDS = """id ledger status source category stage openedOn isRelapse version responsibleRegionCode
  evidence { firstAbsentOn lastAbsentOn schoolDaysAbsent }
  handoverRegionCode lastVisitOn returnedOn placement { method placedOn } closeOut { reason note by }
  student { id name }"""

CREATE = """mutation($input: CreateStudentInput!) { createStudent(input: $input) {
  student { id version name } errors { field code message } } }"""
ATTENDANCE = f"""mutation($input: RecordAttendanceInput!) {{ recordAttendance(input: $input) {{
  recorded opened {{ {ENTRY_FIELDS} }} reopened {{ {ENTRY_FIELDS} }} escalated {{ {ENTRY_FIELDS} }}
  returned {{ {ENTRY_FIELDS} }} errors {{ field code message }} }} }}"""
RULES = f"""mutation($input: RunLedgerRulesInput!) {{ runLedgerRules(input: $input) {{
  opened {{ {ENTRY_FIELDS} }} reopened {{ {ENTRY_FIELDS} }} escalated {{ {ENTRY_FIELDS} }}
  returned {{ {ENTRY_FIELDS} }} errors {{ field code message }} }} }}"""
ENTRIES = f"""query($f: LedgerEntryFilter, $first: Int) {{ ledgerEntries(filter: $f, first: $first) {{
  totalCount edges {{ node {{ {ENTRY_FIELDS} }} }} }} }}"""
ENTRY = f"""query($id: ID!) {{ node(id: $id) {{ ... on LedgerEntry {{ {ENTRY_FIELDS} }} }} }}"""


def gid(type_name: str, raw_id: int | str) -> str:
    return base64.b64encode(f"{type_name}:{raw_id}".encode()).decode()


def raw_id(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":", 1)[1])


async def make_student(
    client: httpx.AsyncClient,
    token: str,
    *,
    village: str = WUDING_VILLAGE,
    residence: str | None = None,
    school: str | None = WUDING_PRIMARY,
    grade: int | None = 3,
    birth: date = date(2017, 5, 12),
    special_groups: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A new child registered through the API (a fresh, valid national ID each time)."""
    for _ in range(20):
        number = national_id(village[:6], birth, next(_sequence), male=True)
        result = await gql(
            client,
            CREATE,
            {
                "input": {
                    "name": f"测试{number[-4:]}",
                    "gender": "MALE",
                    "birthDate": birth.isoformat(),
                    "nationalId": number,
                    "householdRegionCode": village,
                    "residenceRegionCode": residence or village,
                    "schoolCode": school,
                    "grade": grade if school else None,
                    "specialGroups": special_groups or [],
                    "guardians": [{"name": "监护人", "relation": "父亲", "phone": "13800001234"}],
                    **extra,
                }
            },
            token,
        )
        payload = result["data"]["createStudent"]
        if [e["code"] for e in payload["errors"]] != ["DUPLICATE_NATIONAL_ID"]:
            assert payload["errors"] == [], payload["errors"]
            return payload["student"]  # type: ignore[no-any-return]
    raise AssertionError("no free national ID")


def school_days(start: date, end: date) -> list[date]:
    """The school days from start to end where no calendar is kept: the national calendar's working days
    (Monday to Friday less public holidays, plus make-up days such as Sunday 20 September 2026)."""
    return CountyCalendar().school_days(start, end)


async def record_absent(
    client: httpx.AsyncClient, token: str, student_id: str, days: list[date], *, leave: str | None = None
) -> list[dict[str, Any]]:
    """One absence per day, recorded singly (on leave for `leave`'s reason, if given); the payloads in order."""
    out = []
    for day in days:
        result = await gql(
            client,
            ATTENDANCE,
            {
                "input": {
                    "day": day.isoformat(),
                    "absences": [{"studentId": student_id, "leave": {"reason": leave} if leave else None}],
                }
            },
            token,
        )
        out.append(payload(result, "recordAttendance"))
    return out


async def run_rules(client: httpx.AsyncClient, token: str, as_of: date) -> dict[str, Any]:
    """The rules' payload, or the whole response when the operation was refused."""
    return payload(await gql(client, RULES, {"input": {"asOf": as_of.isoformat()}}, token), "runLedgerRules")


async def entries_of(client: httpx.AsyncClient, token: str, student_id: str, **filter: Any) -> list[dict[str, Any]]:
    """The caller's view of a child's entries (oldest first)."""
    result = await gql(client, ENTRIES, {"f": {"studentId": student_id, **filter}, "first": 100}, token)
    return [e["node"] for e in result["data"]["ledgerEntries"]["edges"]]


OPEN_ENTRY = f"""mutation($input: OpenLedgerEntryInput!) {{ openLedgerEntry(input: $input) {{
  entry {{ {ENTRY_FIELDS} }} errors {{ field code message }} }} }}"""
SCHOOL_AGE = """query($f: SchoolAgeFilter, $after: String) { schoolAgeChildren(filter: $f, first: 100, after: $after) {
  totalCount cutoffDate pageInfo { hasNextPage endCursor }
  edges { node { student { id } age schoolingStatus entry { id status } } } } }"""


async def open_entry(
    client: httpx.AsyncClient,
    token: str,
    student_id: str,
    *,
    ledger: str = "SUSPECTED",
    opened_on: date = date(2026, 10, 12),
    source: str = "MANUAL",
    category: str | None = None,
) -> dict[str, Any]:
    """`openLedgerEntry`'s payload (entry and errors), or the whole response when it was refused."""
    result = await gql(
        client,
        OPEN_ENTRY,
        {
            "input": {
                "studentId": student_id,
                "ledger": ledger,
                "source": source,
                "openedOn": opened_on.isoformat(),
                "category": category,
            }
        },
        token,
    )
    return payload(result, "openLedgerEntry")


async def school_age(client: httpx.AsyncClient, token: str, **filter: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every row of the caller's school-age ledger by student id (all pages), and the first page's totals."""
    rows: dict[str, Any] = {}
    after: str | None = None
    first_page: dict[str, Any] | None = None
    while True:
        result = await gql(client, SCHOOL_AGE, {"f": filter, "after": after}, token)
        page = result["data"]["schoolAgeChildren"]
        first_page = first_page or page
        rows.update({e["node"]["student"]["id"]: e["node"] for e in page["edges"]})
        if not page["pageInfo"]["hasNextPage"]:
            return rows, first_page
        after = page["pageInfo"]["endCursor"]
