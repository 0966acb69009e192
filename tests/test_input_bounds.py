"""Every input refused before any work: NUL and control characters, text past its column, a datetime
without a time zone, numbers and dates out of range, malformed global IDs and variables (schema/inputs.py).

Each answers BAD_USER_INPUT naming the field, in Chinese and English, and writes nothing.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import strawberry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from models import AuditLog, LedgerEntry
from schema.extensions import ErrorPolicy
from schema.inputs import DEFAULT_MAX_TEXT, column_length
from schema.root import Schema
from tests.conftest import gql, token_for
from tests.ledger_support import COUNTY_EDU, WUDING, WUDING_PRIMARY, make_student

ADMIN = f"admin-county-{WUDING}"
NOTE = column_length(LedgerEntry, "note")
REASON = column_length(AuditLog, "reason")
TABLES = ("audit_log", "ledger_entry", "case_plan", "role_grant", "report", "account")


def gid(type_name: str, raw: int) -> str:
    return base64.b64encode(f"{type_name}:{raw}".encode()).decode()


def mutation(name: str, input_type: str) -> str:
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename }} }}"


OPEN = {"studentId": gid("Student", 1), "ledger": "DROPOUT", "source": "MANUAL", "openedOn": "2026-10-01"}
PLAN = {
    "studentId": gid("Student", 1),
    "goal": "返校",
    "responsibleEdu": "校长",
    "responsibleGov": "村主任",
    "steps": [],
}

# (who, document, variables, the field named)
CASES: dict[str, tuple[str, str, dict[str, Any], str]] = {
    "regions NUL": (
        COUNTY_EDU,
        "query($f: RegionFilter) { regions(filter: $f) { totalCount } }",
        {"f": {"parentCode": "53\x00"}},
        "filter.parentCode",
    ),
    "reports NUL": (
        COUNTY_EDU,
        "query($f: ReportFilter) { reports(filter: $f) { totalCount } }",
        {"f": {"period": "2026-09\x00"}},
        "filter.period",
    ),
    "ledgerStatistics NUL in a list": (
        COUNTY_EDU,
        "query($p: [String!]) { ledgerStatistics(periods: $p) { __typename } }",
        {"p": ["2026-09", "2026-\x0010"]},
        "periods.1",
    ),
    "reportingStatus NUL": (
        COUNTY_EDU,
        'query($r: String!) { reportingStatus(regionCode: $r, period: "2026-09") { __typename } }',
        {"r": "532329\x00"},
        "regionCode",
    ),
    "draftSchoolReport control character": (
        COUNTY_EDU,
        mutation("draftSchoolReport", "DraftSchoolReportInput"),
        {"input": {"schoolCode": WUDING_PRIMARY, "period": "2026-09\x07"}},
        "input.period",
    ),
    "lone surrogate": (
        COUNTY_EDU,
        mutation("openLedgerEntry", "OpenLedgerEntryInput"),
        {"input": {**OPEN, "note": "\ud800"}},
        "input.note",
    ),
    "revealNationalId.reason too long": (
        COUNTY_EDU,
        mutation("revealNationalId", "RevealNationalIdInput"),
        {"input": {"studentId": gid("Student", 1), "reason": "查" * (REASON + 1)}},
        "input.reason",
    ),
    "disableAccount.reason too long": (
        ADMIN,
        mutation("disableAccount", "DisableAccountInput"),
        {"input": {"username": f"staff-school-{WUDING_PRIMARY}", "reason": "停" * (REASON + 1)}},
        "input.reason",
    ),
    "openLedgerEntry.note too long": (
        COUNTY_EDU,
        mutation("openLedgerEntry", "OpenLedgerEntryInput"),
        {"input": {**OPEN, "note": "记" * (NOTE + 1)}},
        "input.note",
    ),
    "setCasePlan.responsibleEdu too long": (
        COUNTY_EDU,
        mutation("setCasePlan", "SetCasePlanInput"),
        {"input": {**PLAN, "responsibleEdu": "校" * 201}},
        "input.responsibleEdu",
    ),
    "revokeGrant.reason too long": (
        ADMIN,
        mutation("revokeGrant", "RevokeGrantInput"),
        {"input": {"grantId": gid("Grant", 1), "reason": "撤" * 501}},
        "input.reason",
    ),
    "grantRole.expiresAt without a time zone": (
        ADMIN,
        mutation("grantRole", "GrantRoleInput"),
        {
            "input": {
                "username": f"staff-school-{WUDING_PRIMARY}",
                "role": "SCHOOL_STAFF",
                "jurisdictionCode": WUDING_PRIMARY,
                "reason": "代课",
                "expiresAt": "2030-01-01T08:00:00",
            }
        },
        "input.expiresAt",
    ),
    "noVisitForDays out of range": (
        COUNTY_EDU,
        "query($f: LedgerEntryFilter) { ledgerEntries(filter: $f) { totalCount } }",
        {"f": {"noVisitForDays": 2147483647}},
        "filter.noVisitForDays",
    ),
    "openedFrom out of range": (
        COUNTY_EDU,
        '{ ledgerEntries(filter: {openedFrom: "1900-01-01"}) { totalCount } }',
        {},
        "filter.openedFrom",
    ),
    "malformed global ID in a variable": (
        COUNTY_EDU,
        mutation("openLedgerEntry", "OpenLedgerEntryInput"),
        {"input": {**OPEN, "studentId": "not-a-global-id"}},
        "input.studentId",
    ),
    "malformed global ID in a literal": (
        COUNTY_EDU,
        'mutation { setCasePlan(input: {studentId: "@@", goal: "g", responsibleEdu: "e", responsibleGov: "g",'
        " steps: []}) { __typename } }",
        {},
        "input.studentId",
    ),
    "variable of the wrong type": (
        COUNTY_EDU,
        "query($n: Int) { ledgerEntries(filter: {noVisitForDays: $n}) { totalCount } }",
        {"n": "thirty"},
        "n",
    ),
    "literal past 32 bits": (
        COUNTY_EDU,
        "{ ledgerEntries(filter: {noVisitForDays: 99999999999}) { totalCount } }",
        {},
        "filter.noVisitForDays",
    ),
}


async def post(client: Any, document: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    """As gql, with the body escaped to ASCII: JSON can carry a lone surrogate that UTF-8 cannot."""
    body = json.dumps({"query": document, "variables": variables})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    response = await client.post("/graphql", content=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def counts(session: AsyncSession) -> dict[str, int]:
    """Rows in each table a refused operation could have written (the names are this module's own)."""
    return {t: (await session.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in TABLES}  # noqa: S608


def refused(result: dict[str, Any], field: str) -> dict[str, Any]:
    """The one error: BAD_USER_INPUT naming `field`, worded in Chinese and English."""
    assert len(result["errors"]) == 1, result
    error = result["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["field"] == field, error
    zh, _, en = error["message"].partition(" / ")
    assert en, error["message"]
    assert any("\u4e00" <= c <= "\u9fff" for c in zh), error["message"]
    return dict(error)


@pytest.mark.parametrize("case", list(CASES))
async def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    client: Any, session: AsyncSession, case: str
) -> None:
    who, document, variables, field = CASES[case]
    token = await token_for(client, who)
    before = await counts(session)
    refused(await post(client, document, variables, token), field)
    assert await counts(session) == before


async def test_text_at_exactly_its_column_length_is_kept(client: Any) -> None:
    token = await token_for(client, COUNTY_EDU)
    student = (await make_student(client, token))["id"]
    note = "记" * NOTE
    opened = await gql(
        client,
        "mutation($input: OpenLedgerEntryInput!) { openLedgerEntry(input: $input) { entry { id } errors { code } } }",
        {"input": {**OPEN, "studentId": student, "note": note}},
        token,
    )
    assert "errors" not in opened, opened
    payload = opened["data"]["openLedgerEntry"]
    assert payload["errors"] == []
    assert payload["entry"] is not None
    one_more = await gql(
        client,
        mutation("openLedgerEntry", "OpenLedgerEntryInput"),
        {"input": {**OPEN, "studentId": student, "note": note + "记"}},
        token,
    )
    assert refused(one_more, "input.note")["extensions"]["reason"] == "TOO_LONG"


async def test_an_argument_without_a_declared_bound_gets_the_default(client: Any) -> None:
    """explainAccess(action:) declares nothing: the mechanism still bounds it and refuses NUL in it."""
    token = await token_for(client, ADMIN)
    document = 'query($a: String!) { explainAccess(username: "x", action: $a, objectId: "U3R1ZGVudDox") { allowed } }'
    long = await gql(client, document, {"a": "a" * (DEFAULT_MAX_TEXT + 1)}, token)
    assert refused(long, "action")["extensions"]["reason"] == "TOO_LONG"
    nul = await gql(client, document, {"a": "CHILD\x00"}, token)
    assert refused(nul, "action")["extensions"]["reason"] == "INVALID_TEXT"


async def test_an_anonymous_caller_is_refused_before_its_input_is_judged(client: Any) -> None:
    result = await gql(client, "{ ledgerEntries(filter: {noVisitForDays: 2147483647}) { totalCount } }")
    assert [e["extensions"]["code"] for e in result["errors"]] == ["UNAUTHENTICATED"]


@strawberry.input
class NewFilter:
    """An input type as another domain would add it, with no bounds declared."""

    code: str | None = None
    within_days: int | None = None


@strawberry.type
class NewQuery:
    @strawberry.field
    def compare(self, filter: NewFilter) -> str:
        raise AssertionError("the resolver must not run on refused input")


async def test_an_input_type_added_later_is_covered_with_no_code_of_its_own() -> None:
    """A new field and input type: building the schema alone guards them."""
    schema = Schema(query=NewQuery, extensions=[ErrorPolicy])
    nul = await schema.execute('{ compare(filter: {code: "a\\u0000"}) }')
    far = await schema.execute("{ compare(filter: {withinDays: 2147483647}) }")
    errors = (nul.errors or []) + (far.errors or [])
    assert [(e.extensions or {}).get("field") for e in errors] == ["filter.code", "filter.withinDays"]
    assert {(e.extensions or {}).get("code") for e in errors} == {"BAD_USER_INPUT"}
