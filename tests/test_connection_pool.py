"""The app's connection pool: a connection PostgreSQL dropped while it sat idle is replaced, not used.

The pool pings a connection only after it has been idle (baoxue/database.py: `make_engine`), so a request
after a restart or an idle timeout still gets a live connection, while a busy pool pays no round trip.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime

import httpx
import psycopg
import pytest
from sqlalchemy import text

from baoxue.app import create_app
from baoxue.database import make_engine, make_replica_engine, normalize_url
from tests.conftest import Databases, gql, make_settings, token_for


def _dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


async def _backend_pid(engine) -> int:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_dropped_while_idle_is_replaced(database_url: str) -> None:
    engine = make_engine(normalize_url(database_url), ping_after_idle_s=0.2, pool_size=1, max_overflow=0)
    try:
        first = await _backend_pid(engine)
        with psycopg.connect(_dsn(database_url), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        await asyncio.sleep(0.4)
        second = await _backend_pid(engine)  # fails if the dead connection were handed out
        assert second != first
    finally:
        await engine.dispose()


async def test_a_connection_used_a_moment_ago_is_handed_out_without_a_ping(database_url: str) -> None:
    """Within the idle window the same backend serves again: no ping, no reconnect (and a backend killed
    within that window would fail the next statement, which is the price of not pinging)."""
    engine = make_engine(normalize_url(database_url), ping_after_idle_s=60, pool_size=1, max_overflow=0)
    try:
        first = await _backend_pid(engine)
        assert await _backend_pid(engine) == first
        with psycopg.connect(_dsn(database_url), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        await asyncio.sleep(0.1)  # the backend has gone before the pool hands its connection out again
        failed = False
        try:
            await _backend_pid(engine)
        except Exception:  # the dropped connection, used without a ping
            failed = True
        assert failed
        assert await _backend_pid(engine) != first  # the pool replaced it after the failure
    finally:
        await engine.dispose()


async def test_the_apps_connections_run_without_jit_and_replicas_stay_read_only(database_url: str) -> None:
    """JIT compiled the overestimated statements of a page for longer than they ran (baoxue/database.py)."""

    for engine, read_only in (
        (make_engine(normalize_url(database_url)), "off"),
        (make_replica_engine(normalize_url(database_url)), "on"),
    ):
        try:
            async with engine.connect() as conn:
                assert (await conn.execute(text("SHOW jit"))).scalar_one() == "off"
                assert (await conn.execute(text("SHOW default_transaction_read_only"))).scalar_one() == read_only
        finally:
            await engine.dispose()


def _idle_app_connections(observer: psycopg.Connection, since: datetime) -> list[tuple[object, ...]]:
    """The app's connections to its database that sit open between requests (its LISTEN for grant changes
    aside), as an operator sees them in pg_stat_activity: those opened since the app started (`since`, the
    database's clock), so that a connection an earlier app or the demo's seeding left for the garbage
    collector to close is not counted as this app's (seen under CI's load).

    Read on one observer connection held for the whole test: a fresh connection per reading left the last
    reading's backend listed for a moment after it hung up, and under CI's load the final count saw it
    (3 == 2, 7 == 6)."""
    return observer.execute(
        "SELECT pid, client_port, backend_start, state, state_change, left(query, 80) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        " AND query NOT ILIKE 'LISTEN%%' AND backend_start >= %s ORDER BY backend_start",
        (since,),
    ).fetchall()


def _database_now(observer: psycopg.Connection) -> datetime:
    row = observer.execute("SELECT clock_timestamp()").fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def own_database(databases: Databases) -> str:
    return databases.create_demo("pool_size")


@pytest.fixture
def observer(own_database: str) -> Iterator[psycopg.Connection]:
    """What an operator watching pg_stat_activity holds open, opened before the app under test starts."""
    with psycopg.connect(_dsn(own_database), autocommit=True) as connection:
        yield connection


@pytest.mark.parametrize("pool_size", [2, 6])
async def test_the_server_keeps_its_pool_size_of_connections_open_after_a_burst(
    own_database: str, observer: psycopg.Connection, pool_size: int
) -> None:
    """BAOXUE_DB_POOL_SIZE connections stay open for the next requests; the rest of a burst's are closed
    (each request beyond the pool pays for a new PostgreSQL backend: set the pool to the load)."""
    url = own_database
    started = _database_now(observer)
    app = create_app(make_settings(database_url=url, db_pool_size=pool_size, db_max_overflow=10))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("10.0.0.4", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://baoxue.test") as client:
            token = await token_for(client, "edu-county-532329")
            # Beyond the pool, within its overflow (10) with room for the grant listener's connection: under
            # load a burst of pool + overflow waited out the pool's timeout.
            burst = [gql(client, "{ students(first: 5) { totalCount } }", token=token) for _ in range(pool_size + 4)]
            answers = await asyncio.gather(*burst)
            assert all(a["data"]["students"]["totalCount"] > 0 for a in answers)
            # A closed overflow connection's backend may still be listed for a moment after it hung up.
            for _ in range(200):
                if len(_idle_app_connections(observer, started)) == pool_size:
                    break
                await asyncio.sleep(0.05)
            idle = _idle_app_connections(observer, started)
            assert len(idle) == pool_size, (started, idle)
