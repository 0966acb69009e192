"""Two explanations of the same unreported pupil at once, committed, each on its own connection and HTTP
client (ARCHITECTURE §12): one winner, the other a typed CONFLICT; one explanation, one suspected entry,
one audit row. A retry with the winner's version then changes it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from baoxue.app import create_app
from tests.conftest import codes, make_settings, token_for
from tests.ledger_support import STAFF, raw_id
from tests.term_start_support import absent_in_window, enrolled_pupil, explain

CLIENTS = 6


@pytest.fixture(scope="module")
def raced(databases) -> tuple[str, int, list[Any], Any]:
    url = databases.create_demo("unreported_race")
    return (url, *asyncio.run(_race(url)))


def _rows(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(sql), params).all()]
    engine.dispose()
    return rows


async def _race(url: str) -> tuple[int, list[Any], Any]:
    engine = create_async_engine(url, poolclass=NullPool)
    app = create_app(make_settings(), sessions=async_sessionmaker(engine, expire_on_commit=False))
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(f"10.0.2.{n}", 1234)), base_url="http://t")
        for n in range(1, CLIENTS + 1)
    ]
    try:
        staff = await token_for(clients[0], STAFF)
        pupil = await enrolled_pupil(clients[0], staff)
        await absent_in_window(clients[0], staff, pupil["id"])
        await asyncio.gather(*(c.get("/healthz") for c in clients))
        answers = await asyncio.gather(*(explain(c, staff, pupil["id"], "SUSPECTED") for c in clients))
        retry = await explain(clients[0], staff, pupil["id"], "UNREACHABLE", note="电话停机，家中无人", version=1)
    finally:
        for c in clients:
            await c.aclose()
        await engine.dispose()
    return raw_id(pupil["id"]), answers, retry


def test_one_explanation_wins_the_others_get_conflict(raced):
    _, _, answers, _ = raced
    winners = [a for a in answers if a.get("errors") == []]
    assert len(winners) == 1
    assert sorted(codes(a) for a in answers if a not in winners) == [["CONFLICT"]] * (CLIENTS - 1)


def test_nothing_is_doubled_and_the_retry_with_the_version_changes_it(raced):
    url, child, _, retry = raced
    assert retry["errors"] == []
    assert retry["pupil"]["explanation"]["reason"] == "UNREACHABLE"
    assert _rows(url, "SELECT reason, version FROM unreported_explanation WHERE child_id = :c", c=child) == [
        ("UNREACHABLE", 2)
    ]
    assert _rows(url, "SELECT ledger, status FROM ledger_entry WHERE child_id = :c", c=child) == [("SUSPECTED", "OPEN")]
    assert _rows(url, "SELECT count(*) FROM audit_log WHERE action = 'unreported.explain'") == [(2,)]
