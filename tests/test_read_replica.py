"""BAOXUE_READ_REPLICA_URL: queries read the replica; mutations, sign-in and audit rows stay on the primary.

Two databases on the test server: the primary, migrated and seeded, and the "replica", a copy of it
(CREATE DATABASE … TEMPLATE) in which one region is renamed, so an answer shows where it was read.
The app reaches the replica through read-only connections, as on a hot standby: a write routed
there fails instead of passing unnoticed.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import func, make_url, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from baoxue.app import create_app
from baoxue.database import make_replica_engine, migrate
from baoxue.settings import Settings
from datagen.demo.seed import seed_demo
from models import Account, AuditLog, Child
from tests.conftest import Databases, error_codes, gql, make_settings, token_for

WUDING, YUANMOU = "532329", "532328"
PRIMARY_NAME = "武定县"
REPLICA_NAME = "武定县（只读副本）"

REGION = "query($id: ID!) { node(id: $id) { ... on Region { name } } }"
STUDENT = "query($id: ID!) { node(id: $id) { ... on Student { nationalId } } }"
CREATE = """mutation($input: CreateAccountInput!) { createAccount(input: $input) {
  account { username homePath } errors { field code message } } }"""


def gid(type_name: str, key: object) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


class Pair:
    """The primary and its replica (URLs), with a way to read either directly."""

    def __init__(self, primary: str, replica: str) -> None:
        self.primary = primary
        self.replica = replica

    @asynccontextmanager
    async def read(self, url: str) -> AsyncIterator[AsyncSession]:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with async_sessionmaker(engine)() as session:
                yield session
        finally:
            await engine.dispose()

    async def scalar(self, url: str, stmt: Any) -> Any:
        async with self.read(url) as session:
            return await session.scalar(stmt)


@pytest.fixture(scope="module")
async def pair(databases: Databases) -> Pair:
    primary = databases.create("primary")
    migrate(primary)
    engine = create_async_engine(primary, poolclass=NullPool)
    async with async_sessionmaker(engine)() as session:
        await seed_demo(session)
        await session.commit()
    await engine.dispose()

    # The replica: a copy of the primary, one region renamed.
    name = f"baoxue_replica_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(databases.server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(primary).database}"'))
    await admin.dispose()
    databases.created.append(name)  # dropped with the run's other databases
    replica = make_url(primary).set(database=name).render_as_string(hide_password=False)
    engine = create_async_engine(replica, poolclass=NullPool)
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE region SET name = :name WHERE code = :code"), {"name": REPLICA_NAME, "code": WUDING}
        )
    await engine.dispose()
    return Pair(primary, replica)


@asynccontextmanager
async def serve(settings: Settings, **kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan (grant listener, engines disposed at the end), over real HTTP."""
    app = create_app(settings, **kwargs)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("10.0.0.2", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://baoxue.test") as client:
            yield client


@pytest.fixture
async def client(pair: Pair) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(make_settings(database_url=pair.primary, read_replica_url=pair.replica)) as c:
        yield c


@pytest.fixture
async def wuding_pupil(pair: Pair) -> Child:
    async with pair.read(pair.primary) as session:
        stmt = select(Child).where(Child.school_path.like(f"53/5323/{WUDING}/%")).order_by(Child.id)
        child = (await session.scalars(stmt)).first()
    assert child is not None
    return child


def full_reads(pupil: Child, actor: str) -> Any:
    return (
        select(func.count())
        .select_from(AuditLog)
        .where(
            AuditLog.action == "student.read_personal_data",
            AuditLog.target_id == str(pupil.id),
            AuditLog.actor == actor,
        )
    )


async def test_a_query_reads_the_replica(client):
    token = await token_for(client, f"edu-county-{WUDING}")  # sign-in writes: it ran on the primary
    result = await gql(client, REGION, {"id": gid("Region", WUDING)}, token)
    assert result["data"]["node"] == {"name": REPLICA_NAME}


async def test_without_the_setting_every_query_reads_the_primary(pair):
    async with serve(make_settings(database_url=pair.primary)) as client:
        token = await token_for(client, f"edu-county-{WUDING}")
        result = await gql(client, REGION, {"id": gid("Region", WUDING)}, token)
    assert result["data"]["node"] == {"name": PRIMARY_NAME}


async def test_a_mutation_writes_to_the_primary_and_not_the_replica(client, pair):
    token = await token_for(client, f"admin-county-{WUDING}")
    username = f"replica-probe-{uuid.uuid4().hex[:6]}"
    data = {
        "username": username,
        "displayName": "副本测试",
        "jurisdictionCode": WUDING,
        "password": "a-long-password-1",
    }
    created = (await gql(client, CREATE, {"input": data}, token))["data"]["createAccount"]
    assert created == {"account": {"username": username, "homePath": f"53/5323/{WUDING}"}, "errors": []}
    wanted = select(func.count()).select_from(Account).where(Account.username == username)
    assert await pair.scalar(pair.primary, wanted) == 1
    assert await pair.scalar(pair.replica, wanted) == 0


async def test_a_full_read_on_the_replica_is_audited_on_the_primary(client, pair, wuding_pupil):
    reader = f"edu-county-{WUDING}"
    token = await token_for(client, reader)
    result = await gql(client, STUDENT, {"id": gid("Student", wuding_pupil.id)}, token)
    assert result["data"]["node"] == {"nationalId": wuding_pupil.national_id}
    assert await pair.scalar(pair.primary, full_reads(wuding_pupil, reader)) >= 1
    assert await pair.scalar(pair.replica, full_reads(wuding_pupil, reader)) == 0


async def test_a_failed_replica_query_still_audits_its_full_read_on_the_primary(client, pair, wuding_pupil):
    reader = f"edu-county-{WUDING}"
    token = await token_for(client, reader)
    before = await pair.scalar(pair.primary, full_reads(wuding_pupil, reader))
    query = "query($id: ID!) { node(id: $id) { ... on Student { nationalId } } regions(first: 101) { totalCount } }"
    result = await gql(client, query, {"id": gid("Student", wuding_pupil.id)}, token)
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert await pair.scalar(pair.primary, full_reads(wuding_pupil, reader)) == before + 1


async def test_a_neighbouring_county_reads_nothing_and_nothing_is_audited(client, pair, wuding_pupil):
    reader = f"edu-county-{YUANMOU}"
    token = await token_for(client, reader)
    result = await gql(client, STUDENT, {"id": gid("Student", wuding_pupil.id)}, token)
    assert result["data"]["node"] is None
    assert await pair.scalar(pair.primary, full_reads(wuding_pupil, reader)) == 0


async def test_a_full_read_whose_audit_row_cannot_be_written_is_withheld(client, pair, wuding_pupil):
    """If the primary refuses the audit row, the national ID is not sent."""
    reader = f"edu-county-{WUDING}"
    token = await token_for(client, reader)  # signed in through the working app
    read_only_primary = make_replica_engine(pair.primary)
    try:
        settings = make_settings(read_replica_url=pair.replica)
        async with serve(settings, sessions=async_sessionmaker(read_only_primary, expire_on_commit=False)) as broken:
            result = await gql(broken, STUDENT, {"id": gid("Student", wuding_pupil.id)}, token)
    finally:
        await read_only_primary.dispose()
    assert result["data"] is None
    assert error_codes(result) == ["INTERNAL_SERVER_ERROR"]


async def test_the_replica_connection_refuses_writes(pair):
    engine = make_replica_engine(pair.replica)
    try:
        async with engine.connect() as conn:
            with pytest.raises(DBAPIError, match="read-only transaction"):
                await conn.execute(text("UPDATE region SET name = name WHERE code = :code"), {"code": WUDING})
    finally:
        await engine.dispose()


async def test_readiness_covers_the_replica(pair, databases):
    """The API is ready only while the replica its queries read answers too (ARCHITECTURE §8: replicas for
    reports and exports); a replica that goes away makes /readyz say so."""
    async with serve(make_settings(database_url=pair.primary, read_replica_url=pair.replica)) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["replica"] == "ok"

    # A second copy to take away while the app runs.
    name = f"baoxue_gone_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(databases.server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(pair.replica).database}"'))
    gone = make_url(pair.replica).set(database=name).render_as_string(hide_password=False)
    try:
        async with serve(make_settings(database_url=pair.primary, read_replica_url=gone)) as other:
            assert (await other.get("/readyz")).status_code == 200
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            down = await other.get("/readyz")
            assert down.status_code == 503
            assert down.json() == {"database": "ok", "status": "unavailable", "replica": "unreachable"}
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
