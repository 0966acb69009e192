"""The app's connection pool: a connection PostgreSQL dropped while it sat idle is replaced, not used.

The pool pings a connection only after it has been idle (baoxue/database.py: `make_engine`), so a request
after a restart or an idle timeout still gets a live connection, while a busy pool pays no round trip.
"""

from __future__ import annotations

import asyncio

import psycopg
from sqlalchemy import text

from baoxue.database import make_engine, make_replica_engine, normalize_url


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
