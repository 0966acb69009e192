"""A query reads on the primary without a transaction; a mutation still commits or rolls back as a whole.

The app here runs on an engine of its own (not the suite's outer transaction), as `baoxue serve` does, so
its sessions are the real ones: a query's statements commit one by one (no BEGIN and COMMIT round trips),
and the pool must hand the next user a connection that is back in transactions.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from baoxue.app import create_app
from baoxue.database import make_engine
from datagen.demo.seed import national_id
from models import Account, AuditLog, Child
from tests.conftest import Databases, error_codes, gql, make_settings, token_for
from tests.ledger_support import STAFF, WUDING_PRIMARY, WUDING_VILLAGE

WUDING, YUANMOU = "532329", "532328"
STUDENT = "query($id: ID!) { node(id: $id) { ... on Student { nationalId } } }"
FAILING_STUDENT = (
    "query($id: ID!) { node(id: $id) { ... on Student { nationalId } } regions(first: 101) { totalCount } }"
)
# A school's staff registers children; setting an export budget is an admin's (FORBIDDEN: the whole
# operation fails, so its transaction must roll back the child registered by the field before).
TWO_WRITES = """mutation($one: CreateStudentInput!, $two: CreateStudentInput!) {
  one: createStudent(input: $one) { student { id } errors { code } }
  two: createStudent(input: $two) { student { id } errors { code } } }"""
WRITE_THEN_REFUSED = """mutation($one: CreateStudentInput!, $staff: String!) {
  one: createStudent(input: $one) { student { id } errors { code } }
  refused: setExportBudget(input: {username: $staff, rowsPerDay: 10}) { errors { code } } }"""
_numbers = itertools.count(700)


@pytest.fixture(scope="module")
def own_database(databases: Databases) -> str:
    return databases.create_demo("query_transactions")


@pytest.fixture
async def engine(own_database: str) -> AsyncIterator[AsyncEngine]:
    """Two pooled connections for the whole app: every request reuses one another request returned."""
    engine = make_engine(own_database, pool_size=2, max_overflow=0)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(), sessions=async_sessionmaker(engine, expire_on_commit=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("10.0.0.3", 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://baoxue.test") as c:
            yield c


async def scalar(url: str, stmt: Any) -> Any:
    engine = create_async_engine(url)
    try:
        async with async_sessionmaker(engine)() as session:
            return await session.scalar(stmt)
    finally:
        await engine.dispose()


async def a_pupil(client: httpx.AsyncClient, token: str) -> str:
    first = await gql(client, "{ students(first: 1) { edges { node { id } } } }", token=token)
    return str(first["data"]["students"]["edges"][0]["node"]["id"])


def full_reads_of(student_id: str) -> Any:
    child_id = base64.b64decode(student_id).decode().split(":")[1]
    return (
        select(func.count())
        .select_from(AuditLog)
        .where(AuditLog.action == "student.read_personal_data", AuditLog.target_id == child_id)
    )


def student_input() -> dict[str, Any]:
    number = national_id(WUDING_VILLAGE[:6], date(2017, 5, 12), next(_numbers), male=True)
    return {
        "name": f"事务{number[-4:]}",
        "gender": "MALE",
        "birthDate": "2017-05-12",
        "nationalId": number,
        "householdRegionCode": WUDING_VILLAGE,
        "residenceRegionCode": WUDING_VILLAGE,
        "schoolCode": WUDING_PRIMARY,
        "grade": 3,
    }


def children_numbered(*inputs: dict[str, Any]) -> Any:
    return select(func.count()).select_from(Child).where(Child.national_id.in_([i["nationalId"] for i in inputs]))


async def test_a_full_read_is_audited_once_whether_the_query_succeeds_or_fails(client, own_database):
    token = await token_for(client, f"edu-county-{WUDING}")
    student_id = await a_pupil(client, token)
    before = await scalar(own_database, full_reads_of(student_id))

    served = await gql(client, STUDENT, {"id": student_id}, token)
    assert served["data"]["node"]["nationalId"]
    assert await scalar(own_database, full_reads_of(student_id)) == before + 1

    failed = await gql(client, FAILING_STUDENT, {"id": student_id}, token)
    assert error_codes(failed) == ["BAD_USER_INPUT"]  # the ID was read, then another field failed
    assert await scalar(own_database, full_reads_of(student_id)) == before + 2


async def test_a_neighbouring_county_reads_nothing_and_nothing_is_audited(client, own_database):
    owner = await token_for(client, f"edu-county-{WUDING}")
    student_id = await a_pupil(client, owner)
    before = await scalar(own_database, full_reads_of(student_id))
    neighbour = await token_for(client, f"edu-county-{YUANMOU}")
    assert (await gql(client, STUDENT, {"id": student_id}, neighbour))["data"]["node"] is None
    assert await scalar(own_database, full_reads_of(student_id)) == before


async def test_a_mutation_refused_halfway_leaves_nothing_of_its_first_half(client, own_database):
    token = await token_for(client, STAFF)
    one = student_input()
    result = await gql(client, WRITE_THEN_REFUSED, {"one": one, "staff": STAFF}, token)
    assert error_codes(result) == ["FORBIDDEN"]
    assert await scalar(own_database, children_numbered(one)) == 0


async def test_queries_and_mutations_racing_on_two_connections_keep_each_mutation_whole(client, engine, own_database):
    """Forty clients at once on a pool of two: half read (without a transaction), half register children,
    every other mutation refused on its second field. A connection a query used and returned must come
    back in transactions, or a refused mutation would keep its first child."""
    staff = await token_for(client, STAFF)
    reader = await token_for(client, f"edu-county-{WUDING}")
    student_id = await a_pupil(client, reader)
    inputs = [(student_input(), student_input()) for _ in range(20)]

    async def write(n: int, one: dict[str, Any], two: dict[str, Any]) -> dict[str, Any]:
        if n % 2:
            return await gql(client, TWO_WRITES, {"one": one, "two": two}, staff)
        return await gql(client, WRITE_THEN_REFUSED, {"one": one, "staff": STAFF}, staff)

    async def read() -> dict[str, Any]:
        return await gql(client, STUDENT, {"id": student_id}, reader)

    results = await asyncio.gather(*[write(n, *pair) for n, pair in enumerate(inputs)], *[read() for _ in range(20)])
    written, reads = results[:20], results[20:]
    assert all(r["data"]["node"]["nationalId"] for r in reads)
    for n, (pair, result) in enumerate(zip(inputs, written, strict=True)):
        assert error_codes(result) == ([] if n % 2 else ["FORBIDDEN"])
        assert await scalar(own_database, children_numbered(*pair)) == (2 if n % 2 else 0)

    # The pool's connections, after all that, still write in transactions for any other user.
    name = f"tx-probe-{uuid.uuid4().hex[:8]}"
    async with async_sessionmaker(engine)() as session:
        session.add(Account(username=name, display_name="回滚", home_path=f"53/5323/{WUDING}"))
        await session.flush()
        await session.rollback()
    assert await scalar(own_database, select(func.count()).select_from(Account).where(Account.username == name)) == 0


@pytest.fixture
def statements(engine: AsyncEngine) -> Iterator[list[tuple[str, bool]]]:
    """Each statement SQLAlchemy sends on the app's engine: its first words, and whether its connection was
    outside a transaction (autocommit) when it ran."""
    seen: list[tuple[str, bool]] = []

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        seen.append((" ".join(statement.split()[:3]), bool(conn.connection.dbapi_connection.autocommit)))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_a_page_read_in_full_audits_its_children_in_one_statement_outside_a_transaction(
    client, own_database, statements
):
    """Five children's national IDs: five audit rows, one INSERT with no transaction around it (one commit,
    not five); a mutation's INSERT still runs inside its transaction."""
    token = await token_for(client, f"edu-county-{WUDING}")
    before = await scalar(own_database, select(func.count()).select_from(AuditLog))
    statements.clear()
    page = await gql(client, "{ students(first: 5) { edges { node { id nationalId } } } }", token=token)
    nodes = [e["node"] for e in page["data"]["students"]["edges"]]
    assert len(nodes) == 5
    assert all(n["nationalId"] for n in nodes)
    audits = [autocommit for words, autocommit in statements if words == "INSERT INTO audit_log"]
    assert audits == [True]
    assert await scalar(own_database, select(func.count()).select_from(AuditLog)) == before + 5

    statements.clear()
    staff = await token_for(client, STAFF)
    created = await gql(client, TWO_WRITES, {"one": student_input(), "two": student_input()}, staff)
    assert error_codes(created) == []
    writes = [autocommit for words, autocommit in statements if words.startswith("INSERT INTO child")]
    assert writes
    assert not any(writes)
