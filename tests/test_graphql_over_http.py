"""GraphQL over HTTP (issue 17 §5): Accept decides the media type; application/graphql-response+json answers a
request error 4xx without `data`; application/json stays as old clients know it; bodies that are not a
GraphQL request answer 400 JSON, never a plain-text 500; CORS for a frontend's dev server (§7)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from baoxue.app import create_app
from baoxue.graphql_http import negotiate
from tests.conftest import make_settings, token_for

GRAPHQL_RESPONSE = "application/graphql-response+json"
NEW = {"Accept": GRAPHQL_RESPONSE}
LEGACY = {"Accept": "application/json"}


async def _post(
    client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str], token: str | None = None
) -> httpx.Response:
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.post("/graphql", json=body, headers={**headers, **auth})


def _media(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


@pytest.fixture
async def token(client: httpx.AsyncClient) -> str:
    return await token_for(client, "edu-county-532329")


async def test_a_query_that_runs_answers_200_in_the_media_type_asked_for(client, token):
    response = await _post(client, {"query": "{ viewer { username } }"}, NEW, token)
    assert response.status_code == 200
    assert _media(response) == GRAPHQL_RESPONSE
    assert "charset=utf-8" in response.headers["content-type"]
    assert response.json()["data"] == {"viewer": {"username": "edu-county-532329"}}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param({"query": "{ viewer { username }"}, None, id="parse-error"),
        pytest.param({"query": "{ viewer { usernme } }"}, None, id="validation-error"),
        pytest.param(
            {"query": "query($n: Int) { regions(first: $n) { totalCount } }", "variables": {"n": "many"}},
            "BAD_USER_INPUT",
            id="variable-coercion",
        ),
        pytest.param(
            {"query": "query($f: RegionFilter) { regions(filter: $f) { totalCount } }", "variables": {"f": {"x": 1}}},
            "BAD_USER_INPUT",
            id="variable-unknown-field",
        ),
        pytest.param(
            {"query": "{ " + " ".join(f"a{i}: viewer {{ username }}" for i in range(16)) + " }"},
            "QUERY_TOO_COMPLEX",
            id="past-a-limit",
        ),
    ],
)
async def test_a_request_error_is_400_without_data_in_graphql_response_json_and_200_in_json(client, token, body, code):
    new = await _post(client, body, NEW, token)
    assert new.status_code == 400, new.text
    assert _media(new) == GRAPHQL_RESPONSE
    assert "data" not in new.json()
    assert new.json()["errors"]
    if code:
        assert new.json()["errors"][0]["extensions"]["code"] == code

    legacy = await _post(client, body, LEGACY, token)
    assert legacy.status_code == 200
    assert _media(legacy) == "application/json"
    assert legacy.json()["data"] is None
    assert legacy.json()["errors"] == new.json()["errors"]


async def test_a_field_refused_while_the_operation_runs_is_200_with_its_data_key(client):
    """A field error is an execution result, not a request error: 200, `data` kept, the error has a path."""
    staff = await token_for(client, "staff-school-2153000001")  # no AGGREGATE:READ anywhere
    response = await _post(client, {"query": "{ viewer { username } ledgerCounts { regionCode } }"}, NEW, staff)
    assert response.status_code == 200
    answer = response.json()
    assert "data" in answer
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert answer["errors"][0]["path"] == ["ledgerCounts"]


async def test_without_a_sign_in_graphql_response_json_answers_401_with_a_bearer_challenge(client):
    new = await _post(client, {"query": "{ viewer { username } }"}, NEW)
    assert new.status_code == 401
    assert new.headers["WWW-Authenticate"] == "Bearer"
    assert new.json() == {
        "errors": [{"message": new.json()["errors"][0]["message"], "extensions": {"code": "UNAUTHENTICATED"}}]
    }
    legacy = await _post(client, {"query": "{ viewer { username } }"}, LEGACY)
    assert legacy.status_code == 200
    assert legacy.json()["data"] is None
    assert legacy.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_spent_budget_keeps_its_429_and_retry_after_without_data(sessions):
    app = create_app(make_settings(query_budgets={"SCHOOL": 3}), sessions=sessions)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        staff = await token_for(client, "staff-school-2153000001")
        query = {"query": "{ viewer { username displayName } }"}  # costs 3: the whole minute's budget
        answers = [await _post(client, query, NEW, staff) for _ in range(3)]
    # The first spends the minute; a minute turning during the three lets one more through, never two.
    refused = [a for a in answers if a.status_code == 429]
    assert len(refused) in (1, 2)
    assert all(a.status_code in (200, 429) for a in answers)
    spent = refused[0]
    assert int(spent.headers["Retry-After"]) >= 1
    assert "data" not in spent.json()
    assert spent.json()["errors"][0]["extensions"]["code"] == "QUERY_BUDGET_SPENT"
    assert spent.json()["extensions"]["budget"]["remaining"] == 0


async def test_an_accept_naming_neither_media_type_is_406_before_anything_runs(client, token):
    mutation = 'mutation { revealNationalId(input: {studentId: "x", reason: "audit me"}) { nationalId } }'
    for accept in ("text/html", "application/xml", "application/json;q=0"):
        response = await _post(client, {"query": mutation}, {"Accept": accept}, token)
        assert response.status_code == 406, accept
        assert response.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"
        assert " / " in response.json()["errors"][0]["message"]


async def test_no_accept_and_a_wildcard_answer_application_json(client, token):
    request = client.build_request(
        "POST", "/graphql", json={"query": "{ viewer { username } }"}, headers={"Authorization": f"Bearer {token}"}
    )
    del request.headers["accept"]
    without = await client.send(request)
    assert without.status_code == 200
    assert _media(without) == "application/json"
    wildcard = await _post(client, {"query": "{ viewer { usernme } }"}, {"Accept": "*/*"}, token)
    assert wildcard.status_code == 200
    assert _media(wildcard) == "application/json"
    assert wildcard.json()["data"] is None


def test_the_highest_weighted_type_wins_and_a_named_type_beats_a_wildcard():
    assert negotiate(f"{GRAPHQL_RESPONSE}, application/json") == GRAPHQL_RESPONSE
    assert negotiate(f"application/json, {GRAPHQL_RESPONSE}") == "application/json"
    assert negotiate(f"application/json;q=0.9, {GRAPHQL_RESPONSE}") == GRAPHQL_RESPONSE
    assert negotiate(f"{GRAPHQL_RESPONSE};q=0.5, */*") == "application/json"
    assert negotiate("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8") == "application/json"
    assert negotiate("application/json;q=0, */*") == GRAPHQL_RESPONSE
    assert negotiate(None) == negotiate("") == "application/json"
    assert negotiate("text/html") is None


async def test_get_queries_negotiate_too(client, token):
    response = await client.get(
        "/graphql", params={"query": "{ viewer { username } }"}, headers={**NEW, "Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert _media(response) == GRAPHQL_RESPONSE
    bad = await client.get(
        "/graphql", params={"query": "{ viewer {"}, headers={**NEW, "Authorization": f"Bearer {token}"}
    )
    assert bad.status_code == 400
    assert "data" not in bad.json()


async def test_a_mutation_sent_with_get_is_405_and_runs_nothing(client, token):
    mutation = 'mutation { revealNationalId(input: {studentId: "x", reason: "audit me"}) { nationalId } }'
    for accept in (GRAPHQL_RESPONSE, "application/json"):
        response = await client.get(
            "/graphql", params={"query": mutation}, headers={"Accept": accept, "Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 405
        assert response.headers["Allow"] == "POST"
        assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
        assert "data" not in response.json()


@pytest.fixture
async def raw_client(sessions, settings):
    """A client that sees the app's answer even when the app raised (what a real client would get)."""
    transport = httpx.ASGITransport(app=create_app(settings, sessions=sessions), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://baoxue.test") as c:
        yield c


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"null", id="null"),
        pytest.param(b"7", id="number"),
        pytest.param(b"true", id="boolean"),
        pytest.param(b'"{ viewer { username } }"', id="string"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01", id="binary"),
        pytest.param(b"\x00\x01\x02\x03", id="nul-bytes"),
        pytest.param('{"query": "{ viewer { username } }"}'.encode("utf-16"), id="utf-16"),
        pytest.param(b'{"query": "{ viewer { username } }", "x": "\xc3\x28"}', id="invalid-utf8"),
        pytest.param(b'{"query": "\xed\xa0\x80"}', id="utf8-surrogate"),
    ],
)
@pytest.mark.parametrize("accept", ["application/json", GRAPHQL_RESPONSE])
@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
async def test_a_body_that_is_not_a_json_object_answers_400_json_in_either_media_type(
    raw_client, body, accept, content_type
):
    response = await raw_client.post("/graphql", content=body, headers={"Content-Type": content_type, "Accept": accept})
    assert response.status_code == 400, response.text
    assert _media(response) == accept
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert " / " in error["message"]
    assert "data" not in response.json()


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"query": "{ __typename }", "variables": "null"}, id="variables-null"),
        pytest.param({"query": "{ __typename }", "variables": "42"}, id="variables-number"),
        pytest.param({"query": "{ __typename }", "variables": "{"}, id="variables-not-json"),
        pytest.param({"query": "{ __typename }", "extensions": "[]"}, id="extensions-list"),
    ],
)
async def test_get_parameters_that_are_not_json_objects_answer_400_json(raw_client, params):
    response = await raw_client.get("/graphql", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


# --- CORS (issue 17 §7) ---

PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}


