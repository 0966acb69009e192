"""Children counted per path (models/child_counts.py, issue 18 §1): `students { totalCount }` without a filter
sums the kept counts, and they stay equal to `count(*)` through inserts, moves, deletes, a roster applied in
bulk, and writers racing on the same school or village (no deadlock, no lost count)."""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select, text

from authz.access import ranges_over
from baoxue.database import downgrade, migrate
from datagen.demo.people import national_id
from datagen.synthetic.load import libpq
from models.base import today
from models.child import Child
from models.repos.children import SCOPE_COLUMNS, scope_count
from models.repos.paging import within_any
from tests.conftest import Databases, error_codes, gql, token_for
from tests.ledger_support import WUDING_PRIMARY, WUDING_VILLAGE, YUANMOU_PRIMARY, YUANMOU_VILLAGE, make_student
from tests.migrant_support import GAOQIAO_VILLAGE, HUANZHOU_PRIMARY, UPDATE
from tests.test_grant_sync import Server, _environment
from tests.test_races import Served, internal_errors
from tests.test_roster_batches import APPLY

# Every kept count against the children, key by key: (column, path, residence components shared) → children.
RECOUNT = """
SELECT 'school_path', coalesce(school_path, ''), 0, count(*) FROM child GROUP BY 2
UNION ALL SELECT 'household_path', coalesce(household_path, ''), 0, count(*) FROM child GROUP BY 2
UNION ALL SELECT 'residence_path', coalesce(residence_path, ''), child_paths_shared(residence_path, household_path),
                 count(*) FROM child GROUP BY 2, 3
"""
KEPT = (
    "SELECT column_name, path, shared, sum(children) FROM child_path_count GROUP BY 1, 2, 3 HAVING sum(children) <> 0"
)
STUDENTS = """query($after: String) { students(first: 100, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }"""
TRANSFER = """mutation($input: RecordEnrolmentChangeInput!) { recordEnrolmentChange(input: $input) {
  student { version } errors { code } } }"""
ACCOUNTS = [
    "staff-school-2153000036",  # a school (education)
    "gov-township-532329101",  # a township (government)
    "edu-county-532329",
    "gov-county-532329",
    "edu-city-5323",
    "gov-city-5323",
    "edu-province-53",
    "gov-province-53",
]


def as_dict(rows: Any) -> dict[tuple[str, str, int], int]:
    return {(str(c), str(p), int(s)): int(n) for c, p, s, n in rows}


async def kept_and_recounted(session: Any) -> tuple[dict[Any, int], dict[Any, int]]:
    return as_dict(await session.execute(text(KEPT))), as_dict(await session.execute(text(RECOUNT)))


async def assert_exact(sessions: Any) -> None:
    async with sessions() as session:
        kept, recounted = await kept_and_recounted(session)
    assert kept == recounted


async def region_path(session: Any, code: str) -> str:
    return str(await session.scalar(text("SELECT path FROM region WHERE code = :c"), {"c": code}))


