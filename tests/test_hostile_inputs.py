"""Inputs from outside that once reached internal errors (issue 13 §1): objects by ID that had no reader,
request bodies that are not a JSON object, logins no account can match, and anonymous callers whose
inputs were checked before their sign-in."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from baoxue.app import create_app
from baoxue.graphql_view import MAX_BODY_NESTING
from tests.conftest import error_codes, gql, login, make_settings, token_for

NODE = "query($id: ID!) { node(id: $id) { id __typename } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id __typename } }"
ENTRY_PARTS = (
    """{ ledgerEntries(first: 100) { edges { node { id deferrals { id } handovers { id } visits { id } } } } }"""
)
AUDIT = "{ auditLog(first: 5) { edges { node { id action } } } }"


def gid(type_name: str, node_id: str) -> str:
    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


async def _entry_parts(client: httpx.AsyncClient, token: str) -> list[tuple[str, str]]:
    """(entry id, deferral id), (entry id, handover id) and (entry id, visit id) from the demo's cases."""
    result = await gql(client, ENTRY_PARTS, token=token)
    nodes = [e["node"] for e in result["data"]["ledgerEntries"]["edges"]]
    deferral = next((n["id"], d["id"]) for n in nodes for d in n["deferrals"])
    handover = next((n["id"], h["id"]) for n in nodes for h in n["handovers"])
    visit = next((n["id"], v["id"]) for n in nodes for v in n["visits"])
    return [deferral, handover, visit]


READERS = ["edu-province-64", "edu-county-532328", "edu-county-532329", "gov-township-532329101", "edu-county-220802"]


async def test_deferrals_handovers_and_visits_are_read_by_id_exactly_where_their_entry_is(client):
    city = await token_for(client, "edu-city-5323")
    refused = 0
    for (entry, part), type_name in zip(
        await _entry_parts(client, city), ("DeferralRequest", "Handover", "PersuasionVisit"), strict=True
    ):
        result = await gql(client, NODE, {"id": part}, city)
        assert result == {"data": {"node": {"id": part, "__typename": type_name}}}
        missing = await gql(client, NODE, {"id": gid(type_name, "999999999")}, city)
        assert missing == {"data": {"node": None}}
        for reader in READERS:
            token = await token_for(client, reader)
            sees_entry = (await gql(client, NODE, {"id": entry}, token))["data"]["node"] is not None
            answer = await gql(client, NODE, {"id": part}, token)
            assert "errors" not in answer
            assert (answer["data"]["node"] is not None) == sees_entry, (reader, type_name)
            refused += not sees_entry
    assert refused  # an out-of-scope reader was among them


async def test_audit_entries_are_read_by_id_within_the_readers_jurisdiction(client):
    admin = await token_for(client, "admin-county-532329")
    created = await gql(
        client,
        """mutation($input: CreateAccountInput!) { createAccount(input: $input) { errors { code } } }""",
        {
            "input": {
                "username": "wd-node-audited",
                "displayName": "测试用户",
                "jurisdictionCode": "532329",
                "password": "a-long-password-1",
            }
        },
        admin,
    )
    assert created["data"]["createAccount"]["errors"] == []
    supervisor = await token_for(client, "supervisor-county-532329")
    log = await gql(client, AUDIT, token=supervisor)
    wanted = log["data"]["auditLog"]["edges"][0]["node"]["id"]
    own = await gql(client, NODE, {"id": wanted}, supervisor)
    assert own == {"data": {"node": {"id": wanted, "__typename": "AuditEntry"}}}
    for outsider in ("supervisor-county-532328", "edu-county-532329"):
        assert await gql(client, NODE, {"id": wanted}, await token_for(client, outsider)) == {"data": {"node": None}}


async def test_a_batch_with_ids_of_every_kind_answers_each_position(client):
    city = await token_for(client, "edu-city-5323")
    (_, deferral), (_, handover), _ = await _entry_parts(client, city)
    ids = [
        deferral,
        gid("AuditEntry", "1"),
        gid("Handover", "not-a-number"),
        handover,
        gid("NoSuchType", "1"),
        gid("DeferralRequest", "9" * 30),
    ]
    result = await gql(client, NODES, {"ids": ids}, city)
    assert "errors" not in result
    found = result["data"]["nodes"]
    assert [n and n["id"] for n in found] == [deferral, None, None, handover, None, None]


