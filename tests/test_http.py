"""Health, readiness, metrics, request ids, headers, CORS, and the production switches."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from baoxue.app import create_app
from tests.conftest import error_codes, gql, make_settings, token_for


async def test_healthz_answers_while_the_process_is_up(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_a_migrated_database(client):
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


async def test_readyz_refuses_an_unmigrated_database(databases, settings):
    engine = create_async_engine(databases.create("bare"), poolclass=NullPool)
    app = create_app(settings, sessions=async_sessionmaker(engine))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/readyz")
    await engine.dispose()
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


async def test_readyz_refuses_when_the_database_is_unreachable(settings):
    engine = create_async_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", poolclass=NullPool)
    app = create_app(settings, sessions=async_sessionmaker(engine))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


async def test_every_response_carries_a_request_id(client):
    generated = await client.get("/healthz")
    assert len(generated.headers["X-Request-ID"]) == 32
    echoed = await client.get("/healthz", headers={"X-Request-ID": "frontend-abc.123"})
    assert echoed.headers["X-Request-ID"] == "frontend-abc.123"
    unsafe = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith junk"})
    assert unsafe.headers["X-Request-ID"] != "bad id\twith junk"


async def test_security_headers(client):
    response = await client.post("/graphql", json={"query": "{ __typename }"})
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


async def test_metrics_count_requests_and_graphql_operations_by_name(sessions):
    app = create_app(make_settings(metrics_token="test-scraper"), sessions=sessions)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        token = await token_for(client, "edu-province-53")
        await gql(client, "query MetricsProbe { viewer { username } }", token=token)
        await gql(client, "query MetricsProbeFails { viewer { username } }")
        text = (await client.get("/metrics", headers={"Authorization": "Bearer test-scraper"})).text
    assert 'baoxue_http_requests_total{method="POST",route="/graphql",status="200"}' in text
    assert 'baoxue_graphql_operations_total{operation="MetricsProbe",type="query"}' in text
    assert 'baoxue_graphql_errors_total{operation="MetricsProbeFails"}' in text
    assert "baoxue_graphql_operation_duration_seconds_bucket" in text


async def test_cors_allows_configured_origins_only(sessions):
    app = create_app(make_settings(cors_origins="https://app.example.cn"), sessions=sessions)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        headers = {"Origin": "https://app.example.cn", "Access-Control-Request-Method": "POST"}
        allowed = await c.options("/graphql", headers=headers)
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.cn"
        other = await c.options("/graphql", headers={**headers, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


async def test_development_serves_graphiql(client):
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


@pytest.fixture
async def production(sessions):
    app = create_app(make_settings(env="production"), sessions=sessions)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c


async def test_production_turns_off_graphiql_and_get_queries(production):
    page = await production.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code != 200 or "graphiql" not in page.text.lower()
    get_query = await production.get("/graphql", params={"query": "{ __typename }"})
    assert get_query.status_code in (400, 404, 405)


async def test_production_refuses_introspection_and_field_suggestions(production):
    token = await token_for(production, "edu-province-53")
    introspection = await gql(production, "{ __schema { types { name } } }", token=token)
    assert introspection.get("data") is None
    assert "introspection" in introspection["errors"][0]["message"].lower()
    typo = await gql(production, "{ viewer { usernme } }", token=token)
    assert "Did you mean" not in typo["errors"][0]["message"]


async def test_production_sets_hsts(production):
    assert "max-age" in (await production.get("/healthz")).headers["Strict-Transport-Security"]


async def test_development_suggests_fields(client):
    token = await token_for(client, "edu-province-53")
    typo = await gql(client, "{ viewer { usernme } }", token=token)
    assert "Did you mean" in typo["errors"][0]["message"]


async def test_refusals_keep_their_code_in_production(production):
    assert error_codes(await gql(production, "{ viewer { username } }")) == ["UNAUTHENTICATED"]