async def test_counts_follow_a_child_registered_moved_and_deleted(client, sessions) -> None:
    county = await token_for(client, "gov-county-532329")
    edu = await token_for(client, "edu-county-532329")
    child = await make_student(client, county, village=WUDING_VILLAGE, residence=YUANMOU_VILLAGE)
    await assert_exact(sessions)
    moved = await gql(
        client,
        UPDATE,
        {"input": {"studentId": child["id"], "version": child["version"], "householdRegionCode": GAOQIAO_VILLAGE,
                   "residenceRegionCode": WUDING_VILLAGE}},
        county,
    )  # fmt: skip
    assert moved["data"]["updateStudent"]["errors"] == []
    await assert_exact(sessions)
    version = moved["data"]["updateStudent"]["student"]["version"]
    out = {"studentId": child["id"], "change": "TRANSFER_OUT", "schoolCode": WUDING_PRIMARY, "grade": 3,
           "on": today().isoformat(), "version": version}  # fmt: skip
    left = (await gql(client, TRANSFER, {"input": out}, edu))["data"]["recordEnrolmentChange"]
    assert left["errors"] == []
    await assert_exact(sessions)
    into = {**out, "change": "TRANSFER_IN", "schoolCode": HUANZHOU_PRIMARY, "version": left["student"]["version"]}
    assert (await gql(client, TRANSFER, {"input": into}, edu))["data"]["recordEnrolmentChange"]["errors"] == []
    async with sessions() as session:
        moved_to = await session.scalar(text("SELECT school_code FROM child WHERE id = :id"), {"id": raw(child)})
        assert moved_to == HUANZHOU_PRIMARY
        kept, recounted = await kept_and_recounted(session)
        assert kept == recounted
        await session.execute(text("DELETE FROM guardian WHERE child_id = :id"), {"id": raw(child)})
        await session.execute(text("DELETE FROM enrolment_event WHERE child_id = :id"), {"id": raw(child)})
        await session.execute(text("DELETE FROM child WHERE id = :id"), {"id": raw(child)})
        kept, recounted = await kept_and_recounted(session)
        assert kept == recounted


def raw(student: dict[str, Any]) -> int:
    return int(base64.b64decode(student["id"]).decode().split(":")[1])


async def apply_household_roster(client: Any, rows: list[list[Any]]) -> None:
    """Wuding's bureau uploads the rows (header first) as a HOUSEHOLD roster, its government applies it."""
    body = "\n".join(",".join(map(str, r)) for r in rows).encode()
    token = await token_for(client, "edu-county-532329")
    fields = {"kind": "HOUSEHOLD", "jurisdiction": "532329", "asOf": "2026-11-30"}
    staged = await client.post(
        "/rosters",
        data=fields,
        files={"file": ("many.csv", body, "text/csv")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert staged.status_code == 201, staged.text
    gov = await token_for(client, "gov-county-532329")
    applied = await gql(client, APPLY, {"input": {"id": staged.json()["id"], "version": 2}}, token=gov)
    assert applied["data"]["applyRosterImport"]["errors"] == []


async def test_a_roster_applied_in_bulk_is_counted_in_one_statement(client, sessions) -> None:
    header = ["姓名", "性别", "公民身份号码", "出生日期", "户籍地区划代码", "现住址区划代码"]
    born = date(2016, 3, 1)
    rows = [
        [f"名册{n}", "男", national_id("532329", born, 500 + n, male=True), born.isoformat(), WUDING_VILLAGE,
         YUANMOU_VILLAGE if n % 3 else GAOQIAO_VILLAGE]
        for n in range(240)
    ]  # fmt: skip
    async with sessions() as session:
        before = await session.scalar(select(func.count()).select_from(Child))
    await apply_household_roster(client, [header, *rows])
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Child)) == before + 240
        kept, recounted = await kept_and_recounted(session)
    assert kept == recounted


async def paged(client: Any, token: str) -> tuple[int, list[str]]:
    """`totalCount` and every id the list pages through."""
    ids: list[str] = []
    after = None
    while True:
        page = (await gql(client, STUDENTS, {"after": after}, token))["data"]["students"]
        ids += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return page["totalCount"], ids
        after = page["pageInfo"]["endCursor"]


@pytest.mark.parametrize("username", ACCOUNTS)
async def test_total_count_is_the_number_of_children_paged_through(client, username: str) -> None:
    gov = await token_for(client, "gov-county-532329")
    # Children living in the county and registered elsewhere, and the reverse: the second range's own rows.
    await make_student(client, gov, village=YUANMOU_VILLAGE, residence=WUDING_VILLAGE, school=None)
    await make_student(client, gov, village=WUDING_VILLAGE, residence=YUANMOU_VILLAGE, school=YUANMOU_PRIMARY)
    total, ids = await paged(client, await token_for(client, username))
    assert len(ids) == len(set(ids)) > 0
    assert total == len(ids)


