"""The change feed (issue 15 §2, ARCHITECTURE §10): commit-ordered, scoped like the lists, masked like GraphQL.

The feed's rows are written at commit, so these tests run on a database of their own with real commits
(the `client` fixture's transaction is never committed): the app is the real ASGI app over a real engine,
writers are real concurrent PostgreSQL connections.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import random
import sys
from collections.abc import AsyncIterator, Iterator
from subprocess import PIPE
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import cast, create_engine, false, literal, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from authz.catalogue import within
from baoxue.app import create_app
from baoxue.cli import main
from baoxue.database import migrate
from datagen.demo.seed import DEMO_PASSWORD
from datagen.synthetic.load import libpq
from models.change_feed import ChangeType
from models.repos.change_feed import api_object
from resolvers.changes.reading import decode_cursor, encode_cursor
from tests.conftest import Databases, error_codes, gql, make_settings

WUDING = "53/5323/532329"  # 武定县
YUANMOU = "53/5323/532328"  # 元谋县, the neighbour
INTEGRATOR = "integrator-county-532329"
NEIGHBOUR = "integrator-county-532328"
COUNTY_EDU = "edu-county-532329"  # reads the ledgers, runs no exports
TABLES = {
    "child": "Student",
    "ledger_entry": "LedgerEntry",
    "persuasion_visit": "PersuasionVisit",
    "case_plan": "CasePlan",
    "deferral_request": "DeferralRequest",
    "handover": "Handover",
    "report": "Report",
}
ENTRY_PATHS = ("school_path", "household_path", "residence_path", "responsible_path", "handover_path")


@pytest.fixture(scope="module")
def feed_url(databases: Databases) -> str:
    return databases.create_demo("feed")


@contextlib.asynccontextmanager
async def app_client(url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app over the module's database, with the grants as they are now; every operation commits."""
    engine = create_async_engine(url, pool_size=4)
    app = create_app(make_settings(), sessions=async_sessionmaker(engine, expire_on_commit=False))
    transport = httpx.ASGITransport(app=app, client=("10.0.0.1", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://baoxue.test", timeout=60) as client:
        yield client
    await engine.dispose()


@pytest.fixture
async def feed(feed_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(feed_url) as client:
        yield client


@pytest.fixture
def db(feed_url: str) -> Iterator[Any]:
    engine = create_engine(feed_url, poolclass=NullPool)
    yield engine
    engine.dispose()


async def sign_in(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await client.post("/auth/token", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def page(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> tuple[list[dict[str, Any]], Any]:
    response = await client.get("/exports/changes", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/jsonl")
    lines = [httpx.Response(200, content=line).json() for line in response.content.splitlines() if line]
    return lines, response


def apply(mirror: dict[str, Any], changes: list[dict[str, Any]]) -> None:
    """What an integrator's mirror does with each line: keep the object, or delete it when it left."""
    for change in changes:
        if change["operation"] == "LEFT_SCOPE":
            assert change["object"] is None
            mirror.pop(change["objectId"], None)
        else:
            mirror[change["objectId"]] = change["object"]


def in_county(paths: Any) -> bool:
    return any(p is not None and within(p, WUDING) for p in paths)


def source_mirror(db: Any) -> dict[str, Any]:
    """What the integrator of 武定 should hold: every followed row it may read now, as the API names it,
    personal data masked (INTEGRATOR has no CHILD:READ_PII). Computed from the tables, not from the feed."""
    expected: dict[str, Any] = {}
    with db.connect() as conn:
        entries = {r["id"]: r for (r,) in conn.execute(text("SELECT to_jsonb(e) FROM ledger_entry e"))}
        latest = {}
        for entry in sorted(entries.values(), key=lambda e: e["id"]):
            latest[entry["child_id"]] = entry
        for table, type_name in TABLES.items():
            for (row,) in conn.execute(text(f"SELECT to_jsonb(t) FROM {table} t")):  # noqa: S608 (fixed names)
                if table == "child":
                    seen = in_county([row["school_path"], row["household_path"], row["residence_path"]])
                elif table == "ledger_entry":
                    seen = in_county([row[p] for p in ENTRY_PATHS])
                elif table == "report":
                    seen = row["first_submitted_at"] is not None and in_county([row["unit_path"]])
                else:
                    entry = latest.get(row["child_id"]) if table == "case_plan" else entries[row["entry_id"]]
                    seen = entry is not None and in_county([entry[p] for p in ENTRY_PATHS])
                if seen:
                    stored = cast(literal(json.dumps(row)), JSONB)
                    shown = conn.execute(select(api_object(ChangeType(type_name), stored, false()))).scalar_one()
                    expected[shown["id"]] = shown
    return expected


def region_of(conn: psycopg.Connection[Any], county: str) -> tuple[str, str]:
    """A village of the county: (code, path)."""
    row = conn.execute(
        "SELECT code, path FROM region WHERE path LIKE %s ORDER BY code LIMIT 1", [county + "/%/%"]
    ).fetchone()
    assert row is not None
    return row[0], row[1]


async def test_concurrent_writers_and_a_polling_consumer_end_with_equal_mirrors(
    feed: httpx.AsyncClient, db: Any, feed_url: str
) -> None:
    """Several writers commit concurrently, out of the order they began in, while the integrator polls
    GET /exports/changes: its mirror ends equal to the tables, row for row (issue 15 §2, no gaps).
    Children moved out of 武定 arrive as LEFT_SCOPE, children moved in as changes."""
    headers = await sign_in(feed, INTEGRATOR)
    dsn = libpq(feed_url)
    with psycopg.connect(dsn) as conn:
        ours = [
            r[0] for r in conn.execute("SELECT id FROM child WHERE household_path LIKE %s ORDER BY id", [WUDING + "/%"])
        ]
        theirs = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM child WHERE household_path LIKE %s AND school_path LIKE %s ORDER BY id",
                [YUANMOU + "/%", YUANMOU + "/%"],
            )
        ]
        entries = [
            (r[0], r[1])
            for r in conn.execute("SELECT id, child_id FROM ledger_entry WHERE school_path LIKE %s", [WUDING + "/%"])
        ]
        wuding_village, yuanmou_village = region_of(conn, WUDING), region_of(conn, YUANMOU)
        wuding_school = conn.execute(
            "SELECT code, path FROM school WHERE path LIKE %s LIMIT 1", [WUDING + "/%"]
        ).fetchone()
        yuanmou_school = conn.execute(
            "SELECT code, path FROM school WHERE path LIKE %s LIMIT 1", [YUANMOU + "/%"]
        ).fetchone()
    assert len(ours) > 60
    assert len(theirs) > 10
    assert entries
    shared = ours[:15]  # every writer also touches these: row locks order the writers on one row
    moved_out = ours[40:48]
    moved_in = theirs[:8]

    async def move(cur: psycopg.AsyncCursor[Any], child: int, village: tuple[str, str], school: Any) -> None:
        await cur.execute(
            "UPDATE child SET household_region_code = %s, household_path = %s, residence_region_code = %s,"
            " residence_path = %s, school_code = %s, school_path = %s, version = version + 1 WHERE id = %s",
            [*village, *village, *school, child],
        )

    async def writer(number: int) -> int:
        rng = random.Random(number)
        written = 0
        async with await psycopg.AsyncConnection.connect(dsn) as conn:
            for step in range(25):
                async with conn.transaction(), conn.cursor() as cur:
                    await cur.execute(
                        "UPDATE child SET name = %s, version = version + 1 WHERE id = %s",
                        [f"改名{number}-{step}", rng.choice(shared)],
                    )
                    entry, child = rng.choice(entries)
                    await cur.execute(
                        "UPDATE ledger_entry SET note = %s, version = version + 1 WHERE id = %s",
                        [f"第{number}-{step}次核实", entry],
                    )
                    # A new row in every transaction: one missed change is a row missing from the mirror.
                    await cur.execute(
                        "INSERT INTO persuasion_visit (entry_id, child_id, visited_on, method, stage, participants,"
                        " outcome, recorded_by, province_code) VALUES (%s, %s, current_date, 'HOME_VISIT', 1,"
                        " '[]', %s, 'writer', '53')",
                        [entry, child, f"第{number}-{step}次家访"],
                    )
                    if step % 6 == number % 6 and moved_out:
                        await move(cur, moved_out.pop(), yuanmou_village, yuanmou_school)
                    if step % 6 == (number + 3) % 6 and moved_in:
                        await move(cur, moved_in.pop(), wuding_village, wuding_school)
                    # Hold the transaction open a while: later writers commit before earlier ones.
                    await asyncio.sleep(rng.uniform(0, 0.03))
                written += 1
        return written

    mirror: dict[str, Any] = {}
    done = asyncio.Event()
    polls = 0

    async def consumer() -> None:
        nonlocal polls
        cursor = ""
        while True:
            finished = done.is_set()  # read before the poll: one poll after the last commit
            changes, response = await page(feed, headers, after=cursor, limit=200)
            apply(mirror, changes)
            cursor = response.headers["X-Next-Cursor"]
            polls += 1
            if finished and response.headers["X-Has-More"] == "false":
                return
            await asyncio.sleep(0.01)

    reading = asyncio.create_task(consumer())
    results = await asyncio.gather(*(writer(n) for n in range(4)))
    done.set()
    await reading
    assert results == [25, 25, 25, 25]
    assert polls > 5, "the consumer should have polled while the writers ran"
    expected = source_mirror(db)
    assert mirror.keys() == expected.keys()
    assert mirror == expected
    # Personal data masked exactly as GraphQL masks it for this role (INTEGRATOR has no CHILD:READ_PII).
    students = [o for o in mirror.values() if o["id"].startswith("U3R1ZGVudD")][:20]  # "Student:"
    query = "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Student { name nationalId registryNumber } } }"
    graphql = await gql(feed, query, {"ids": [o["id"] for o in students]}, token=headers["Authorization"][7:])
    assert graphql["data"]["nodes"] == [
        {k: o[k] for k in ("id", "name", "nationalId", "registryNumber")} for o in students
    ]
    assert any(o["nationalId"] and "*" in o["nationalId"] for o in students), "national IDs are masked"
    assert not moved_out, "every planned transfer out was written"
    assert not moved_in, "every planned transfer in was written"


async def test_left_scope_tombstone_and_region_filter(feed: httpx.AsyncClient, db: Any) -> None:
    """A child transferred out is a LEFT_SCOPE tombstone for the county it left, and a change for the one
    it went to; `region` narrows the feed like a list's regionCode."""
    wuding, yuanmou = await sign_in(feed, INTEGRATOR), await sign_in(feed, NEIGHBOUR)
    cursor = (await page(feed, wuding, after="latest"))[1].headers["X-Next-Cursor"]
    theirs = (await page(feed, yuanmou, after="latest"))[1].headers["X-Next-Cursor"]
    with db.begin() as conn:
        child = conn.execute(
            text("SELECT id FROM child WHERE school_path LIKE :p AND household_path LIKE :p ORDER BY id DESC LIMIT 1"),
            {"p": WUDING + "/%"},
        ).scalar_one()
        code, path = conn.execute(
            text("SELECT code, path FROM region WHERE path LIKE :p ORDER BY code LIMIT 1"), {"p": YUANMOU + "/%/%"}
        ).one()
        school, school_path = conn.execute(
            text("SELECT code, path FROM school WHERE path LIKE :p LIMIT 1"), {"p": YUANMOU + "/%"}
        ).one()
        conn.execute(
            text(
                "UPDATE child SET household_region_code = :c, household_path = :p, residence_region_code = :c,"
                " residence_path = :p, school_code = :s, school_path = :sp, version = version + 1 WHERE id = :id"
            ),
            {"c": code, "p": path, "s": school, "sp": school_path, "id": child},
        )
    left, _ = await page(feed, wuding, after=cursor, types="STUDENT")
    arrived, _ = await page(feed, yuanmou, after=theirs, types="STUDENT")
    assert [(c["operation"], c["object"]) for c in left] == [("LEFT_SCOPE", None)]
    assert [c["operation"] for c in arrived] == ["UPDATE"]
    assert left[0]["objectId"] == arrived[0]["objectId"] == arrived[0]["object"]["id"]
    assert arrived[0]["object"]["schoolCode"] == school
    # A cursor is its holder's: taken under other grants it is refused, not followed.
    response = await feed.get("/exports/changes", params={"after": cursor}, headers=yuanmou)
    assert response.status_code == 410
    assert response.json()["code"] == "SCOPE_CHANGED"
    in_region, _ = await page(feed, yuanmou, after=theirs, region="532328")
    assert [c["objectId"] for c in in_region] == [arrived[0]["objectId"]]
    other_township, _ = await page(feed, yuanmou, after=theirs, region=code[:9] if code[:9] != path else code)
    assert all(c["objectId"] == arrived[0]["objectId"] for c in other_township)


async def test_refusals(feed: httpx.AsyncClient) -> None:
    """Default deny: no EXPORT:RUN (a county bureau) is 403, no token 401; a region outside the caller's
    view is 404 like a missing one; bad parameters are 400 naming the parameter."""
    response = await feed.get("/exports/changes")
    assert response.status_code == 401
    county = await sign_in(feed, COUNTY_EDU)
    response = await feed.get("/exports/changes", headers=county)
    assert response.status_code == 403
    assert " / " in response.json()["message"]
    result = await gql(feed, "{ changes { edges { cursor } } }", token=county["Authorization"][7:])
    assert error_codes(result) == ["FORBIDDEN"]
    wuding = await sign_in(feed, INTEGRATOR)
    for params, status, field, code in [
        ({"region": "532328"}, 404, "regionCode", "UNKNOWN_REGION"),
        ({"region": "999999"}, 404, "regionCode", "UNKNOWN_REGION"),
        ({"after": "not-a-cursor"}, 400, "after", "INVALID_CURSOR"),
        ({"types": "STUDENT,PARENT"}, 400, "types", "UNKNOWN_TYPE"),
        ({"limit": "0"}, 400, "limit", "PAGE_SIZE"),
        ({"limit": "10001"}, 400, "limit", "PAGE_SIZE"),
    ]:
        response = await feed.get("/exports/changes", params=params, headers=wuding)
        body = response.json()
        assert (response.status_code, body["field"], body["code"]) == (status, field, code), params
        assert " / " in body["message"]


async def test_graphql_connection_pages_and_nodes(feed: httpx.AsyncClient) -> None:
    """`changes` pages in commit order with the JSON Lines' cursors; visits and case plans are Relay nodes,
    readable by node(id:) where their entry is, and null for the neighbouring county."""
    wuding = (await sign_in(feed, INTEGRATOR))["Authorization"][7:]
    neighbour = (await sign_in(feed, NEIGHBOUR))["Authorization"][7:]
    query = """query($after: String, $types: [ChangeType!]) { changes(after: $after, types: $types, first: 100) {
      edges { cursor node { objectId type operation version changedAt object } }
      pageInfo { hasNextPage endCursor } } }"""
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        result = await gql(feed, query, {"after": after, "types": ["PERSUASION_VISIT", "CASE_PLAN"]}, token=wuding)
        assert "errors" not in result, result
        changes = result["data"]["changes"]
        seen += [e["node"] for e in changes["edges"]]
        after = changes["pageInfo"]["endCursor"]
        if not changes["pageInfo"]["hasNextPage"]:
            break
    lines, _ = await page(feed, {"Authorization": f"Bearer {wuding}"}, types="PERSUASION_VISIT,CASE_PLAN", limit=10000)
    assert [n["objectId"] for n in seen] == [c["objectId"] for c in lines]
    assert {n["type"] for n in seen} == {"PERSUASION_VISIT", "CASE_PLAN"}
    visit = next(n for n in seen if n["type"] == "PERSUASION_VISIT")
    plan = next(n for n in seen if n["type"] == "CASE_PLAN")
    node = "query($id: ID!) { node(id: $id) { id ... on PersuasionVisit { outcome } ... on CasePlan { goal } } }"
    for change, field in ((visit, "outcome"), (plan, "goal")):
        mine = await gql(feed, node, {"id": change["objectId"]}, token=wuding)
        assert mine["data"]["node"] == {"id": change["objectId"], field: change["object"][field]}
        theirs = await gql(feed, node, {"id": change["objectId"]}, token=neighbour)
        assert theirs["data"]["node"] is None


async def test_pruned_cursor_is_expired(feed: httpx.AsyncClient, db: Any, feed_url: str) -> None:
    """Retention: `baoxue changes prune` deletes changes older than BAOXUE_CHANGE_RETENTION_DAYS; a cursor
    below them then answers 410 CURSOR_EXPIRED telling the client to export again, and one at the last
    pruned change goes on without a gap. (Runs last: it prunes.)"""
    wuding = await sign_in(feed, INTEGRATOR)
    everything, _ = await page(feed, wuding, limit=10000)
    with db.begin() as conn:  # the first changes were made 40 days ago
        last_old = conn.execute(text("SELECT max(seq) FROM change_event")).scalar_one()
        boundary = int(base64.urlsafe_b64decode(everything[9]["cursor"]).decode().split(":")[1])
        old = conn.execute(text("SELECT count(*) FROM change_event WHERE seq <= :s"), {"s": boundary}).scalar_one()
        conn.execute(
            text("UPDATE change_event SET changed_at = now() - interval '40 days' WHERE seq <= :s"), {"s": boundary}
        )
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "DATABASE_URL")}
    env.update(DATABASE_URL=feed_url, BAOXUE_CHANGE_RETENTION_DAYS="30", BAOXUE_LOG_LEVEL="WARNING")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "baoxue", "changes", "prune", env=env, stdout=PIPE, stderr=PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    assert f"{old} changes older than 30 days deleted" in out.decode()
    with db.connect() as conn:
        assert conn.execute(text("SELECT min(seq) FROM change_event")).scalar_one() > boundary
        assert conn.execute(text("SELECT max(seq) FROM change_event")).scalar_one() == last_old
    response = await feed.get("/exports/changes", params={"after": everything[8]["cursor"]}, headers=wuding)
    assert response.status_code == 410
    assert response.json()["code"] == "CURSOR_EXPIRED"
    assert "export" in response.json()["message"]
    result = await gql(feed, "{ changes { edges { cursor } } }", token=wuding["Authorization"][7:])
    assert [e["extensions"].get("reason") for e in result["errors"]] == ["CURSOR_EXPIRED"]
    rest, _ = await page(feed, wuding, after=everything[9]["cursor"], limit=10000)
    assert rest == everything[10:]
    _, latest = await page(feed, wuding, after="latest")
    none, more = await page(feed, wuding, after=latest.headers["X-Next-Cursor"])
    assert none == []
    assert more.headers["X-Has-More"] == "false"


def test_the_synthetic_seed_skips_the_feed_unless_asked(databases: Databases, monkeypatch: pytest.MonkeyPatch) -> None:
    """`baoxue seed synthetic` writes nothing to the feed by default (a generated province is exported whole);
    with `--with-change-feed` every loaded child, entry and visit is one CREATE."""
    counts: dict[bool, dict[str, int]] = {}
    for with_feed in (False, True):
        url = databases.create("feed_seed")
        migrate(url)
        monkeypatch.setenv("DATABASE_URL", url)
        main(["seed", "synthetic", "--children", "2000", *(["--with-change-feed"] if with_feed else [])])
        engine = create_engine(url, poolclass=NullPool)
        with engine.connect() as conn:
            grouped = conn.execute(text("SELECT object_type, count(*) FROM change_event GROUP BY 1"))
            feed = dict(grouped.all())
            assert set(conn.execute(text("SELECT DISTINCT operation FROM change_event")).scalars()) <= {"CREATE"}
            rows = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}  # noqa: S608
        engine.dispose()
        assert rows["child"] == 2000
        counts[with_feed] = {TABLES[t]: n for t, n in rows.items() if n} if with_feed else feed
        if with_feed:
            assert feed == counts[True]
    assert counts[False] == {}
    assert {"Student", "LedgerEntry", "PersuasionVisit"} <= counts[True].keys()


async def test_a_narrowed_grant_sends_tombstones_for_what_left_then_the_changes(
    feed_url: str, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15 §2: a row that leaves the caller's scope because a grant was narrowed is a LEFT_SCOPE
    tombstone. 元谋县's integrator also holds 武定县 when it takes its cursor; after 武定县 is revoked the same
    cursor first gives a tombstone for every student, ledger entry and report of 武定县 it could see (and
    nothing of its own county), paged, then the changes. Another account cannot follow that cursor, and a
    cursor whose grants were since widened is refused: rows newly in scope were never sent."""
    monkeypatch.setenv("DATABASE_URL", feed_url)
    await asyncio.to_thread(main, ["grant", "create", NEIGHBOUR, "INTEGRATOR", "532329", "--reason", "借调 / seconded"])
    with db.connect() as conn:
        grant = conn.execute(
            text(
                "SELECT g.id FROM role_grant g JOIN account a ON a.id = g.account_id WHERE a.username = :u"
                " AND g.scope_path = :p AND g.revoked_at IS NULL"
            ),
            {"u": NEIGHBOUR, "p": WUDING},
        ).scalar_one()
    try:
        async with app_client(feed_url) as wide:
            cursor = (await page(wide, await sign_in(wide, NEIGHBOUR), after="latest"))[1].headers["X-Next-Cursor"]
        with db.begin() as conn:  # a change of 元谋县 made after the cursor: it follows the tombstones
            own = conn.execute(
                text("UPDATE child SET version = version + 1 WHERE id = (SELECT min(id) FROM child WHERE "
                     "school_path LIKE :p) RETURNING id"), {"p": YUANMOU + "/%"},
            ).scalar_one()  # fmt: skip
        await asyncio.to_thread(main, ["grant", "revoke", str(grant), "--reason", "借调结束 / back home"])
        async with app_client(feed_url) as narrow:
            headers = await sign_in(narrow, NEIGHBOUR)
            lines: list[dict[str, Any]] = []
            after, pages = cursor, 0
            while True:
                got, response = await page(narrow, headers, after=after, limit=100)
                lines += got
                pages += 1
                after = response.headers["X-Next-Cursor"]
                if response.headers["X-Has-More"] == "false":
                    break
            assert pages > 2, "the tombstones are paged like changes"
            tombstones = [c for c in lines if c["operation"] == "LEFT_SCOPE"]
            assert lines[: len(tombstones)] == tombstones, "the tombstones come first"
            assert all(c["object"] is None for c in tombstones)
            expected = set()
            with db.connect() as conn:
                for table, type_name, paths in (
                    ("child", "Student", ("school_path", "household_path", "residence_path")),
                    ("ledger_entry", "LedgerEntry", ENTRY_PATHS),
                    ("report", "Report", ("unit_path",)),
                ):
                    for (row,) in conn.execute(text(f"SELECT to_jsonb(t) FROM {table} t")):  # noqa: S608 (fixed names)
                        held = [row[p] for p in paths]
                        if in_county(held) and not any(p is not None and within(p, YUANMOU) for p in held):
                            expected.add(base64.b64encode(f"{type_name}:{row['id']}".encode()).decode())
            assert {c["objectId"] for c in tombstones} == expected
            assert len(tombstones) == len(expected), "each once"
            assert {"STUDENT", "LEDGER_ENTRY"} <= {c["type"] for c in tombstones}  # the demo has no report of 武定县
            # The same through GraphQL `changes`, as a client's codegen would page it.
            query = """query($after: String) { changes(after: $after, first: 100) {
              edges { node { objectId type operation object } } pageInfo { hasNextPage endCursor } } }"""
            nodes: list[dict[str, Any]] = []
            gql_after: str | None = cursor
            while True:
                result = await gql(narrow, query, {"after": gql_after}, token=headers["Authorization"][7:])
                assert "errors" not in result, result
                nodes += [e["node"] for e in result["data"]["changes"]["edges"]]
                gql_after = result["data"]["changes"]["pageInfo"]["endCursor"]
                if not result["data"]["changes"]["pageInfo"]["hasNextPage"]:
                    break
            assert [(n["objectId"], n["operation"]) for n in nodes] == [(c["objectId"], c["operation"]) for c in lines]
            rest = lines[len(tombstones) :]
            assert [(c["objectId"], c["operation"]) for c in rest] == [
                (base64.b64encode(f"Student:{own}".encode()).decode(), "UPDATE")
            ]
            # The cursor is its holder's: 武定县's own integrator cannot follow it.
            other = await narrow.get(
                "/exports/changes", params={"after": cursor}, headers=await sign_in(narrow, INTEGRATOR)
            )
            assert other.status_code == 410
            assert other.json()["code"] == "SCOPE_CHANGED"
            # Nor can one be made up from the old grants' mark and a newer change: it would show today what the
            # old grants showed (ids and versions of rows no longer in scope).
            wide_mark = decode_cursor(cursor)
            latest = decode_cursor((await page(narrow, headers, after="latest"))[1].headers["X-Next-Cursor"])
            assert wide_mark is not None
            assert latest is not None
            forged = encode_cursor(latest.seq, wide_mark.mark)
            made_up = await narrow.get("/exports/changes", params={"after": forged}, headers=headers)
            assert made_up.status_code == 410
            assert made_up.json()["code"] == "SCOPE_CHANGED"
        await asyncio.to_thread(
            main, ["grant", "create", NEIGHBOUR, "INTEGRATOR", "532329", "--reason", "再借调 / again"]
        )
        async with app_client(feed_url) as widened:
            refused = await widened.get(
                "/exports/changes", params={"after": after}, headers=await sign_in(widened, NEIGHBOUR)
            )
            assert refused.status_code == 410, "rows newly in scope were never sent: export again"
            assert refused.json()["code"] == "SCOPE_CHANGED"
    finally:
        with db.begin() as conn:
            conn.execute(
                text(
                    "UPDATE role_grant SET revoked_at = now(), revoked_by = 'test' WHERE revoked_at IS NULL"
                    " AND scope_path = :p AND account_id = (SELECT id FROM account WHERE username = :u)"
                ),
                {"p": WUDING, "u": NEIGHBOUR},
            )
