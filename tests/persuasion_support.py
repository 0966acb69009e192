"""Shared steps for the persuasion and deferral tests: open a case, visit, request and decide deferral."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from tests.conftest import codes, gql, payload, token_for
from tests.ledger_support import COUNTY_EDU, WUDING, make_student
from tests.report_support import CITY_EDU, COUNTY_GOV, PRINCIPAL

__all__ = ["CITY_EDU", "COUNTY_GOV", "PRINCIPAL", "codes"]  # the persuasion tests' names, from one place
TOWNSHIP = f"gov-township-{WUDING}101"  # 狮山镇, where the test children live
NEXT_TOWNSHIP = f"gov-township-{WUDING}102"  # 高桥镇, the next township
SUPERVISOR = f"supervisor-county-{WUDING}"

TEACHER = [{"name": "班主任", "department": "学校", "line": "EDU"}]
JOINT = [
    {"name": "李校长", "department": "学校", "line": "EDU"},
    {"name": "王乡长", "department": "狮山镇人民政府", "line": "GOV"},
    {"name": "张所长", "department": "司法所", "line": "GOV"},
]

ERRORS = "errors { field code message }"
CASE_FIELDS = "id status category version openedOn lastVisitOn"
OPEN = f"""mutation($input: OpenLedgerEntryInput!) {{ openLedgerEntry(input: $input) {{
  entry {{ {CASE_FIELDS} }} {ERRORS} }} }}"""
VISIT = f"""mutation($input: RecordPersuasionVisitInput!) {{ recordPersuasionVisit(input: $input) {{
  visit {{ id visitedOn method stage correctBy liabilityOutcome recordedBy }}
  entry {{ {CASE_FIELDS} }} {ERRORS} }} }}"""
PLAN = f"""mutation($input: SetCasePlanInput!) {{ setCasePlan(input: $input) {{
  plan {{ goal responsibleEdu responsibleGov steps updatedBy version }} {ERRORS} }} }}"""
REQUEST = f"""mutation($input: RequestDeferralInput!) {{ requestDeferral(input: $input) {{
  deferral {{ id basis status documentRef guardianStatement statementVisit {{ id visitedOn }} requestedBy }}
  entry {{ {CASE_FIELDS} }} {ERRORS} }} }}"""
DECIDE = f"""mutation($input: DecideDeferralInput!) {{ decideDeferral(input: $input) {{
  deferral {{ id status decidedBy decisionNote }} entry {{ {CASE_FIELDS} }} {ERRORS} }} }}"""
CATEGORY = f"""mutation($input: SetLedgerCategoryInput!) {{ setLedgerCategory(input: $input) {{
  entry {{ {CASE_FIELDS} }} {ERRORS} }} }}"""
CLOSE = f"""mutation($input: CloseOutLedgerEntryInput!) {{ closeOutLedgerEntry(input: $input) {{
  entry {{ {CASE_FIELDS} closeOut {{ reason by }} }} {ERRORS} }} }}"""
CASE = f"""query($id: ID!) {{ node(id: $id) {{ ... on LedgerEntry {{ {CASE_FIELDS}
  visits {{ visitedOn method stage outcome recordedBy participants {{ name department line }} }}
  deferrals {{ id status basis requestedBy decidedBy guardianStatement }}
  plan {{ goal version }} }} }} }}"""
AUDIT = """query($f: AuditFilter) { auditLog(filter: $f, first: 100) {
  edges { node { actor action targetType targetId } } } }"""


# --- helpers ---------------------------------------------------------------------------------------


async def mutate(client: httpx.AsyncClient, query: str, name: str, input: dict[str, Any], token: str) -> Any:
    """The mutation's payload, or the whole response when the operation was refused (FORBIDDEN)."""
    return payload(await gql(client, query, {"input": input}, token), name)


async def new_case(
    client: httpx.AsyncClient, county: str, *, opened_on: str = "2026-09-01", **student: Any
) -> dict[str, Any]:
    """A new child put on the suspected ledger by door-to-door search, as the county bureau."""
    child = await make_student(client, county, **student)
    payload = await mutate(
        client,
        OPEN,
        "openLedgerEntry",
        {"studentId": child["id"], "ledger": "SUSPECTED", "source": "DOOR_TO_DOOR", "openedOn": opened_on},
        county,
    )
    assert payload["errors"] == [], payload
    return {**payload["entry"], "studentId": child["id"]}


async def visit(
    client: httpx.AsyncClient,
    token: str,
    entry: dict[str, Any],
    visited_on: date | str,
    *,
    method: str = "HOME_VISIT",
    stage: int = 1,
    people: list[dict[str, str]] | None = None,
    outcome: str = "家长表示考虑送孩子返校",
    **more: Any,
) -> Any:
    visited = visited_on if isinstance(visited_on, str) else visited_on.isoformat()
    input = {
        "entryId": entry["id"],
        "visitedOn": visited,
        "method": method,
        "stage": stage,
        "participants": TEACHER if people is None else people,
        "outcome": outcome,
        **more,
    }
    return await mutate(client, VISIT, "recordPersuasionVisit", input, token)


async def joint_visits(client: httpx.AsyncClient, token: str, entry: dict[str, Any], days: list[str]) -> list[str]:
    """Joint visits on these days: their ids."""
    ids = []
    for day in days:
        payload = await visit(client, token, entry, day, method="JOINT_VISIT", people=JOINT)
        assert payload["errors"] == [], payload
        ids.append(str(payload["visit"]["id"]))
    return ids


STATEMENT = "监护人已履行送学义务（多次送学、接受训诫），学生本人拒不返校"


async def request_deferral(
    client: httpx.AsyncClient,
    token: str,
    entry: dict[str, Any],
    basis: str,
    document_ref: str | None = None,
    *,
    statement: str | None = STATEMENT,
    statement_visit: str | None = None,
) -> Any:
    input = {
        "entryId": entry["id"],
        "basis": basis,
        "grounds": "监护人已履行义务，本人仍拒不返校",
        "documentRef": document_ref,
        "guardianStatement": statement,
        "statementVisitId": statement_visit,
    }
    return await mutate(client, REQUEST, "requestDeferral", input, token)


async def decide(
    client: httpx.AsyncClient, token: str, deferral_id: str, approve: bool, note: str | None = None
) -> Any:
    input = {"deferralId": deferral_id, "approve": approve, "note": note}
    return await mutate(client, DECIDE, "decideDeferral", input, token)


async def deferred_on_joint_visits(client: httpx.AsyncClient, entry: dict[str, Any]) -> str:
    """Three joint visits, then the county bureau's deferral proposal resting on the last: the request's id."""
    county = await token_for(client, COUNTY_EDU)
    visits = await joint_visits(client, county, entry, ["2026-09-10", "2026-09-20", "2026-09-30"])
    payload = await request_deferral(client, county, entry, "JOINT_VISITS", statement_visit=visits[-1])
    assert payload["errors"] == [], payload
    return str(payload["deferral"]["id"])


async def case(client: httpx.AsyncClient, token: str, entry: dict[str, Any]) -> Any:
    return (await gql(client, CASE, {"id": entry["id"]}, token))["data"]["node"]
