"""Explanations of a missing 中考 registration written by several people at once, committed, each request on its own
connection (ARCHITECTURE §5, §12): one winner, typed losers (CONFLICT on `version`), nothing lost."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from baoxue.app import create_app
from tests.conftest import make_settings, token_for
from tests.ledger_support import COUNTY_EDU
from tests.transition_support import WUDING_JUNIOR, explain, grade9

CLIENTS = 6
SCHOOL = f"staff-school-{WUDING_JUNIOR}"


@pytest.fixture(scope="module")
def raced(databases) -> tuple[str, dict[str, Any]]:
    """A database of its own with the demo data, and the races run on it once: every request commits."""
    url = databases.create_demo("transitions_race")
    return url, asyncio.run(_race(url))


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(sql)).all()]
    engine.dispose()
    return rows


async def _race(url: str) -> dict[str, Any]:
    engine = create_async_engine(url, poolclass=NullPool)
    app = create_app(make_settings(), sessions=async_sessionmaker(engine, expire_on_commit=False))
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(f"10.0.2.{n}", 1234)), base_url="http://t")
        for n in range(1, CLIENTS + 1)
    ]
    try:
        county, school = await token_for(clients[0], COUNTY_EDU), await token_for(clients[0], SCHOOL)
        pupil = await grade9(clients[0], county)
        # The school and the county bureau each give the first explanation at once, several times over.
        firsts = await asyncio.gather(
            *(
                explain(c, (school, county)[n % 2], pupil, ("ILLNESS", "EMPLOYMENT")[n % 2], year=2026, note=f"第{n}次")
                for n, c in enumerate(clients)
            )
        )
        # Then every client revises the version it read (1) at once.
        revisions = await asyncio.gather(
            *(explain(c, county, pupil, "ABROAD", year=2026, version=1, note=f"修改{n}") for n, c in enumerate(clients))
        )
        return {"pupil": pupil, "firsts": firsts, "revisions": revisions}
    finally:
        for c in clients:
            await c.aclose()
        await engine.dispose()


def test_first_explanations_at_once_leave_one_and_typed_conflicts(raced):
    _, found = raced
    firsts = found["firsts"]
    assert all("explanation" in f for f in firsts), firsts  # no refusal, no internal error
    assert sum(1 for f in firsts if f["errors"] == []) == 1
    assert sorted((e["field"], e["code"]) for f in firsts for e in f["errors"]) == [("version", "CONFLICT")] * (
        CLIENTS - 1
    )


def test_revisions_at_once_leave_one_winner_and_every_change_audited(raced):
    committed_db, found = raced
    revisions = found["revisions"]
    winners = [r for r in revisions if r["errors"] == []]
    assert len(winners) == 1
    assert [e["code"] for r in revisions for e in r["errors"]] == ["CONFLICT"] * (CLIENTS - 1)
    note = winners[0]["explanation"]["note"]
    assert _rows(committed_db, "SELECT reason, note, version FROM exam_registration_explanation") == [
        ("ABROAD", note, 2)
    ]
    assert _rows(committed_db, "SELECT count(*) FROM audit_log WHERE action = 'transition.explain_exam_gap'") == [(2,)]
