"""Settings changed by several admins at once, committed, each request on its own connection (ARCHITECTURE §5,
§12): one winner, typed losers (CONFLICT on `version`), nothing lost once the loser retries with what it reads."""

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
from tests.test_settings import CITY_EDU, PROVINCE_ADMIN, PROVINCE_EDU, READ_PROVINCE, UPDATE_CITY, UPDATE_PROVINCE

CLIENTS = 10


@pytest.fixture(scope="module")
def raced(databases) -> tuple[str, dict[str, Any]]:
    """A database of its own with the demo data, and the races run on it once: every request commits."""
    url = databases.create_demo("settings_race")
    return url, asyncio.run(_race(url))


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(sql)).all()]
    engine.dispose()
    return rows


def _result(answer: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in answer, answer["errors"]  # no internal error, no refusal
    return answer["data"][name]  # type: ignore[no-any-return]


async def _race(url: str) -> dict[str, Any]:
    engine = create_async_engine(url, poolclass=NullPool)
    app = create_app(make_settings(), sessions=async_sessionmaker(engine, expire_on_commit=False))
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(f"10.0.1.{n}", 1234)), base_url="http://t")
        for n in range(1, CLIENTS + 1)
    ]
    try:
        first = clients[0]
        edu, admin, city = [await token_for(first, u) for u in (PROVINCE_EDU, PROVINCE_ADMIN, CITY_EDU)]
        await asyncio.gather(*(c.get("/healthz") for c in clients))

        # Two province admins read version 0 and each change a different setting at once.
        both = await asyncio.gather(
            gql(
                clients[0],
                UPDATE_PROVINCE,
                {"input": {"provinceCode": "53", "version": 0, "cityReportDueDays": 20}},
                edu,
            ),
            gql(
                clients[1],
                UPDATE_PROVINCE,
                {"input": {"provinceCode": "53", "version": 0, "cosignRequired": False}},
                admin,
            ),
        )
        pair = [_result(a, "updateProvinceSettings") for a in both]
        loser = next((n for n, p in enumerate(pair) if p["errors"]), None)
        retried = None
        if loser is not None:  # the loser reads again and resends its change on the version it now reads
            token = (edu, admin)[loser]
            now = _result(await gql(first, READ_PROVINCE, {"code": "53"}, token), "provinceSettings")
            change = ({"cityReportDueDays": 20}, {"cosignRequired": False})[loser]
            retried = _result(
                await gql(
                    first,
                    UPDATE_PROVINCE,
                    {"input": {"provinceCode": "53", "version": now["version"], **change}},
                    token,
                ),
                "updateProvinceSettings",
            )

        # Ten first writes of the city's switch at once, all on version 0 (no row yet).
        cities = await asyncio.gather(
            *(
                gql(c, UPDATE_CITY, {"input": {"cityCode": "5323", "version": 0, "termSurveyEnabled": True}}, city)
                for c in clients
            )
        )
        return {"pair": pair, "retried": retried, "cities": [_result(a, "updateCitySettings") for a in cities]}
    finally:
        for c in clients:
            await c.aclose()
        await engine.dispose()


def test_two_admins_at_once_one_wins_the_other_conflicts_and_nothing_is_lost(raced):
    committed_db, found = raced
    pair = found["pair"]
    assert sorted(len(p["errors"]) for p in pair) == [0, 1]  # one winner, one loser
    loser = next(p for p in pair if p["errors"])
    assert [(e["field"], e["code"]) for e in loser["errors"]] == [("version", "CONFLICT")]
    assert loser["settings"] is None
    assert found["retried"]["errors"] == []
    assert found["retried"]["settings"]["version"] == 2
    # Both changes kept, one row, two audited changes, one per admin.
    assert _rows(committed_db, "SELECT city_report_due_days, cosign_required, version FROM province_setting") == [
        (20, False, 2)
    ]
    actors = _rows(committed_db, "SELECT actor FROM audit_log WHERE action = 'settings.province.update' ORDER BY 1")
    assert actors == [(PROVINCE_ADMIN,), (PROVINCE_EDU,)]


def test_ten_first_writes_of_a_city_switch_at_once_leave_one_row_and_nine_conflicts(raced):
    committed_db, found = raced
    cities = found["cities"]
    assert sum(1 for c in cities if c["errors"] == []) == 1
    assert sorted(e["code"] for c in cities for e in c["errors"]) == ["CONFLICT"] * (CLIENTS - 1)
    assert _rows(
        committed_db, "SELECT city_code, term_survey_enabled, version FROM city_setting WHERE city_code = '5323'"
    ) == [("5323", True, 1)]
    assert _rows(committed_db, "SELECT count(*) FROM audit_log WHERE action = 'settings.city.update'") == [(1,)]
