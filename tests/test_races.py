"""Writers racing through a real server process (ARCHITECTURE §12): one winner, typed losers.

Concurrent clients send the same write at once to `python -m baoxue serve` on a database of its own:
the first case plan, an entry for one child, attendance batches with the rule sweep, a grant, a
revocation. Each race ends with exactly one winner, every loser answered with its typed code, no
duplicate row, every acknowledged write stored, and no internal error in any answer or the server log.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from datagen.demo.seed import DEMO_PASSWORD
from models.base import today
from models.school_calendar import national_working_day
from tests.conftest import Databases, gql
from tests.ledger_support import (
    ATTENDANCE,
    COUNTY_EDU,
    OPEN_ENTRY,
    RULES,
    STAFF,
    WUDING,
    WUDING_PRIMARY,
    make_student,
    raw_id,
)
from tests.persuasion_support import COUNTY_GOV, DECIDE, PLAN, joint_visits, new_case, request_deferral
from tests.test_grant_sync import GRANT, REVOKE, Server, _environment
from tests.test_school_calendar import SET_CALENDAR

ADMINS = ("admin-county-532329", "admin-city-5323", "admin-province-53")
NEIGHBOUR_ADMIN = "admin-county-532328"  # 元谋县: may not touch 武定's grants


class Served:
    """The server process, its database (read directly to check what was stored) and sign-ins."""

    def __init__(self, server: Server, database_url: str) -> None:
        self.server = server
        self.db: Engine = create_engine(database_url, poolclass=NullPool)
        self.tokens: dict[str, str] = {}

    def client(self) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=40, max_keepalive_connections=40)
        return httpx.AsyncClient(base_url=self.server.base, timeout=60, limits=limits)

    async def token(self, client: httpx.AsyncClient, username: str) -> str:
        if username not in self.tokens:
            response = await client.post("/auth/token", data={"username": username, "password": DEMO_PASSWORD})
            assert response.status_code == 200, response.text
            self.tokens[username] = str(response.json()["access_token"])
        return self.tokens[username]

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.db.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.db.connect() as conn:
            return list(conn.execute(text(sql), params).all())


@pytest.fixture(scope="module")
def served(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_demo(databases, tmp_path_factory, "races")


def serve_demo(databases: Databases, tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Served]:
    """A server process on a demo database of its own (`name`); its log must hold no traceback at the end."""
    url = databases.create_demo(name)
    log_dir: Path = tmp_path_factory.mktemp(name)
    server = Server(name, _environment(url, log_dir), log_dir)
    served = Served(server, url)
    try:
        server.wait_ready(time.monotonic() + 120)  # a loaded CI machine starts slowly
        yield served
    finally:
        server.stop()
        served.db.dispose()
    assert "Traceback" not in server.log_path.read_text(encoding="utf-8", errors="replace"), server.log_tail()


def internal_errors(results: list[dict[str, Any]]) -> list[Any]:
    """Every error in the answers that is not a typed refusal (a database error surfacing)."""
    return [e for r in results for e in r.get("errors") or [] if e.get("extensions", {}).get("code") != "FORBIDDEN"]


def outcome(results: list[dict[str, Any]], field: str) -> tuple[int, list[str]]:
    """(how many succeeded, the codes of the rest) of one mutation sent many times."""
    payloads = [r["data"][field] for r in results]
    won = sum(1 for p in payloads if p["errors"] == [])
    return won, sorted(e["code"] for p in payloads for e in p["errors"])


async def at_once(client: httpx.AsyncClient, token: str, query: str, inputs: list[dict[str, Any]]) -> list[Any]:
    return list(await asyncio.gather(*(gql(client, query, {"input": i}, token) for i in inputs)))


async def test_twenty_first_case_plans_at_once_create_one_and_the_rest_conflict(served: Served) -> None:
    async with served.client() as client:
        county = await served.token(client, COUNTY_EDU)
        student = (await make_student(client, county))["id"]
        plan = {"studentId": student, "responsibleEdu": "李校长", "responsibleGov": "王乡长", "steps": []}
        results = await at_once(client, county, PLAN, [{**plan, "goal": f"返校 {n}"} for n in range(20)])
    assert internal_errors(results) == []
    assert outcome(results, "setCasePlan") == (1, ["CONFLICT"] * 19)
    assert served.scalar("SELECT count(*) FROM case_plan WHERE child_id = :c", c=raw_id(student)) == 1
    assert served.scalar("SELECT version FROM case_plan WHERE child_id = :c", c=raw_id(student)) == 1


async def test_twenty_entries_opened_at_once_for_one_child_leave_one_open(served: Served) -> None:
    async with served.client() as client:
        county = await served.token(client, COUNTY_EDU)
        student = (await make_student(client, county))["id"]
        entry = {"studentId": student, "ledger": "SUSPECTED", "source": "DOOR_TO_DOOR", "openedOn": str(today())}
        results = await at_once(client, county, OPEN_ENTRY, [entry] * 20)
    assert internal_errors(results) == []
    assert outcome(results, "openLedgerEntry") == (1, ["ALREADY_ON_LEDGER"] * 19)
    assert served.scalar("SELECT count(*) FROM ledger_entry WHERE child_id = :c", c=raw_id(student)) == 1


def school_days_before(end: date, count: int) -> list[date]:
    days: list[date] = []
    day = end
    while len(days) < count:
        day -= timedelta(days=1)
        if national_working_day(day):  # a school day where no calendar is kept (models/school_calendar.py)
            days.append(day)
    return sorted(days)


async def test_attendance_batches_and_sweeps_at_once_keep_every_mark_and_open_one_entry_each(served: Served) -> None:
    """Batches naming the same children in opposite orders, sweeps of the county running alongside:
    every acknowledged mark is stored, each child ends with one open entry, no deadlock reaches anyone."""
    async with served.client() as client:
        county, staff = await served.token(client, COUNTY_EDU), await served.token(client, STAFF)
        students = [(await make_student(client, county, grade=5))["id"] for _ in range(6)]
        days = school_days_before(today(), 12)  # absent 12 school days: more than a week, so suspected
        batches = []
        excused = {(students[0], days[0]), (students[1], days[-1])}  # the same in both orders of a day
        for day in days:
            for order in (students, students[::-1]):
                absences = [
                    {"studentId": s, "leave": {"reason": "FAMILY"} if (s, day) in excused else None} for s in order
                ]
                batches.append((ATTENDANCE, {"day": str(day), "absences": absences}, staff))
        for _ in range(4):
            batches.append((RULES, {"asOf": str(today())}, county))
        tasks = [gql(client, query, {"input": data}, token) for query, data, token in batches]
        results = list(await asyncio.gather(*tasks))
    assert internal_errors(results) == []
    for result, (query, data, _) in zip(results, batches, strict=True):
        name = "recordAttendance" if query is ATTENDANCE else "runLedgerRules"
        assert result["data"][name]["errors"] == [], result
        if name == "recordAttendance":
            assert result["data"][name]["recorded"] == len(data["absences"])
    children = [raw_id(s) for s in students]
    stored = served.rows("SELECT child_id, day, mark FROM attendance_mark WHERE child_id = ANY(:c)", c=children)
    expected = {(raw_id(s), d, "EXCUSED" if (s, d) in excused else "ABSENT") for s in students for d in days}
    assert sorted(stored) == sorted(expected)
    open_entries = served.rows(
        "SELECT child_id, count(*) FROM ledger_entry WHERE child_id = ANY(:c) AND status <> 'CLOSED' GROUP BY 1",
        c=children,
    )
    assert sorted(open_entries) == sorted((c, 1) for c in children)
    # The kept counts agree with the entries (the trigger of migration 0005 ran once per change).
    mismatch = served.rows(
        """SELECT county_path, ledger, status, stage, category FROM ledger_count c FULL JOIN (
             SELECT responsible_path AS county_path, ledger, status, stage, coalesce(category, '') AS category,
                    count(*) AS entries FROM ledger_entry WHERE status <> 'CLOSED' GROUP BY 1, 2, 3, 4, 5) e
           USING (county_path, ledger, status, stage, category)
           WHERE coalesce(c.entries, 0) <> coalesce(e.entries, 0)"""
    )
    assert mismatch == []


async def new_account(client: httpx.AsyncClient, admin: str, username: str) -> None:
    create = """mutation($input: CreateAccountInput!) { createAccount(input: $input) { errors { code } } }"""
    account = {"username": username, "displayName": "并发测试", "jurisdictionCode": "532329", "password": "a-pass-1234"}
    result = await gql(client, create, {"input": account}, admin)
    assert result["data"]["createAccount"]["errors"] == [], result


async def test_twenty_calendar_saves_at_once_keep_one_and_the_rest_conflict(served: Served) -> None:
    """Issue 14 §1: a county's calendar of a year, saved by twenty clients from the same read (version 0, then 1):
    one wins each round, the rest are CONFLICT, and the stored days are exactly the winner's."""
    async with served.client() as client:
        county = await served.token(client, COUNTY_EDU)
        for version in (0, 1):
            inputs = [
                {"regionCode": "532329", "year": 2025, "version": version, "daysOff": [{"day": f"2025-11-{n + 3:02d}"}]}
                for n in range(20)
            ]
            results = await at_once(client, county, SET_CALENDAR, inputs)
            assert internal_errors(results) == []
            assert outcome(results, "setSchoolCalendar") == (1, ["CONFLICT"] * 19)
            [won] = [
                r["data"]["setSchoolCalendar"]["calendar"]
                for r in results
                if r["data"]["setSchoolCalendar"]["calendar"]
            ]
            assert won["version"] == version + 1
            stored = served.rows("SELECT day FROM school_calendar_day WHERE region_path = '53/5323/532329'")
            assert [str(d) for (d,) in stored] == [d["day"] for d in won["days"] if d["source"] == "COUNTY"]
            assert len(stored) == 1
    assert served.scalar("SELECT version FROM school_calendar WHERE region_path = '53/5323/532329'") == 2


