"""Two county clerks answer the same pushed-down child at once, each request on its own connection and
committed (ARCHITECTURE §5, §12): one winner, a typed loser (CONFLICT), one answer audited, one live task."""

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
from tests.verification_support import WUDING_BUREAU, tasks, verify


@pytest.fixture(scope="module")
def raced(databases) -> tuple[str, dict[str, Any]]:
    """A database of its own with the demo data (its ministry list for 武定县), raced on once."""
    url = databases.create_demo("pushed_race")
    return url, asyncio.run(_race(url))


def _rows(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(sql), params).all()]
    engine.dispose()
    return rows


async def _race(url: str) -> dict[str, Any]:
    engine = create_async_engine(url, poolclass=NullPool)
    app = create_app(make_settings(), sessions=async_sessionmaker(engine, expire_on_commit=False))
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(f"10.0.2.{n}", 1234)), base_url="http://t")
        for n in (1, 2)
    ]
    try:
        first, second = clients
        await token_for(first, WUDING_BUREAU)
        await token_for(second, WUDING_BUREAU)
        open_tasks = await tasks(first, WUDING_BUREAU, status="OPEN") or []
        one, two = open_tasks[0], open_tasks[1]
        # The same task answered two ways at once.
        answers = await asyncio.gather(
            verify(first, WUDING_BUREAU, one, outcome="NOT_DROPOUT", reason="TRANSFERRED", note="已转学"),
            verify(second, WUDING_BUREAU, one, outcome="NOT_DROPOUT", reason="GRADUATED", note="已毕业"),
        )
        # Another task re-routed twice at once: one new task, never two.
        reroutes = await asyncio.gather(
            *(
                verify(c, WUDING_BUREAU, two, outcome="NOT_OURS", receivingCountyCode="532328", note="迁居元谋")
                for c in clients
            )
        )
        return {"one": one, "two": two, "answers": answers, "reroutes": reroutes}
    finally:
        for c in clients:
            await c.aclose()
        await engine.dispose()


@pytest.mark.parametrize("race", ["answers", "reroutes"])
def test_one_answer_wins_and_the_other_gets_conflict(raced, race):
    url, result = raced
    pair = result[race]
    assert all("errors" in p and isinstance(p["errors"], list) for p in pair), pair  # no refusal, no crash
    winners = [p for p in pair if not p["errors"]]
    losers = [p for p in pair if p["errors"]]
    assert len(winners) == 1
    assert [e["code"] for e in losers[0]["errors"]] == ["CONFLICT"]
    task = result["one" if race == "answers" else "two"]
    audited = _rows(url, "SELECT count(*) FROM audit_log WHERE action = 'verification.verify' AND target_id = :id",
                    id=str(task["number"]))  # fmt: skip
    assert audited == [(1,)]
    stored = _rows(url, "SELECT status, not_dropout_reason, version FROM verification_task WHERE id = :id",
                   id=task["number"])  # fmt: skip
    shown = winners[0]["task"]
    assert stored == [(shown["status"], shown["notDropoutReason"], shown["version"])]


def test_a_raced_reroute_opens_one_task_in_the_receiving_county(raced):
    url, result = raced
    task = result["two"]
    live = _rows(
        url,
        "SELECT status, county_code FROM verification_task WHERE import_id = :b AND line = :l ORDER BY id",
        b=task["batchNumber"],
        l=task["line"],
    )
    assert live == [("REROUTED", "532329"), ("OPEN", "532328")]