async def test_an_account_that_may_not_read_children_is_refused(client) -> None:
    ministry = await token_for(client, "edu-nation-CN")
    assert error_codes(await gql(client, STUDENTS, {"after": None}, ministry)) == ["FORBIDDEN"]


def scopes(paths: dict[str, list[str]]) -> Iterator[dict[str, list[str]]]:
    """Grants to count under: every region on each line; two regions; both lines, on two regions and on one."""
    for level in ("CITY", "COUNTY", "TOWNSHIP", "VILLAGE"):
        for path in paths[level]:
            yield {"EDU": [path]}
            yield {"GOV": [path]}
    counties = paths["COUNTY"]
    for a, b in itertools.islice(itertools.combinations(counties, 2), 0, None, 7):
        yield {"GOV": [a, b]}
        yield {"EDU": [a, b]}
        yield {"EDU": [a], "GOV": [b]}
    yield {"GOV": [paths["PROVINCE"][0], paths["TOWNSHIP"][-1]]}
    for path in [paths["PROVINCE"][0], *paths["CITY"][:2], *paths["COUNTY"][:3], paths["TOWNSHIP"][0]]:
        yield {"EDU": [path], "GOV": [path]}  # one region on both lines: an education bureau's ledgers
    yield {"EDU": ["CN"]}


async def test_every_scope_counts_what_count_star_counts(session) -> None:
    rows = await session.execute(text("SELECT level, path FROM region ORDER BY path"))
    paths: dict[str, list[str]] = {}
    for level, path in rows:
        paths.setdefault(str(level), []).append(str(path))
    for granted in scopes(paths):
        ranges = ranges_over(granted, SCOPE_COLUMNS)
        expected = await session.scalar(select(func.count()).select_from(Child).where(within_any(ranges)))
        assert await session.scalar(scope_count(ranges)) == expected, granted
        if ranges is not None and len(granted) == 1 and len(next(iter(granted.values()))) == 1:
            assert " child " not in str(scope_count(ranges)) + " "  # one region: the kept counts alone


# Writers on two connections ------------------------------------------------------------------------------


def move(conn: psycopg.Connection[Any], child_id: int, village: tuple[str, str]) -> None:
    conn.execute(
        "UPDATE child SET household_region_code = %s, household_path = %s, residence_region_code = %s,"
        " residence_path = %s WHERE id = %s",
        [*village, *village, child_id],
    )


@pytest.fixture(scope="module")
def own_database(databases: Databases) -> str:
    return databases.create_demo("child_counts")


def recount_matches(url: str) -> None:
    with psycopg.connect(libpq(url)) as conn:
        assert as_dict(conn.execute(KEPT).fetchall()) == as_dict(conn.execute(RECOUNT).fetchall())


@pytest.mark.parametrize("isolation", ["READ COMMITTED", "REPEATABLE READ"])
def test_two_writers_moving_children_in_opposite_orders_never_wait(own_database: str, isolation: str) -> None:
    """Each writer moves one child from village X to Y, then another from Y to X, the other writer in the
    opposite order, both open at once. Count rows locked in write order would deadlock (or, with a lock
    timeout, fail); here neither waits, and after both commit every count is exact."""
    url = libpq(own_database)
    with psycopg.connect(url) as setup:
        villages = setup.execute(
            "SELECT code, path FROM region WHERE code = ANY(%s) ORDER BY code", [[WUDING_VILLAGE, GAOQIAO_VILLAGE]]
        ).fetchall()
        x, y = (str(villages[0][0]), str(villages[0][1])), (str(villages[1][0]), str(villages[1][1]))
        ids = [r[0] for r in setup.execute("SELECT id FROM child WHERE household_region_code = %s", [x[0]])][:2]
        ids += [r[0] for r in setup.execute("SELECT id FROM child WHERE household_region_code = %s", [y[0]])][:2]
    assert len(ids) == 4
    with psycopg.connect(url) as one, psycopg.connect(url) as two:
        for conn in (one, two):
            conn.execute(f"SET TRANSACTION ISOLATION LEVEL {isolation}")
            conn.execute("SET lock_timeout = '3s'")
        move(one, ids[0], y)  # X → Y
        move(two, ids[2], x)  # Y → X
        move(one, ids[3], x)  # Y → X
        move(two, ids[1], y)  # X → Y
        one.commit()
        two.commit()
    recount_matches(own_database)