async def test_ten_admins_granting_one_role_at_once_make_one_grant(served: Served) -> None:
    async with served.client() as client:
        tokens = [await served.token(client, a) for a in ADMINS]
        await new_account(client, tokens[0], "race-grantee-1")
        grant = {"username": "race-grantee-1", "role": "SCHOOL_STAFF", "jurisdictionCode": WUDING_PRIMARY}
        tasks = [gql(client, GRANT, {"input": {**grant, "reason": f"第{n}位"}}, tokens[n % 3]) for n in range(10)]
        results = list(await asyncio.gather(*tasks))
    assert internal_errors(results) == []
    assert outcome(results, "grantRole") == (1, ["DUPLICATE"] * 9)
    live = """SELECT count(*) FROM role_grant g JOIN account a ON a.id = g.account_id
              WHERE a.username = :u AND g.revoked_at IS NULL"""
    assert served.scalar(live, u="race-grantee-1") == 1
    assert served.scalar("SELECT count(*) FROM audit_log WHERE action = 'grant.create' AND reason LIKE '第%'") == 1


async def test_a_grant_again_after_expiry_replaces_the_expired_one_once(served: Served) -> None:
    """An expired grant that nobody revoked does not block the role being granted again: the new grant
    ends it (marked revoked, with the reason), and ten admins at once still make one."""
    async with served.client() as client:
        tokens = [await served.token(client, a) for a in ADMINS]
        await new_account(client, tokens[0], "race-grantee-2")
        grant = {"username": "race-grantee-2", "role": "SCHOOL_STAFF", "jurisdictionCode": WUDING_PRIMARY}
        first = await gql(client, GRANT, {"input": {**grant, "reason": "首次"}}, tokens[0])
        old = raw_id(first["data"]["grantRole"]["grant"]["id"])
        with served.db.begin() as conn:
            conn.execute(text("UPDATE role_grant SET expires_at = now() - interval '1 day' WHERE id = :g"), {"g": old})
        tasks = [gql(client, GRANT, {"input": {**grant, "reason": f"续期{n}"}}, tokens[n % 3]) for n in range(10)]
        results = list(await asyncio.gather(*tasks))
    assert internal_errors(results) == []
    assert outcome(results, "grantRole") == (1, ["DUPLICATE"] * 9)
    rows = served.rows(
        """SELECT g.id, g.revoked_at IS NULL FROM role_grant g JOIN account a ON a.id = g.account_id
           WHERE a.username = 'race-grantee-2' ORDER BY g.id"""
    )
    assert [live for _, live in rows] == [False, True]
    assert rows[0][0] == old


