"""Ten first drafts of one school month at once, committed, each on its own connection: one creates the
report, the other nine find it there without a version and get CONFLICT; one version, one audit row."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from baoxue.app import create_app
from tests.conftest import make_settings, token_for
from tests.ledger_support import WUDING_PRIMARY
from tests.report_support import NEIGHBOUR_EDU, STAFF, codes, draft_school

CLIENTS = 10


@pytest.fixture
def committed_db(databases, monkeypatch):
    """A database of its own with the demo data: every request below commits."""
    url = databases.create_demo("draft_race")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BAOXUE_JWT_SECRET", "cli-test-secret-0123456789abcdefghij")
    return url


def _one(url: str, sql: str) -> tuple[object, ...]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        row = conn.execute(text(sql), {"school": WUDING_PRIMARY}).one()
    engine.dispose()
    return tuple(row)


async def _race(url: str) -> list[dict[str, object]]:
    """CLIENTS clients at once, each its own HTTP client, each request its own connection and transaction."""
    engine = create_async_engine(url, poolclass=NullPool)
    app = create_app(make_settings(), sessions=async_sessionmaker(engine, expire_on_commit=False))
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(f"10.0.0.{n}", 1234)), base_url="http://t")
        for n in range(1, CLIENTS + 1)
    ]
    try:
        token = await token_for(clients[0], STAFF)
        await asyncio.gather(*(c.get("/healthz") for c in clients))
        answers = await asyncio.gather(*(draft_school(c, token) for c in clients))
        neighbour = await draft_school(clients[0], await token_for(clients[0], NEIGHBOUR_EDU))
        again = await draft_school(clients[0], token)
        corrected = await draft_school(clients[0], token, version=1)
    finally:
        for c in clients:
            await c.aclose()
        await engine.dispose()
    return [*answers, neighbour, again, corrected]


def test_ten_first_drafts_at_once_give_one_report_one_version_and_nine_conflicts(committed_db):
    *answers, neighbour, again, corrected = asyncio.run(_race(committed_db))
    winners = [a for a in answers if a["errors"] == []]
    assert len(winners) == 1
    assert winners[0]["report"]["version"] == 1
    assert sorted(codes(a) for a in answers if a["errors"]) == [["CONFLICT"]] * (CLIENTS - 1)
    assert all(a["errors"][0]["field"] == "version" for a in answers if a["errors"])
    assert codes(neighbour) == ["NOT_FOUND"]  # another county's bureau does not see the school
    assert codes(again) == ["CONFLICT"]  # without the version, also one at a time
    assert corrected["errors"] == []
    assert corrected["report"]["version"] == 2  # with it, generated again

    # Committed: one report, one version (number 1) of it, and two drafts audited (the winner's, the corrected).
    report = "FROM report r WHERE r.unit_code = :school AND r.period = '2026-03'"
    assert _one(committed_db, "SELECT version, revision " + report) == (2, 1)
    revisions = "SELECT count(*) FROM report_revision v JOIN report r ON r.id = v.report_id"
    assert _one(committed_db, revisions + " WHERE r.unit_code = :school AND r.period = '2026-03'") == (1,)
    assert _one(committed_db, "SELECT count(*) FROM audit_log WHERE action = 'report.draft'") == (2,)