def serve_database(own_database: str, tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Served]:
    """`baoxue serve` on the module's own database for racing clients; its log must hold no traceback."""
    log_dir: Path = tmp_path_factory.mktemp(name)
    server = Server(name, _environment(own_database, log_dir), log_dir)
    served = Served(server, own_database)
    try:
        server.wait_ready(time.monotonic() + 120)
        yield served
    finally:
        server.stop()
        served.db.dispose()
    assert "Traceback" not in server.log_path.read_text(encoding="utf-8", errors="replace"), server.log_tail()


@pytest.fixture(scope="module")
def served(own_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_database(own_database, tmp_path_factory, "child_counts")


async def test_clients_registering_and_moving_children_of_one_school_at_once_keep_the_counts(
    served: Served, own_database: str
) -> None:
    async with served.client() as client:
        gov = await served.token(client, "gov-county-532329")
        edu = await served.token(client, "edu-county-532329")
        movers = [await make_student(client, gov, village=WUDING_VILLAGE) for _ in range(10)]
        before = await paged(client, edu)

        async def register(n: int) -> dict[str, Any]:
            return await make_student(client, gov, village=(WUDING_VILLAGE, GAOQIAO_VILLAGE)[n % 2],
                                      residence=YUANMOU_VILLAGE if n % 3 == 0 else None)  # fmt: skip

        async def relocate(child: dict[str, Any], n: int) -> dict[str, Any]:
            there = {"householdRegionCode": GAOQIAO_VILLAGE, "residenceRegionCode": YUANMOU_VILLAGE if n % 2 else None}
            payload = {"studentId": child["id"], "version": child["version"], **there}
            return await gql(client, UPDATE, {"input": payload}, gov)

        results = await asyncio.gather(
            *(register(n) for n in range(24)), *(relocate(c, n) for n, c in enumerate(movers))
        )
        moved = results[24:]
        assert internal_errors(moved) == []
        assert all(r["data"]["updateStudent"]["errors"] == [] for r in moved)
        after = await paged(client, edu)
    assert after[0] == len(after[1]) == before[0] + 24
    recount_matches(own_database)


def test_migration_builds_the_counts_from_the_children_and_downgrade_removes_them(databases: Databases) -> None:
    url = databases.create_demo("child_counts_migration")
    downgrade(url, "0026")
    with psycopg.connect(libpq(url)) as conn:
        assert conn.execute("SELECT to_regclass('child_path_count')").fetchone() == (None,)
        conn.execute(
            "UPDATE child SET residence_region_code = %s, residence_path = (SELECT path FROM region WHERE code = %s)"
            " WHERE id IN (SELECT id FROM child ORDER BY id LIMIT 5)",
            [YUANMOU_VILLAGE, YUANMOU_VILLAGE],
        )
    migrate(url)
    recount_matches(url)
    with psycopg.connect(libpq(url)) as conn:
        assert conn.execute("SELECT count(*) FROM child_path_count WHERE slot <> 0").fetchone() == (0,)
    downgrade(url, "0026")
    with psycopg.connect(libpq(url)) as conn:
        left = conn.execute(
            "SELECT to_regclass('child_path_count'), (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'child_path%'),"
            " (SELECT count(*) FROM pg_proc WHERE proname LIKE 'child_path%')"
        ).fetchone()
    assert left == (None, 0, 0)
