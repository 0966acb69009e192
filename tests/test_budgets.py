"""Query budgets per account and minute, and setExportBudget, through the app (README, Budgets).

Each app here has budgets of its own (make_settings); every other test runs with budgets out of reach
(tests/conftest.py). A query's cost is the limits' measure (schema/limits.py): `{ viewer { username
displayName } }` costs 3 (the viewer field, and its two fields).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from baoxue.app import create_app
from baoxue.database import make_replica_engine
from tests.conftest import codes, error_codes, gql, input_refusals, make_settings, payload, token_for
from tests.ledger_support import WUDING_PRIMARY, YUANMOU_PRIMARY

VIEWER = "{ viewer { username displayName } }"
VIEWER_COST = 3
STAFF = f"staff-school-{WUDING_PRIMARY}"
INTEGRATOR = "integrator-province-53"
SET_BUDGET = """mutation($input: SetExportBudgetInput!) { setExportBudget(input: $input) {
  budget { username rowsPerDay setBy } errors { field code message } } }"""


@asynccontextmanager
async def app_client(sessions: Any, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(**settings), sessions=sessions)
    transport = httpx.ASGITransport(app=app, client=("10.0.0.2", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://baoxue.test") as client:
        yield client


async def early_in_a_minute(spare_seconds: float = 12) -> None:
    """Wait for the next minute when this one ends too soon: a budget's window is the clock's minute."""
    into = time.time() % 60
    if into > 60 - spare_seconds:
        await asyncio.sleep(60.5 - into)


async def post(client: httpx.AsyncClient, token: str, query: str = VIEWER) -> httpx.Response:
    return await client.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"})


async def test_a_school_account_spends_its_minute_then_gets_429_with_retry_after(sessions):
    async with app_client(sessions, query_budgets={"SCHOOL": 3 * VIEWER_COST}) as client:
        token = await token_for(client, STAFF)
        await early_in_a_minute()
        answers = [await post(client, token) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.json()["extensions"]["budget"]["remaining"] for a in answers] == [6, 3, 0, 0]
    assert all(a.json()["extensions"]["budget"]["allowance"] == 9 for a in answers)
    assert answers[0].json()["data"]["viewer"]["username"] == STAFF
    refused = answers[3]
    assert refused.json()["data"] is None
    assert error_codes(refused.json()) == ["QUERY_BUDGET_SPENT"]
    message = refused.json()["errors"][0]["message"]
    assert "查询额度已用完" in message
    assert "query budget of this minute is spent" in message
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 60
    assert refused.json()["errors"][0]["extensions"]["retryAfter"] == wait
    assert refused.json()["extensions"]["budget"]["resetsInSeconds"] == wait


async def test_a_province_integrator_gets_more_than_a_school_under_the_same_settings(sessions):
    """The default table gives a school 30,000 a minute and a province 600,000; scaled down here."""
    budgets = {"SCHOOL": 2 * VIEWER_COST, "PROVINCE": 20 * VIEWER_COST}
    async with app_client(sessions, query_budgets=budgets) as client:
        staff, integrator = await token_for(client, STAFF), await token_for(client, INTEGRATOR)
        await early_in_a_minute()
        school = [(await post(client, staff)).status_code for _ in range(5)]
        province = [(await post(client, integrator)).status_code for _ in range(5)]
        answer = (await post(client, integrator)).json()
    assert school == [200, 200, 429, 429, 429]
    assert province == [200] * 5
    assert answer["extensions"]["budget"] == {
        "allowance": 60,
        "remaining": 60 - 6 * VIEWER_COST,
        "resetsInSeconds": answer["extensions"]["budget"]["resetsInSeconds"],
    }


async def test_one_account_spending_does_not_touch_another_accounts_budget(sessions):
    neighbour = f"staff-school-{YUANMOU_PRIMARY}"
    async with app_client(sessions, query_budgets={"SCHOOL": VIEWER_COST}) as client:
        first, second = await token_for(client, STAFF), await token_for(client, neighbour)
        await early_in_a_minute()
        statuses = [(await post(client, first)).status_code for _ in range(2)]
        other = await post(client, second)
    assert statuses == [200, 429]
    assert other.status_code == 200
    assert other.json()["extensions"]["budget"]["remaining"] == 0


async def test_a_spent_budget_refuses_a_mutation_before_it_writes(sessions):
    admin = "admin-county-532329"
    budget = {"username": STAFF, "rowsPerDay": 500}
    async with app_client(sessions, query_budgets={"COUNTY": 1}) as client:
        token = await token_for(client, admin)
        await early_in_a_minute()
        response = await client.post(
            "/graphql",
            json={"query": SET_BUDGET, "variables": {"input": budget}},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 429
    assert error_codes(response.json()) == ["QUERY_BUDGET_SPENT"]
    async with sessions() as session:
        kept = await session.scalar(text("SELECT count(*) FROM export_allowance"))
    assert kept == 0


async def test_anonymous_callers_are_refused_before_any_budget_is_counted(sessions):
    async with app_client(sessions, query_budgets={"SCHOOL": 1}) as client:
        answer = (await client.post("/graphql", json={"query": VIEWER})).json()
    assert error_codes(answer) == ["UNAUTHENTICATED"]
    assert "budget" not in (answer.get("extensions") or {})


async def test_metrics_show_what_remains_of_each_budget_in_use(sessions):
    async with app_client(sessions, query_budgets={"SCHOOL": 10 * VIEWER_COST}, metrics_token="scrape-1") as client:
        token = await token_for(client, STAFF)
        await early_in_a_minute()
        for _ in range(2):
            await post(client, token)
        metrics = (await client.get("/metrics", headers={"Authorization": "Bearer scrape-1"})).text
    assert f'baoxue_query_budget_remaining{{account="{STAFF}"}} 24.0' in metrics
    assert f'baoxue_query_budget_allowance{{account="{STAFF}"}} 30.0' in metrics


async def test_a_county_admin_sets_a_school_accounts_export_budget_and_it_is_audited(client):
    admin = await token_for(client, "admin-county-532329")
    result = await gql(client, SET_BUDGET, {"input": {"username": STAFF, "rowsPerDay": 2500}}, admin)
    again = await gql(client, SET_BUDGET, {"input": {"username": STAFF, "rowsPerDay": 0}}, admin)
    assert payload(result, "setExportBudget") == {
        "budget": {"username": STAFF, "rowsPerDay": 2500, "setBy": "admin-county-532329"},
        "errors": [],
    }
    assert payload(again, "setExportBudget")["budget"]["rowsPerDay"] == 0
    audit = """query($f: AuditFilter) {
      auditLog(filter: $f, first: 10) { edges { node { action targetId summary } } } }"""
    supervisor = await token_for(client, "supervisor-county-532329")
    log = await gql(client, audit, {"f": {"action": "account.export_budget"}}, supervisor)
    summaries = [e["node"]["summary"] for e in log["data"]["auditLog"]["edges"] if e["node"]["targetId"] == STAFF]
    assert sorted(summaries, key=lambda s: s["before"]["rowsPerDay"] is not None) == [
        {"before": {"rowsPerDay": None}, "after": {"rowsPerDay": 2500}},
        {"before": {"rowsPerDay": 2500}, "after": {"rowsPerDay": 0}},
    ]


async def test_export_budgets_are_refused_out_of_scope_for_others_and_for_oneself(client):
    neighbour = await token_for(client, "admin-county-532328")  # 元谋县's admin, not 武定县's
    out_of_scope = await gql(client, SET_BUDGET, {"input": {"username": STAFF, "rowsPerDay": 10}}, neighbour)
    assert codes(payload(out_of_scope, "setExportBudget")) == ["NOT_FOUND"]
    staff = await token_for(client, STAFF)
    not_an_admin = await gql(client, SET_BUDGET, {"input": {"username": STAFF, "rowsPerDay": 10}}, staff)
    assert error_codes(not_an_admin) == ["FORBIDDEN"]
    own = "admin-county-532329"
    admin = await token_for(client, own)
    self_set = await gql(client, SET_BUDGET, {"input": {"username": own, "rowsPerDay": 10}}, admin)
    assert codes(payload(self_set, "setExportBudget")) == ["SELF_GRANT"]
    negative = await gql(client, SET_BUDGET, {"input": {"username": STAFF, "rowsPerDay": -1}}, admin)
    assert input_refusals(negative) == [("input.rowsPerDay", "OUT_OF_RANGE")]


async def test_a_level_without_a_budget_is_not_counted(sessions):
    async with app_client(sessions, query_budgets={"SCHOOL": None}) as client:
        answer = await post(client, await token_for(client, STAFF))
    assert answer.status_code == 200
    assert "budget" not in (answer.json().get("extensions") or {})
    async with sessions() as session:
        assert await session.scalar(text("SELECT count(*) FROM query_budget_window")) == 0


async def test_a_budget_that_cannot_be_counted_runs_nothing(client, database_url):
    """A primary that refuses the spend (here: read-only connections) answers an internal error, no data."""
    token = await token_for(client, STAFF)
    read_only = make_replica_engine(database_url)
    try:
        settings = make_settings(query_budgets={"SCHOOL": 1000})
        app = create_app(settings, sessions=async_sessionmaker(read_only, expire_on_commit=False))
        transport = httpx.ASGITransport(app=app, client=("10.0.0.4", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://baoxue.test") as broken:
            answer = await post(broken, token)
    finally:
        await read_only.dispose()
    assert answer.json()["data"] is None
    assert error_codes(answer.json()) == ["INTERNAL_SERVER_ERROR"]
    assert answer.json()["errors"][0]["extensions"]["requestId"] == answer.headers["X-Request-ID"]


async def _rows_spent_today(sessions: Any, username: str) -> int:
    async with sessions() as session:
        spent = await session.execute(
            text(
                "SELECT coalesce(sum(s.rows), 0) FROM export_rows_spent s JOIN account a ON a.id = s.account_id "
                "WHERE a.username = :u AND s.day = (now() AT TIME ZONE 'Asia/Shanghai')::date"
            ),
            {"u": username},
        )
        return int(spent.scalar_one())


async def test_an_export_spends_its_rows_and_a_spent_day_is_429_before_the_first_byte(sessions):
    """GET /exports/{dataset} counts its rows against the account's day (issue 15 §3): an export sent in
    full spends what it sent; an export the day's remaining rows cannot cover is 429 with Retry-After
    before the first byte and spends nothing; one that fits exactly is sent whole."""
    county = "integrator-county-532329"
    jsonl = {"format": "jsonl"}
    async with app_client(sessions, export_rows_per_day={"COUNTY": 10**9}) as client:
        token = await token_for(client, county)
        before = await _rows_spent_today(sessions, county)
        sent = await client.get("/exports/children", params=jsonl, headers={"Authorization": f"Bearer {token}"})
        assert sent.status_code == 200
        rows = len(sent.text.splitlines())
        assert rows > 0
        assert await _rows_spent_today(sessions, county) == before + rows
    spent = before + rows
    async with app_client(sessions, export_rows_per_day={"COUNTY": spent}) as client:
        token = await token_for(client, county)
        refused = await client.get("/exports/children", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["Retry-After"]) > 0
        assert refused.json()["code"] == "EXPORT_BUDGET_SPENT"
        assert " / " in refused.json()["message"]
    async with app_client(sessions, export_rows_per_day={"COUNTY": spent + rows - 1}) as client:
        token = await token_for(client, county)
        short = await client.get("/exports/children", params=jsonl, headers={"Authorization": f"Bearer {token}"})
        assert short.status_code == 429, "one row short of the export: refused whole, nothing half-sent"
        assert f"{rows - 1} left" in short.json()["message"]
        assert await _rows_spent_today(sessions, county) == spent, "a refused export spends nothing"
    async with app_client(sessions, export_rows_per_day={"COUNTY": spent + rows}) as client:
        token = await token_for(client, county)
        exact = await client.get("/exports/children", params=jsonl, headers={"Authorization": f"Bearer {token}"})
        assert exact.status_code == 200
        assert len(exact.text.splitlines()) == rows
        assert await _rows_spent_today(sessions, county) == spent + rows
    async with app_client(sessions) as client:  # out of scope: the neighbour integrator's budget is its own
        neighbour = await token_for(client, "integrator-county-532328")
        other = await client.get("/exports/children", headers={"Authorization": f"Bearer {neighbour}"})
        assert other.status_code == 200
