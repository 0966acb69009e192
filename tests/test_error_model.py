"""Issue 17 §3–§4: one error model a client team can rely on.

A refused root field nulls only itself; a region or school outside the caller's scope answers exactly
as one that does not exist, from every field; a list the role may not read at all is FORBIDDEN, never
an empty list; `nodes` answers each position on its own; a grant has one global ID everywhere.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.conftest import error_codes, gql, token_for

COUNTY = "edu-county-532329"  # 武定县教育体育局
NEIGHBOUR_REGION = "532328"  # 元谋县: exists, outside 武定县's scope
MISSING_REGION = "532399"  # no such county
NEIGHBOUR_SCHOOL_FILTER = "2153000031"  # a school of 元谋县 (see test_the_neighbour_school_exists)
MISSING_SCHOOL = "2159999999"

REGION_FIELDS = {
    "ledgerEntries": 'ledgerEntries(filter: {regionCode: "%s"}) { totalCount }',
    "students": 'students(filter: {regionCode: "%s"}) { totalCount }',
    "schoolAgeChildren": 'schoolAgeChildren(filter: {regionCode: "%s"}) { totalCount }',
    "schools": 'schools(filter: {regionCode: "%s"}) { totalCount }',
    "reports": 'reports(filter: {regionCode: "%s"}) { totalCount }',
    "reportingStatus": 'reportingStatus(regionCode: "%s", period: "2026-Q3") { period }',
    "termVisitCoverage": 'termVisitCoverage(regionCode: "%s", term: "2026-AUTUMN") { __typename }',
    "ledgerCounts": 'ledgerCounts(regionCode: "%s") { __typename }',
    "ledgerStatistics": 'ledgerStatistics(regionCode: "%s") { __typename }',
    "schoolCalendar": 'schoolCalendar(regionCode: "%s", year: 2026) { __typename }',
    "comparisonRuns": 'comparisonRuns(filter: {regionCode: "%s"}) { totalCount }',
    "comparisonFindings": 'comparisonFindings(filter: {regionCode: "%s"}) { totalCount }',
}


def gid(type_name: str, node_id: str) -> str:
    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


def refusal(result: dict[str, Any], name: str) -> dict[str, Any]:
    """The one error of a field refused on its own (its data null, the rest of the answer kept)."""
    assert result["data"] is not None, result
    assert result["data"][name] is None, result
    assert result["data"]["viewer"]["username"] == COUNTY
    [error] = result["errors"]
    assert error["path"] == [name]
    return {"message": error["message"], "extensions": error["extensions"]}


@pytest.mark.parametrize("name", sorted(REGION_FIELDS))
async def test_a_region_outside_scope_answers_exactly_like_a_missing_one(client, name):
    token = await token_for(client, COUNTY)
    answers = [
        refusal(await gql(client, "{ viewer { username } %s }" % (REGION_FIELDS[name] % code), None, token), name)
        for code in (NEIGHBOUR_REGION, MISSING_REGION)
    ]
    assert answers[0] == answers[1]
    assert answers[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert answers[0]["extensions"]["reason"] == "UNKNOWN_REGION"


async def test_the_neighbour_school_exists(client):
    """The school the next test asks about is real, and its own county sees it."""
    token = await token_for(client, "edu-county-532328")
    found = await gql(
        client, '{ schools(filter: {regionCode: "532328"}, first: 100) { edges { node { code } } } }', None, token
    )
    assert NEIGHBOUR_SCHOOL_FILTER in [e["node"]["code"] for e in found["data"]["schools"]["edges"]]


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("students", 'students(filter: {schoolCode: "%s"}) { totalCount }'),
        ("ledgerEntries", 'ledgerEntries(filter: {schoolCode: "%s"}) { totalCount }'),
    ],
)
async def test_a_school_outside_scope_answers_exactly_like_a_missing_one(client, name, query):
    token = await token_for(client, COUNTY)
    answers = [
        refusal(await gql(client, "{ viewer { username } %s }" % (query % code), None, token), name)
        for code in (NEIGHBOUR_SCHOOL_FILTER, MISSING_SCHOOL)
    ]
    assert answers[0] == answers[1]
    assert answers[0]["extensions"]["reason"] == "UNKNOWN_SCHOOL"


async def test_one_refused_widget_leaves_the_others_of_a_dashboard(client):
    """The ministry reads counts but no children: its dashboard keeps the counts."""
    ministry = await token_for(client, "edu-nation-CN")
    result = await gql(
        client,
        "{ viewer { username } ledgerCounts(by: PROVINCE) { regionCode ledger } students { totalCount } }",
        None,
        ministry,
    )
    assert result["data"]["viewer"] == {"username": "edu-nation-CN"}
    assert result["data"]["ledgerCounts"]  # the nation's rows
    assert result["data"]["students"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in result["errors"]] == [(["students"], "FORBIDDEN")]


@pytest.mark.parametrize(
    ("account", "query"),
    [
        ("edu-nation-CN", "{ students { totalCount } }"),
        ("edu-nation-CN", "{ ledgerEntries { totalCount } }"),
        ("edu-nation-CN", "{ schoolAgeChildren { totalCount } }"),
        ("staff-school-2153000001", "{ auditLog { totalCount } }"),
        ("staff-school-2153000001", "{ accounts { totalCount } }"),
        ("staff-school-2153000001", "{ grants { totalCount } }"),
        ("staff-school-2153000001", "{ comparisonRuns { totalCount } }"),
    ],
)
async def test_a_list_the_role_may_not_read_at_all_is_forbidden_not_empty(client, account, query):
    result = await gql(client, query, None, await token_for(client, account))
    assert error_codes(result) == ["FORBIDDEN"]
    assert list(result["data"].values()) == [None]


async def test_a_list_the_role_reads_somewhere_is_still_a_list_where_it_finds_nothing(client):
    """FORBIDDEN is for a role without the right anywhere; a filter that matches nothing is an empty list."""
    token = await token_for(client, COUNTY)
    result = await gql(client, "{ ledgerEntries(filter: {category: T, stage: PRIMARY}) { totalCount } }", None, token)
    assert "errors" not in result
    assert result["data"]["ledgerEntries"]["totalCount"] >= 0


async def test_a_malformed_id_in_nodes_nulls_only_its_own_position(client):
    token = await token_for(client, COUNTY)
    wuding = gid("Region", "532329")
    ids = ["not-a-global-id", wuding, base64.b64encode(b"no colon").decode(), gid("Region", "532328")]
    result = await gql(client, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids}, token)
    assert result["data"]["nodes"] == [None, {"id": wuding}, None, None]
    assert [(e["path"], e["extensions"]["code"], e["extensions"]["field"]) for e in result["errors"]] == [
        (["nodes", 0], "BAD_USER_INPUT", "ids.0"),
        (["nodes", 2], "BAD_USER_INPUT", "ids.2"),
    ]  # the neighbour's region is null with no error: as a missing one would be


async def test_a_grant_has_one_global_id_from_viewer_to_revoke_grant(client):
    admin = await token_for(client, "admin-county-532329")
    created = await gql(
        client,
        """mutation($input: CreateAccountInput!) { createAccount(input: $input) { errors { code } } }""",
        {
            "input": {
                "username": "clerk-ids",
                "displayName": "办事员",
                "password": "a-long-password-1",
                "jurisdictionCode": "532329",
            }
        },
        admin,
    )
    assert created["data"]["createAccount"]["errors"] == []
    granted = await gql(
        client,
        """mutation($input: GrantRoleInput!) { grantRole(input: $input) { grant { id } errors { code } } }""",
        {"input": {"username": "clerk-ids", "role": "COUNTY_EDU", "jurisdictionCode": "532329", "reason": "新任"}},
        admin,
    )
    grant_id = granted["data"]["grantRole"]["grant"]["id"]
    clerk = await token_for(client, "clerk-ids", "a-long-password-1")
    viewer = await gql(client, "{ viewer { grants { id role } } }", None, clerk)
    assert viewer["data"]["viewer"]["grants"] == [{"id": grant_id, "role": "COUNTY_EDU"}]
    node = await gql(client, "query($id: ID!) { node(id: $id) { id __typename } }", {"id": grant_id}, admin)
    assert node["data"]["node"] == {"id": grant_id, "__typename": "Grant"}
    revoked = await gql(
        client,
        "mutation($input: RevokeGrantInput!) { revokeGrant(input: $input) { grant { id status } errors { code } } }",
        {"input": {"grantId": viewer["data"]["viewer"]["grants"][0]["id"], "reason": "调离"}},
        admin,
    )
    assert revoked["data"]["revokeGrant"] == {"grant": {"id": grant_id, "status": "REVOKED"}, "errors": []}
    # A neighbour's admin gets the same id answered as missing.
    other = await token_for(client, "admin-county-532328")
    assert (await gql(client, "query($id: ID!) { node(id: $id) { id } }", {"id": grant_id}, other))["data"] == {
        "node": None
    }


async def test_every_payload_error_reads_through_the_one_interface(client):
    """`errors { field reason message }` works on every payload error; `reason` is the type's own `code`."""
    admin = await token_for(client, "admin-county-532329")
    query = """mutation($input: RevokeGrantInput!) { revokeGrant(input: $input) {
      errors { __typename field reason message ... on AdminError { code } } } }"""
    result = await gql(client, query, {"input": {"grantId": gid("Grant", "999999"), "reason": "x"}}, admin)
    [error] = result["data"]["revokeGrant"]["errors"]
    assert (error["__typename"], error["field"], error["reason"], error["code"]) == (
        "AdminError",
        "grantId",
        "NOT_FOUND",
        "NOT_FOUND",
    )
    assert " / " in error["message"]  # Chinese and English


@pytest.mark.parametrize("type_name", ["Grant", "Student", "LedgerEntry", "Report", "AuditEntry"])
async def test_an_id_past_its_columns_range_answers_like_a_missing_one(client, type_name):
    """Found by the fuzz: a grant id past `integer` reached PostgreSQL and failed the operation."""
    admin = await token_for(client, "admin-county-532329")
    for number in ("2147483648", "166534277226678", "999999999999999999"):
        result = await gql(client, "query($id: ID!) { node(id: $id) { id } }", {"id": gid(type_name, number)}, admin)
        assert result == {"data": {"node": None}}