@pytest.fixture
async def raw_client(sessions, settings):
    """A client that sees the app's answer even when the app raised (what a real client would get)."""
    app = create_app(settings, sessions=sessions)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://baoxue.test") as c:
        yield c


JSON_HEADERS = {"content-type": "application/json"}
DEEP = b"[" * 50_000 + b"]" * 50_000


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"null", id="null"),
        pytest.param(b"42", id="number"),
        pytest.param(b'"{ __typename }"', id="string"),
        pytest.param(b"[]", id="list"),
        pytest.param(b'{"query": "{ __typename }", "variables": {"a": "\xff\xfe"}}', id="bad-utf8"),
        pytest.param(b"\xff\xfe{", id="bad-utf8-start"),
        pytest.param(b"{", id="not-json"),
        pytest.param(b'{"query": "{ __typename }", "variables": {"a": ' + DEEP + b"}}", id="deep"),
        pytest.param(b'{"query": "{ __typename }", "variables": "x"}', id="variables-not-object"),
        pytest.param(b'{"query": 3}', id="query-not-string"),
    ],
)
async def test_a_body_that_is_not_a_graphql_request_gets_a_json_400(raw_client, body):
    response = await raw_client.post("/graphql", content=body, headers=JSON_HEADERS)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert " / " in error["message"]  # Chinese / English


async def test_nesting_is_allowed_up_to_the_limit(raw_client):
    deep = "[" * (MAX_BODY_NESTING - 2) + "]" * (MAX_BODY_NESTING - 2)
    body = '{"query": "{ __typename }", "variables": {"a": ' + deep + "}}"
    response = await raw_client.post("/graphql", content=body.encode(), headers=JSON_HEADERS)
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_an_unsupported_content_type_gets_a_json_error(raw_client):
    response = await raw_client.post("/graphql", content=b"query", headers={"content-type": "text/plain"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    "username",
    [
        pytest.param("a" * 300, id="300-chars"),
        pytest.param("edu-province-53\x00", id="nul"),
        pytest.param("\x00", id="only-nul"),
        pytest.param("省" * 65, id="one-over-the-column"),
    ],
)
async def test_a_username_no_account_can_have_is_an_ordinary_401(raw_client, username):
    response = await login(raw_client, username, "whatever")
    wrong = await login(raw_client, "nobody-at-all", "whatever")
    assert response.status_code == wrong.status_code == 401
    assert response.json() == wrong.json()


async def test_logins_with_impossible_usernames_are_still_throttled(sessions):
    app = create_app(make_settings(login_max_failures_per_user=2), sessions=sessions)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("10.9.9.9", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        statuses = [(await login(c, "x" * 300, "guess")).status_code for _ in range(4)]
    assert statuses[:2] == [401, 401]
    assert statuses[-1] == 429


async def test_a_malformed_login_form_is_a_400(raw_client):
    response = await raw_client.post(
        "/auth/token", content=b"--x\r\nbroken", headers={"content-type": "multipart/form-data; boundary=x"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("production", [False, True], ids=["development", "production"])
@pytest.mark.parametrize(
    ("query", "variables"),
    [
        pytest.param("{ ledgerEntries(filter: {noVisitForDays: 2147483647}) { totalCount } }", {}, id="range"),
        pytest.param("query($id: ID!) { node(id: $id) { id } }", {"id": "%%%not-base64"}, id="bad-global-id"),
        pytest.param("query($n: Int!) { ledgerEntries(first: $n) { totalCount } }", {"n": "x"}, id="bad-variable"),
        pytest.param('{ regions(filter: {parentCode: "5\\u0000"}) { totalCount } }', {}, id="nul"),
    ],
)
async def test_anonymous_callers_are_refused_before_their_inputs_are_read(sessions, production, query, variables):
    app = create_app(make_settings(env="production" if production else "development"), sessions=sessions)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        result: dict[str, Any] = (await c.post("/graphql", json={"query": query, "variables": variables})).json()
    assert result["data"] is None
    assert error_codes(result) == ["UNAUTHENTICATED"]


async def test_anonymous_introspection_of_the_type_name_still_answers(client):
    assert await gql(client, "{ __typename }") == {"data": {"__typename": "Query"}}