async def _cors(settings_overrides: dict[str, Any], sessions, origin: str) -> tuple[httpx.Response, httpx.Response]:
    app = create_app(make_settings(**settings_overrides), sessions=sessions)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        preflight = await c.options("/graphql", headers={**PREFLIGHT, "Origin": origin})
        simple = await c.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": origin})
    return preflight, simple


@pytest.mark.parametrize(
    "origin", ["http://localhost:5173", "http://127.0.0.1:3000", "http://localhost", "https://localhost:8443"]
)
async def test_development_allows_a_dev_server_on_localhost_without_configuration(sessions, origin):
    preflight, simple = await _cors({}, sessions, origin)
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert simple.headers["access-control-allow-origin"] == origin
    assert simple.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    "origin", ["http://localhost.evil.example", "http://evil.example", "http://127.0.0.1.nip.example:80", "null"]
)
async def test_development_refuses_other_origins(sessions, origin):
    preflight, simple = await _cors({}, sessions, origin)
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in simple.headers


async def test_production_allows_only_the_configured_origins(sessions):
    for origin in ("http://localhost:5173", "http://127.0.0.1:3000"):
        preflight, simple = await _cors({"env": "production"}, sessions, origin)
        assert "access-control-allow-origin" not in preflight.headers
        assert "access-control-allow-origin" not in simple.headers
    configured = {"env": "production", "cors_origins": "https://app.example.cn"}
    preflight, simple = await _cors(configured, sessions, "https://app.example.cn")
    assert preflight.headers["access-control-allow-origin"] == "https://app.example.cn"
    assert simple.headers["access-control-allow-origin"] == "https://app.example.cn"
    preflight, _ = await _cors(configured, sessions, "http://localhost:5173")
    assert "access-control-allow-origin" not in preflight.headers
