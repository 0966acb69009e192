"""The other lists' kept counts (migration 0029, issue 18 §1): `schoolAgeChildren`, `ledgerEntries` (by ledger
and status) and `students(filter: {enrolled})` count from `child_cohort_count` and `ledger_entry_path_count`,
which stay equal to `count(*)` through registrations, moves, transfers, entries opened and closed out, a
roster applied in bulk, deletions, and writers racing on the same keys (no wait, no lost count)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
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
from models.ledger import EntryStatus, Ledger, LedgerEntry
from models.province import school_age_birth_window
from models.repos.children import SCOPE_COLUMNS, cohort_count
from models.repos.ledger import ENTRY_SCOPE_COLUMNS, EntryFilter, entry_conditions, entry_count
from models.repos.paging import within_any
from tests.conftest import Databases, error_codes, gql, token_for
from tests.ledger_support import (
    WUDING_PRIMARY,
    WUDING_VILLAGE,
    YUANMOU_PRIMARY,
    YUANMOU_VILLAGE,
    make_student,
    open_entry,
    school_age,
)
from tests.migrant_support import GAOQIAO_VILLAGE, HUANZHOU_PRIMARY, UPDATE
from tests.test_child_counts import ACCOUNTS, TRANSFER, apply_household_roster, move, raw, scopes, serve_database
from tests.test_placement_close_out import CLOSE
from tests.test_races import Served, internal_errors

# Every kept count against the rows, key by key (as migration 0029 keys them).
CHILD_PATHS = {  # each path a child is counted by on each line, and the paths read before it (COHORT_LINES)
    "EDU": [("school_path", [])],
    "GOV": [("household_path", []), ("residence_path", ["household_path"])],
    "BOTH": [("school_path", []), ("household_path", ["school_path"]),
             ("residence_path", ["school_path", "household_path"])],
}  # fmt: skip


def _recount_children(line: str, column: str, before: list[str]) -> str:
    shared = ", ".join(["0", *(f"child_paths_shared({b}, {column})" for b in before)])
    keys = (
        f"'{line}', '{column}', least(greatest({shared}), 3), kept_count_head({column}),"
        " date_trunc('month', birth_date)::date, school_code IS NOT NULL"
    )
    return f"SELECT {keys}, count(*) FROM child GROUP BY 3, 4, 5, 6"  # noqa: S608 (the table's own names)


RECOUNT_CHILDREN = "\nUNION ALL\n".join(
    _recount_children(line, c, b) for line, columns in CHILD_PATHS.items() for c, b in columns
)
KEPT_CHILDREN = """SELECT line, column_name, shared, path, born_month, enrolled, sum(children) FROM child_cohort_count
GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(children) <> 0"""
PATHS = {  # each path an entry is seen through on each line, and the paths read before it (ENTRY_SCOPE_COLUMNS)
    "EDU": [("school_path", []), ("responsible_path", ["school_path"]),
            ("handover_path", ["school_path", "responsible_path"])],
    "GOV": [("household_path", []), ("residence_path", ["household_path"]),
            ("responsible_path", ["household_path", "residence_path"]),
            ("handover_path", ["household_path", "residence_path", "responsible_path"])],
}  # fmt: skip


def _recount(line: str, column: str, before: list[str]) -> str:
    shared = ", ".join(["0", *(f"child_paths_shared({b}, {column})" for b in before)])
    keys = f"'{line}', '{column}', least(greatest({shared}), 3), kept_count_head({column}), ledger, status"
    return f"SELECT {keys}, count(*) FROM ledger_entry GROUP BY 3, 4, 5, 6"  # noqa: S608 (the table's own names)


RECOUNT_ENTRIES = "\nUNION ALL\n".join(_recount(line, c, b) for line, columns in PATHS.items() for c, b in columns)
KEPT_ENTRIES = """SELECT line, column_name, shared, path, ledger, status, sum(entries) FROM ledger_entry_path_count
GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(entries) <> 0"""
PAGED_ENTRIES = """query($f: LedgerEntryFilter, $after: String) { ledgerEntries(filter: $f, first: 100, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }"""
ENROLLED = """query($after: String) { students(filter: {enrolled: true}, first: 100, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }"""


def as_dict(rows: Any) -> dict[tuple[Any, ...], int]:
    return {tuple(str(v) for v in row[:-1]): int(row[-1]) for row in rows if int(row[-1]) != 0}


async def opened(client: Any, token: str, student_id: str, **options: Any) -> dict[str, Any]:
    """A new ledger entry of the child, opened through the API."""
    result = await open_entry(client, token, student_id, **options)
    assert result.get("errors") == [], result
    return result["entry"]  # type: ignore[no-any-return]


PAIRS = ((KEPT_CHILDREN, RECOUNT_CHILDREN), (KEPT_ENTRIES, RECOUNT_ENTRIES))


def both_exact(execute: Any) -> None:
    """Each kept table equals its recount, key by key."""
    for kept, recount in PAIRS:
        assert as_dict(execute(kept)) == as_dict(execute(recount))


async def exact_in(session: Any) -> None:
    rows = {q: (await session.execute(text(q))).all() for pair in PAIRS for q in pair}
    both_exact(rows.__getitem__)


async def assert_exact(sessions: Any) -> None:
    async with sessions() as session:
        await exact_in(session)


async def test_counts_follow_children_and_entries_through_every_write(client, sessions) -> None:
    gov = await token_for(client, "gov-county-532329")
    edu = await token_for(client, "edu-county-532329")
    child = await make_student(client, gov, village=WUDING_VILLAGE, residence=YUANMOU_VILLAGE)
    entry = await opened(client, edu, child["id"])
    assert entry["status"] == "OPEN"
    await assert_exact(sessions)
    moved = await gql(
        client,
        UPDATE,
        {"input": {"studentId": child["id"], "version": child["version"], "householdRegionCode": GAOQIAO_VILLAGE,
                   "residenceRegionCode": WUDING_VILLAGE}},
        gov,
    )  # fmt: skip
    assert moved["data"]["updateStudent"]["errors"] == []  # the child and its open entry move
    await assert_exact(sessions)
    version = moved["data"]["updateStudent"]["student"]["version"]
    out = {"studentId": child["id"], "change": "TRANSFER_OUT", "schoolCode": WUDING_PRIMARY, "grade": 3,
           "on": today().isoformat(), "version": version}  # fmt: skip
    left = (await gql(client, TRANSFER, {"input": out}, edu))["data"]["recordEnrolmentChange"]
    assert left["errors"] == []  # no longer enrolled
    await assert_exact(sessions)
    into = {**out, "change": "TRANSFER_IN", "schoolCode": HUANZHOU_PRIMARY, "version": left["student"]["version"]}
    assert (await gql(client, TRANSFER, {"input": into}, edu))["data"]["recordEnrolmentChange"]["errors"] == []
    await assert_exact(sessions)
    close = {"entryId": entry["id"], "reason": "ENROLLED_ELSEWHERE_CONFIRMED", "version": entry["version"]}
    closed = (await gql(client, CLOSE, {"input": close}, edu))["data"]["closeOutLedgerEntry"]
    assert closed["entry"]["status"] == "CLOSED"
    await assert_exact(sessions)
    again = await opened(client, edu, child["id"], ledger="DROPOUT")  # a relapse: another entry, another ledger
    assert again["status"] == "OPEN"
    await assert_exact(sessions)
    async with sessions() as session:  # nothing deletes a child through the API; a database operator may
        await delete_rows(session, "child", "id", [raw(child)])
        await exact_in(session)


REFERENCES = """SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.contype = 'f' AND c.confrelid = CAST(:t AS regclass)"""


async def delete_rows(session: Any, table: str, column: str, values: list[Any]) -> None:
    """Delete the rows, and first every row that refers to them (by their id), however deep."""
    referring = [r for r in (await session.execute(text(REFERENCES), {"t": table})).all() if r[0] != table]
    if referring:
        found = await session.execute(text(f"SELECT id FROM {table} WHERE {column} = ANY(:v)"), {"v": values})  # noqa: S608
        ids = [r[0] for r in found]
        for other, by in referring:
            await delete_rows(session, other, by, ids)
    await session.execute(text(f"DELETE FROM {table} WHERE {column} = ANY(:v)"), {"v": values})  # noqa: S608


async def test_a_roster_applied_in_bulk_is_counted(client, sessions) -> None:
    header = ["姓名", "性别", "公民身份号码", "出生日期", "户籍地区划代码", "现住址区划代码"]
    rows = [
        [f"名册{n}", "男", national_id("532329", date(2015, 1 + n % 12, 1 + n % 28), 700 + n, male=True),
         date(2015, 1 + n % 12, 1 + n % 28).isoformat(), WUDING_VILLAGE, YUANMOU_VILLAGE if n % 3 else GAOQIAO_VILLAGE]
        for n in range(120)
    ]  # fmt: skip
    await apply_household_roster(client, [header, *rows])
    await assert_exact(sessions)


ENTRY_FILTERS = [
    EntryFilter(),
    EntryFilter(ledger=Ledger.SUSPECTED, statuses=(EntryStatus.OPEN,)),
    EntryFilter(statuses=(EntryStatus.OPEN, EntryStatus.RETURNED)),
    EntryFilter(ledger=Ledger.DROPOUT),
]
WINDOWS = [None, school_age_birth_window(date(2026, 8, 31)), school_age_birth_window(date(2026, 9, 15)),
           school_age_birth_window(date(2025, 2, 28))]  # fmt: skip


@pytest.mark.exhaustive
async def test_every_scope_counts_what_count_star_counts(session) -> None:
    rows = await session.execute(text("SELECT level, path FROM region ORDER BY path"))
    paths: dict[str, list[str]] = {}
    for level, path in rows:
        paths.setdefault(str(level), []).append(str(path))
    await open_some_entries(session)
    for granted in scopes(paths):
        regions = {p for granted_paths in granted.values() for p in granted_paths}
        one_region = len(granted) == 1 and len(next(iter(granted.values()))) == 1
        shallow = one_region and next(iter(granted.values()))[0].count("/") < 3
        # one region on both lines (an education bureau's ledgers): the children's kept counts alone too
        both_lines = len(granted) == 2 and len(regions) == 1 and next(iter(regions)).count("/") < 3
        ranges = ranges_over(granted, ENTRY_SCOPE_COLUMNS)
        for f in ENTRY_FILTERS:
            where = [within_any(ranges), *entry_conditions(f)]
            expected = await session.scalar(select(func.count()).select_from(LedgerEntry).where(*where))
            kept = entry_count(ranges, f.ledger, f.statuses)
            assert await session.scalar(kept) == expected, (granted, f)
            if shallow:
                assert " ledger_entry " not in str(kept) + " "  # a county or above: the kept counts alone
        ranges = ranges_over(granted, SCOPE_COLUMNS)
        for born in WINDOWS:
            for enrolled in (None, True, False):
                where = [within_any(ranges)]
                if born is not None:
                    where += [Child.birth_date > born[0], Child.birth_date <= born[1]]  # type: ignore[operator]
                if enrolled is not None:
                    where.append(Child.school_code.is_not(None) if enrolled else Child.school_code.is_(None))  # type: ignore[union-attr]
                expected = await session.scalar(select(func.count()).select_from(Child).where(*where))
                kept = cohort_count(ranges, born=born, enrolled=enrolled)
                assert await session.scalar(kept) == expected, (granted, born, enrolled)
                if (shallow or both_lines) and born in WINDOWS[:2]:
                    assert " child " not in str(kept) + " "  # whole months: the kept counts alone


async def open_some_entries(session: Any) -> None:
    """Entries in every status and both ledgers, some handed over, so each key of a scope has rows."""
    await session.execute(
        text(
            "UPDATE ledger_entry SET handover_path = (SELECT path FROM region WHERE code = '532328')"
            " WHERE id IN (SELECT id FROM ledger_entry ORDER BY id LIMIT 3)"
        )
    )
    await session.execute(
        text("UPDATE ledger_entry SET status = 'RETURNED' WHERE id = (SELECT max(id) FROM ledger_entry)")
    )


async def paged(client: Any, query: str, token: str, key: str, **variables: Any) -> tuple[int, list[str]]:
    """`totalCount` and every id the list pages through."""
    ids: list[str] = []
    after = None
    while True:
        page = (await gql(client, query, {**variables, "after": after}, token))["data"][key]
        ids += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return page["totalCount"], ids
        after = page["pageInfo"]["endCursor"]


@pytest.mark.parametrize("username", ACCOUNTS)
async def test_total_count_is_the_number_of_rows_paged_through(client, username: str) -> None:
    gov = await token_for(client, "gov-county-532329")
    edu = await token_for(client, "edu-county-532329")
    # Rows caught by a second range only: living in the county and registered elsewhere, and the reverse.
    away = await make_student(client, gov, village=YUANMOU_VILLAGE, residence=WUDING_VILLAGE, school=None)
    here = await make_student(client, gov, village=WUDING_VILLAGE, residence=YUANMOU_VILLAGE, school=YUANMOU_PRIMARY)
    for child in (away, here):
        assert (await opened(client, gov if child is away else edu, child["id"]))["status"] == "OPEN"
    token = await token_for(client, username)
    for f in (None, {"ledger": "SUSPECTED", "status": ["OPEN"]}):
        total, ids = await paged(client, PAGED_ENTRIES, token, "ledgerEntries", f=f)
        assert total == len(ids) == len(set(ids)), f
    total, ids = await paged(client, ENROLLED, token, "students")
    assert total == len(ids) == len(set(ids)) > 0
    rows, first = await school_age(client, token)
    assert first["totalCount"] == len(rows) > 0


async def test_an_account_that_may_not_read_the_lists_is_refused(client) -> None:
    ministry = await token_for(client, "edu-nation-CN")
    assert error_codes(await gql(client, ENROLLED, {"after": None}, ministry)) == ["FORBIDDEN"]
    assert error_codes(await gql(client, PAGED_ENTRIES, {"f": None, "after": None}, ministry)) == ["FORBIDDEN"]
    gov = await token_for(client, "gov-county-532329")
    child = await make_student(client, gov, village=WUDING_VILLAGE)
    assert (await opened(client, gov, child["id"]))["status"] == "OPEN"
    wuding = await paged(client, PAGED_ENTRIES, gov, "ledgerEntries", f=None)
    neighbour = await paged(
        client, PAGED_ENTRIES, await token_for(client, "gov-county-532328"), "ledgerEntries", f=None
    )
    assert neighbour[0] == len(neighbour[1])  # the neighbour county counts what it lists
    assert not set(neighbour[1]) & set(wuding[1])  # and none of Wuding's own entries


# Writers on two connections ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def own_database(databases: Databases) -> str:
    return databases.create_demo("list_counts")


def recount_matches(url: str) -> None:
    with psycopg.connect(libpq(url)) as conn:
        both_exact(lambda q: conn.execute(q).fetchall())


def set_status(conn: psycopg.Connection[Any], entry_id: int, status: str) -> None:
    conn.execute("UPDATE ledger_entry SET status = %s WHERE id = %s", [status, entry_id])


@pytest.mark.parametrize("isolation", ["READ COMMITTED", "REPEATABLE READ"])
def test_two_writers_changing_the_same_keys_in_opposite_orders_never_wait(own_database: str, isolation: str) -> None:
    """One writer moves a child from village X to Y and an entry from OPEN to RETURNED, then a child from
    Y to X and another entry likewise; the second writer moves children from Y to X, then X to Y, and
    its entries from RETURNED to OPEN, both open at once. Neither waits
    (a wait would hit the lock timeout), and after both commit every count is exact."""
    url = libpq(own_database)
    with psycopg.connect(url) as setup:
        villages = setup.execute(
            "SELECT code, path FROM region WHERE code = ANY(%s) ORDER BY code", [[WUDING_VILLAGE, GAOQIAO_VILLAGE]]
        ).fetchall()
        x, y = (str(villages[0][0]), str(villages[0][1])), (str(villages[1][0]), str(villages[1][1]))
        ids = [r[0] for r in setup.execute("SELECT id FROM child WHERE household_region_code = %s", [x[0]])][:2]
        ids += [r[0] for r in setup.execute("SELECT id FROM child WHERE household_region_code = %s", [y[0]])][:2]
        entries = [r[0] for r in setup.execute("SELECT id FROM ledger_entry WHERE status = 'OPEN' ORDER BY id LIMIT 4")]
        # The second writer's entries are another county's responsibility (the ledger_count trigger of 0005
        # makes writers of one county's entries wait for each other, by design) but lie in the first
        # writer's school and home regions: the two writers change the same kept keys.
        setup.execute(
            "UPDATE ledger_entry e SET responsible_path = (SELECT path FROM region WHERE code = '532328'),"
            " school_path = f.school_path, household_path = f.household_path, residence_path = f.residence_path,"
            " status = 'RETURNED' FROM ledger_entry f WHERE f.id = %s AND e.id = ANY(%s)",
            [entries[0], entries[2:]],
        )
        setup.execute(
            "UPDATE ledger_entry SET responsible_path = (SELECT path FROM region WHERE code = '532329'),"
            " school_path = (SELECT school_path FROM ledger_entry WHERE id = %s) WHERE id = ANY(%s)",
            [entries[0], entries[:2]],
        )
    assert len(ids) == len(entries) == 4
    with psycopg.connect(url) as one, psycopg.connect(url) as two:
        for conn in (one, two):
            conn.execute(f"SET TRANSACTION ISOLATION LEVEL {isolation}")
            conn.execute("SET lock_timeout = '3s'")
        move(one, ids[0], y)
        set_status(one, entries[0], "RETURNED")
        move(two, ids[2], x)
        set_status(two, entries[2], "OPEN")
        move(one, ids[3], x)
        set_status(one, entries[1], "RETURNED")
        move(two, ids[1], y)
        set_status(two, entries[3], "OPEN")
        one.commit()
        two.commit()
    recount_matches(own_database)


@pytest.fixture(scope="module")
def served(own_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_database(own_database, tmp_path_factory, "list_counts")


async def test_clients_registering_opening_and_closing_at_once_keep_the_counts(
    served: Served, own_database: str
) -> None:
    async with served.client() as client:
        gov = await served.token(client, "gov-county-532329")
        edu = await served.token(client, "edu-county-532329")
        children = [await make_student(client, gov, village=WUDING_VILLAGE) for _ in range(12)]
        first_entries = [await opened(client, edu, c["id"]) for c in children[:6]]
        before = await paged(client, PAGED_ENTRIES, edu, "ledgerEntries", f=None)

        async def register(n: int) -> dict[str, Any]:
            return await make_student(client, gov, village=(WUDING_VILLAGE, GAOQIAO_VILLAGE)[n % 2],
                                      residence=YUANMOU_VILLAGE if n % 3 == 0 else None)  # fmt: skip

        async def close(entry: dict[str, Any]) -> dict[str, Any]:
            payload = {"entryId": entry["id"], "reason": "ENROLLED_ELSEWHERE_CONFIRMED", "version": entry["version"]}
            return await gql(client, CLOSE, {"input": payload}, edu)

        results = await asyncio.gather(
            *(register(n) for n in range(16)),
            *(opened(client, edu, c["id"]) for c in children[6:]),
            *(close(e) for e in first_entries),
        )
        closed = results[22:]
        assert internal_errors(closed) == []
        assert all(r["data"]["closeOutLedgerEntry"]["errors"] == [] for r in closed)
        assert all(r["status"] == "OPEN" for r in results[16:22])
        after = await paged(client, PAGED_ENTRIES, edu, "ledgerEntries", f=None)
        open_now = await paged(client, PAGED_ENTRIES, edu, "ledgerEntries", f={"status": ["OPEN"]})
        school_age_rows, first_page = await school_age(client, gov)
    assert after[0] == len(after[1]) == before[0] + 6
    assert open_now[0] == len(open_now[1])
    assert first_page["totalCount"] == len(school_age_rows)
    recount_matches(own_database)


def test_migration_builds_the_counts_and_downgrade_removes_them(databases: Databases) -> None:
    url = databases.create_demo("list_counts_migration")
    downgrade(url, "0027")
    with psycopg.connect(libpq(url)) as conn:
        assert conn.execute("SELECT to_regclass('child_cohort_count')").fetchone() == (None,)
        conn.execute(
            "UPDATE ledger_entry SET handover_path = (SELECT path FROM region WHERE code = '532328')"
            " WHERE id IN (SELECT id FROM ledger_entry ORDER BY id LIMIT 2)"
        )
    migrate(url)
    recount_matches(url)
    with psycopg.connect(libpq(url)) as conn:
        assert conn.execute(
            "SELECT (SELECT count(*) FROM child_cohort_count WHERE slot <> 0)"
            " + (SELECT count(*) FROM ledger_entry_path_count WHERE slot <> 0)"
        ).fetchone() == (0,)
    downgrade(url, "0027")
    with psycopg.connect(libpq(url)) as conn:
        left = conn.execute(
            "SELECT to_regclass('child_cohort_count'), to_regclass('ledger_entry_path_count'),"
            " (SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%cohort_count%' OR tgname LIKE 'ledger_entry_path%'),"
            " (SELECT count(*) FROM pg_proc WHERE proname LIKE '%cohort_count%' OR proname LIKE 'kept_count%')"
        ).fetchone()
    assert left == (None, None, 0, 0)
