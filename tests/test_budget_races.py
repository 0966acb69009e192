"""Budgets under concurrency, across processes (README, Budgets): clients spend the last units at once.

Two `python -m baoxue serve` processes share one database with a small school budget; forty clients
send the same query at once, half to each process: exactly the budget's worth is answered, every
other request gets 429 with Retry-After and QUERY_BUDGET_SPENT. Then twenty-five exports spend rows
from one daily budget at once, each on its own connection: exactly the budget is granted.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from authz.authentication import principal_of
from authz.catalogue import Level
from authz.enforcer import Authorizer
from authz.principal import CredentialKind
from authz.state import load_grants
from datagen.demo.seed import DEMO_PASSWORD
from models.repos import accounts
from resolvers.budgets import DEFAULT_QUERY_COST_PER_MINUTE, BudgetPolicy, BudgetSpent, spend_export_rows
from resolvers.context import Context
from tests.conftest import Databases
from tests.ledger_support import WUDING_PRIMARY
from tests.test_budgets import VIEWER, VIEWER_COST, early_in_a_minute
from tests.test_grant_sync import Server, _environment

STAFF = f"staff-school-{WUDING_PRIMARY}"
GRANTED = 10  # queries the school budget pays for in one minute
CLIENTS = 40


@pytest.fixture(scope="module")
def database(databases: Databases) -> str:
    return databases.create_demo("budgets")


@pytest.fixture(scope="module")
def servers(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Server]]:
    log_dir: Path = tmp_path_factory.mktemp("budgets")
    env = _environment(database, log_dir) | {"BAOXUE_QUERY_BUDGETS": json.dumps({"SCHOOL": GRANTED * VIEWER_COST})}
    started = [Server(name, env, log_dir) for name in ("a", "b")]
    try:
        for server in started:
            server.wait_ready(time.monotonic() + 120)
        yield started
    finally:
        for server in started:
            server.stop()
    for server in started:
        assert "Traceback" not in server.log_path.read_text(encoding="utf-8", errors="replace"), server.log_tail()


async def test_forty_clients_on_two_processes_spend_exactly_the_budget(servers: list[Server], database: str):
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        login = {"username": STAFF, "password": DEMO_PASSWORD}
        signed_in = await client.post(f"{servers[0].base}/auth/token", data=login)
        headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        await early_in_a_minute(spare_seconds=25)
        answers = await asyncio.gather(
            *(
                client.post(f"{servers[n % 2].base}/graphql", json={"query": VIEWER}, headers=headers)
                for n in range(CLIENTS)
            )
        )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * GRANTED + [429] * (CLIENTS - GRANTED)
    served = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code == 429]
    assert {s.json()["data"]["viewer"]["username"] for s in served} == {STAFF}
    assert sorted(s.json()["extensions"]["budget"]["remaining"] for s in served) == [
        VIEWER_COST * n for n in range(GRANTED)
    ]
    assert {r.json()["errors"][0]["extensions"]["code"] for r in refused} == {"QUERY_BUDGET_SPENT"}
    assert all(1 <= int(r.headers["Retry-After"]) <= 60 for r in refused)
    engine = create_engine(database, poolclass=NullPool)
    with engine.connect() as conn:
        spent = conn.execute(
            text("SELECT spent FROM query_budget_window w JOIN account a ON a.id = w.account_id WHERE username = :u"),
            {"u": STAFF},
        ).scalar()
    engine.dispose()
    assert spent == GRANTED * VIEWER_COST


async def test_exports_spending_the_last_rows_at_once_get_exactly_the_days_budget(database: str):
    rows_per_day, chunk, exports = 100, 10, 25
    policy = BudgetPolicy(DEFAULT_QUERY_COST_PER_MINUTE, dict.fromkeys(Level, rows_per_day))
    engine = create_async_engine(database, poolclass=NullPool)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        async with sessions() as session:
            authorizer = Authorizer(await load_grants(session))
            account = await accounts.get_account_by_username(session, "integrator-county-532329")
            assert account is not None
            principal = principal_of(account, CredentialKind.SERVICE_TOKEN)

        async def one_export() -> str:
            async with sessions() as own:
                ctx = Context(session=own, principal=principal, authorizer=authorizer, sessions=sessions)
                try:
                    await spend_export_rows(ctx, chunk, policy)
                except BudgetSpent as refusal:
                    return refusal.code
                return "GRANTED"

        outcomes = await asyncio.gather(*(one_export() for _ in range(exports)))
        async with sessions() as session:
            stored = await session.scalar(
                text("SELECT rows FROM export_rows_spent WHERE account_id = :a"), {"a": principal.account_id}
            )
    finally:
        await engine.dispose()
    granted = rows_per_day // chunk
    assert sorted(outcomes) == ["EXPORT_BUDGET_SPENT"] * (exports - granted) + ["GRANTED"] * granted
    assert stored == rows_per_day


async def test_exports_over_http_at_once_on_two_processes_get_exactly_what_the_day_covers(
    servers: list[Server], database: str
):
    """GET /exports/children six times at once, half on each server process, when what is left of the day
    covers exactly two of them: two are sent whole, four are 429 before their first byte, and the day's
    spend is exactly the rows sent (each export reserves its rows, all or none, before streaming)."""
    account = "integrator-county-532328"
    engine = create_engine(database, poolclass=NullPool)

    def allow(rows: int) -> None:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO export_allowance (account_id, rows_per_day, set_by, updated_at, version)"
                    " SELECT id, :r, 'test', now(), 1 FROM account WHERE username = :u"
                    " ON CONFLICT (account_id) DO UPDATE SET rows_per_day = :r"
                ),
                {"r": rows, "u": account},
            )

    def spent() -> int:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT coalesce(sum(rows), 0) FROM export_rows_spent s JOIN account a ON a.id = s.account_id"
                        " WHERE a.username = :u"
                    ),
                    {"u": account},
                ).scalar_one()
            )

    try:
        async with httpx.AsyncClient(timeout=120) as client:
            signed_in = await client.post(
                f"{servers[0].base}/auth/token", data={"username": account, "password": DEMO_PASSWORD}
            )
            headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
            jsonl = {"format": "jsonl"}
            allow(10**6)
            first = await client.get(f"{servers[0].base}/exports/children", params=jsonl, headers=headers)
            assert first.status_code == 200
            rows = len(first.text.splitlines())
            assert rows > 0
            assert spent() == rows
            allow(3 * rows)  # what is left covers two more
            answers = await asyncio.gather(
                *(
                    client.get(f"{servers[n % 2].base}/exports/children", params=jsonl, headers=headers)
                    for n in range(6)
                )
            )
    finally:
        total = spent()
        engine.dispose()
    sent = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code == 429]
    assert len(sent) == 2
    assert len(refused) == 4
    assert all(len(a.text.splitlines()) == rows for a in sent), "each sent whole"
    assert {r.json()["code"] for r in refused} == {"EXPORT_BUDGET_SPENT"}
    assert all(int(r.headers["Retry-After"]) > 0 for r in refused)
    assert total == 3 * rows, "the day's spend is exactly the rows sent"
