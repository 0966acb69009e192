"""Uploads to the national platform made at once, committed, each request on its own connection (issue 16 §2,
ARCHITECTURE §12): two batches of one county never share a change, and a change committed while a batch is
being made is owed to the next one, never lost (seed 004 §9: 不漏一人)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from baoxue.app import create_app
from tests.conftest import gql, make_settings, token_for
from tests.ledger_support import COUNTY_EDU, WUDING, make_student, open_entry

CLIENTS = 8
UPLOAD = """mutation($input: UploadBatchInput!) { uploadBatch(input: $input) {
  batch { number lines } errors { code } } }"""


@pytest.fixture(scope="module")
def raced(databases) -> tuple[str, dict[str, Any]]:
    """A database of its own with the demo data, and the races run on it once: every request commits."""
    url = databases.create_demo("platform_race")
    return url, asyncio.run(_race(url))


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(sql)).all()]
    engine.dispose()
    return rows


async def _upload(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    answer = await gql(client, UPLOAD, {"input": {"countyCode": WUDING}}, token)
    assert "errors" not in answer, answer["errors"]  # no internal error, no refusal
    return answer["data"]["uploadBatch"]  # type: ignore[no-any-return]


async def _race(url: str) -> dict[str, Any]:
    engine = create_async_engine(url, poolclass=NullPool)
    app = create_app(make_settings(), sessions=async_sessionmaker(engine, expire_on_commit=False))
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(f"10.0.2.{n}", 1234)), base_url="http://t")
        for n in range(1, CLIENTS + 1)
    ]
    try:
        token = await token_for(clients[0], COUNTY_EDU)
        # Two uploads of the same county at once: one takes everything owed, the other finds nothing.
        first = await asyncio.gather(_upload(clients[0], token), _upload(clients[1], token))
        # Uploads at once while cases open on other connections, three rounds: each case in exactly one batch.
        students = [await make_student(clients[0], token, name=f"竞态{n}") for n in range(6)]
        uploads: list[dict[str, Any]] = []
        opened: list[dict[str, Any]] = []
        for round_ in range(3):
            pair = students[2 * round_ : 2 * round_ + 2]
            racing = await asyncio.gather(
                open_entry(clients[2], token, pair[0]["id"]),
                _upload(clients[0], token),
                open_entry(clients[3], token, pair[1]["id"]),
                _upload(clients[1], token),
            )
            opened += [racing[0], racing[2]]
            uploads += [racing[1], racing[3]]
        last = await _upload(clients[0], token)
        return {"first": first, "second": uploads, "opened": opened, "last": last}
    finally:
        for client in clients:
            await client.aclose()
        await engine.dispose()


def test_two_uploads_at_once_one_takes_all_and_the_other_finds_nothing(raced):
    _, result = raced
    made = [p for p in result["first"] if p["batch"]]
    refused = [p for p in result["first"] if not p["batch"]]
    assert len(made) == 1
    assert [p["errors"] for p in refused] == [[{"code": "NOTHING_OWED"}]]
    assert made[0]["batch"]["number"] == 2  # after the demo's first batch


def test_no_change_is_sent_twice_or_missed(raced):
    url, result = raced
    assert all(p["errors"] == [] for p in result["opened"])
    batches = [p["batch"] for p in (*result["first"], *result["second"], result["last"]) if p["batch"]]
    numbers = sorted(b["number"] for b in batches)
    assert numbers == list(range(2, len(numbers) + 2))  # after the demo's, one after another, none lost to a loser
    owed = _rows(url, "SELECT count(*) FROM platform_change WHERE county_path = '53/5323/532329' AND batch_id IS NULL")
    assert owed == [(0,)]
    twice = _rows(url, "SELECT change_id FROM platform_batch_line GROUP BY change_id HAVING count(*) > 1")
    assert twice == []
    unsent = _rows(
        url,
        "SELECT count(*) FROM platform_change c WHERE c.county_path = '53/5323/532329' "
        "AND NOT EXISTS (SELECT 1 FROM platform_batch_line l WHERE l.change_id = c.id)",
    )
    assert unsent == [(0,)]
    demo = _rows(url, "SELECT lines FROM platform_batch WHERE county_path = '53/5323/532329' AND number = 1")
    changes = _rows(url, "SELECT count(*) FROM platform_change WHERE county_path = '53/5323/532329'")
    assert changes == [(demo[0][0] + sum(b["lines"] for b in batches),)]
    new_cases = _rows(
        url,
        "SELECT count(DISTINCT l.batch_id), count(*) FROM platform_batch_line l JOIN child c ON c.id = l.child_id "
        "WHERE c.name LIKE '竞态%'",
    )
    assert new_cases[0][1] == 6  # each new case in exactly one line