async def test_ten_admins_revoking_one_grant_at_once_revoke_it_once(served: Served) -> None:
    async with served.client() as client:
        tokens = [await served.token(client, a) for a in ADMINS]
        await new_account(client, tokens[0], "race-grantee-3")
        grant = {"username": "race-grantee-3", "role": "SCHOOL_STAFF", "jurisdictionCode": WUDING_PRIMARY}
        made = await gql(client, GRANT, {"input": {**grant, "reason": "任职"}}, tokens[0])
        grant_id = made["data"]["grantRole"]["grant"]["id"]
        neighbour = await served.token(client, NEIGHBOUR_ADMIN)
        refused = await gql(client, REVOKE, {"input": {"grantId": grant_id, "reason": "越权"}}, neighbour)
        assert [e["code"] for e in refused["data"]["revokeGrant"]["errors"]] == ["NOT_FOUND"]
        revoke = [{"grantId": grant_id, "reason": f"离任{n}"} for n in range(10)]
        tasks = [gql(client, REVOKE, {"input": r}, tokens[n % 3]) for n, r in enumerate(revoke)]
        results = list(await asyncio.gather(*tasks))
    assert internal_errors(results) == []
    assert outcome(results, "revokeGrant") == (1, ["ALREADY_REVOKED"] * 9)
    audits = "SELECT count(*) FROM audit_log WHERE action = 'grant.revoke' AND target_id = :g"
    assert served.scalar(audits, g=str(raw_id(grant_id))) == 1


async def test_two_members_of_the_leading_group_deciding_one_deferral_at_once_make_one_decision(
    served: Served,
) -> None:
    """Seed 001 二2 (经县级…领导小组核实同意): two county-government accounts decide the bureau's proposal at
    the same moment, one approving and one rejecting. Each time one decision stands, the other is told
    ALREADY_DECIDED, the entry follows the winner (DEFERRED and P only when approved), one audit row each."""
    async with served.client() as client:
        admin = await served.token(client, ADMINS[0])
        await new_account(client, admin, "race-leading-group")
        member = {"username": "race-leading-group", "role": "COUNTY_GOV", "jurisdictionCode": WUDING}
        granted = await gql(client, GRANT, {"input": {**member, "reason": "县领导小组成员"}}, admin)
        assert granted["data"]["grantRole"]["errors"] == [], granted
        signed = await client.post("/auth/token", data={"username": "race-leading-group", "password": "a-pass-1234"})
        deciders = [await served.token(client, COUNTY_GOV), str(signed.json()["access_token"])]
        county = await served.token(client, COUNTY_EDU)
        requests = []
        for _ in range(4):
            entry = await new_case(client, county)
            visits = await joint_visits(client, county, entry, ["2026-09-10", "2026-09-20", "2026-09-30"])
            proposed = await request_deferral(client, county, entry, "JOINT_VISITS", statement_visit=visits[-1])
            assert proposed["errors"] == [], proposed
            requests.append(proposed["deferral"]["id"])
        for n, deferral_id in enumerate(requests):
            approve, reject = (0, 1) if n % 2 == 0 else (1, 0)
            decisions = {
                approve: {"deferralId": deferral_id, "approve": True, "note": "同意"},
                reject: {"deferralId": deferral_id, "approve": False, "note": "监护人未履行义务"},
            }
            results = list(
                await asyncio.gather(*(gql(client, DECIDE, {"input": decisions[i]}, deciders[i]) for i in (0, 1)))
            )
            assert internal_errors(results) == []
            assert outcome(results, "decideDeferral") == (1, ["ALREADY_DECIDED"])
            [winner] = [p for p in (r["data"]["decideDeferral"] for r in results) if p["errors"] == []]
            number = raw_id(deferral_id)
            status = served.scalar("SELECT status FROM deferral_request WHERE id = :d", d=number)
            assert status == winner["deferral"]["status"]
            entry_status, category = served.rows(
                "SELECT e.status, e.category FROM ledger_entry e JOIN deferral_request d ON d.entry_id = e.id "
                "WHERE d.id = :d",
                d=number,
            )[0]
            assert (entry_status, category) == (("DEFERRED", "P") if status == "APPROVED" else ("OPEN", None))
            audits = """SELECT count(*) FROM audit_log WHERE action = 'ledger.decide_deferral'
                        AND summary->>'request' = :d"""
            assert served.scalar(audits, d=str(number)) == 1
