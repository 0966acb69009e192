"""Property-based fuzzing of the whole schema (issue 13 §4): generated queries and mutations, hostile values.

hypothesis-graphql builds valid operations from the schema; our scalar strategies fill them with NUL bytes,
over-long strings, extreme numbers and dates, naive datetimes and malformed global IDs. Each operation runs
over real HTTP through the ASGI app against the demo data, as several roles and as an anonymous caller,
inside a transaction that is rolled back afterwards (mutations included). An answer fails the test when it
is a 5xx, carries an error without `extensions.code` or with INTERNAL_SERVER_ERROR, or when anything logged
a traceback.

Bounded for CI: FUZZ_EXAMPLES examples per role (default 30, under two minutes in all), with a fixed seed per
role so that a commit is green or red for good. A longer, random local run:

    FUZZ_EXAMPLES=2000 FUZZ_RANDOM=1 TEST_DATABASE_URL=… uv run pytest -n 0 -s tests/test_fuzz.py
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import re
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from hypothesis_graphql import from_schema
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from baoxue.app import create_app
from datagen.demo.places import SCHOOLS
from datagen.demo.seed import DEMO_PASSWORD
from schema.root import schema as dev_schema
from tests.conftest import make_settings

# Failures that belong to the generic input-bounds work (issue 13 §1 bullets 1–5, another branch) and to
# the query-limit codes (§3). The fuzzer reports them in its summary but does not fail on them. Empty this
# once those land: every signature left here is a known hole.
PENDING_INPUT_BOUNDS: tuple[str, ...] = ()  # emptied: the input bounds landed (schema/inputs.py)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
GRANT_CHANGES = ("grantRole", "revokeGrant", "disableAccount")
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"

WUDING = "532329"
SCHOOL = next(s.code for s in SCHOOLS if s.region_code.startswith(WUDING))
ROLES = [
    f"edu-school-{SCHOOL}",
    f"edu-county-{WUDING}",
    f"gov-county-{WUDING}",
    f"admin-county-{WUDING}",
    "edu-city-5323",
    "edu-province-53",
    None,  # anonymous
]

NODE_TYPES = [
    "Region",
    "School",
    "Student",
    "LedgerEntry",
    "DeferralRequest",
    "PersuasionVisit",
    "Handover",
    "Account",
    "Grant",
    "AuditEntry",
    "Report",
    "TermVisit",
    "RosterImport",
    "RosterRow",
]


# --- hostile scalar values ----------------------------------------------------------------------------

HOSTILE_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "x" * 300,
    "长" * 5000,
    "53",
    WUDING,
    SCHOOL,
    "'; DROP TABLE child; --",
    "\u202e\ufeff",
    "🙂" * 70,
]


def _string(value: str) -> graphql.StringValueNode:
    return graphql.StringValueNode(value=value)


strings = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=80), st.text(min_size=250, max_size=600)).map(
    _string
)


def _gid(type_name: str, node_id: str) -> str:
    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


node_ids = st.one_of(
    st.integers(min_value=-1, max_value=2**70).map(str),
    st.sampled_from(["53", "5323", WUDING, SCHOOL, "1", "2", "0", "", "\x00", "9" * 19]),
    st.text(max_size=30),
)
ids = st.one_of(
    st.builds(_gid, st.sampled_from(NODE_TYPES), node_ids),
    st.sampled_from(["", "%%%", "not base64!", "QQ==", base64.b64encode(b"\xff\xfe").decode(), "Og=="]),
    st.text(max_size=40),
).map(_string)

ints = st.one_of(
    st.sampled_from([0, 1, -1, 2**31 - 1, -(2**31), 100, 101, 1000, 999999]),
    st.integers(min_value=-(2**31), max_value=2**31 - 1),
).map(lambda n: graphql.IntValueNode(value=str(n)))

dates = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    st.sampled_from([date(1900, 1, 1), date(2026, 9, 1), date(9999, 12, 31), date(1, 1, 1)]),
).map(lambda d: _string(d.isoformat()))

zones = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-12)), None])
datetimes = st.builds(
    lambda moment, zone: moment.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),  # noqa: DTZ001
    zones,
).map(lambda d: _string(d.isoformat()))

SCALARS = {"String": strings, "ID": ids, "Int": ints, "Date": dates, "DateTime": datetimes}

operations = from_schema(dev_schema._schema, custom_scalars=SCALARS)


# --- what counts as a failure -----------------------------------------------------------------------


@dataclass
class Findings:
    """Failures by signature, each with the shortest operation that showed it."""

    failing: dict[str, str] = field(default_factory=dict)
    pending: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    answered: int = 0

    def add(self, signature: str, operation: str) -> None:
        signature = re.sub(r"\s+", " ", signature)[:300]
        pending = any(p.lower() in signature.lower() for p in PENDING_INPUT_BOUNDS)
        target = self.pending if pending else self.failing
        key = next((p for p in PENDING_INPUT_BOUNDS if p.lower() in signature.lower()), signature)
        self.counts[key] += 1
        if key not in target or len(operation) < len(target[key]):
            target[key] = operation

    def summary(self, role: str | None) -> str:
        lines = [f"fuzz as {role or 'anonymous'}: {self.answered} operations"]
        for title, found in (("FAILING", self.failing), ("pending (PENDING_INPUT_BOUNDS)", self.pending)):
            for key, operation in sorted(found.items()):
                lines.append(f"  {title} ×{self.counts[key]}: {key}\n      e.g. {operation[:500]}")
        return "\n".join(lines)


class Tracebacks(logging.Handler):
    """Every logged error or exception, while the fuzzer runs."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f": {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        self.records.append(text)


def judge(response: httpx.Response, logged: list[str], operation: str, findings: Findings) -> None:
    findings.answered += 1
    for record in logged:
        findings.add(f"logged: {record}", operation)
    if response.status_code >= 500:
        findings.add(f"HTTP {response.status_code}: {response.text[:200]}", operation)
        return
    try:
        body = response.json()
    except ValueError:
        findings.add(f"HTTP {response.status_code} not JSON: {response.text[:200]}", operation)
        return
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code is None:
            findings.add(f"no extensions.code: {error.get('message')}", operation)
        elif code == "INTERNAL_SERVER_ERROR":
            findings.add(f"INTERNAL_SERVER_ERROR: {error.get('message')}", operation)


# --- the runs -----------------------------------------------------------------------------------------


class Target:
    """The app over one rolled-back transaction per operation, signed in as one role."""

    def __init__(self, database_url: str, role: str | None) -> None:
        self.engine = create_async_engine(database_url, poolclass=NullPool)
        self.sessions = async_sessionmaker(expire_on_commit=False, join_transaction_mode="create_savepoint")
        app = create_app(make_settings(), sessions=self.sessions)
        self.view = next(r.endpoint for r in app.routes if getattr(r, "path", None) == "/graphql")
        self.transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=("10.0.0.7", 1))
        self.role = role
        self.headers: dict[str, str] = {}

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """One request, rolled back after."""
        async with self.engine.connect() as conn:
            outer = await conn.begin()
            self.sessions.configure(bind=conn)
            try:
                async with httpx.AsyncClient(transport=self.transport, base_url="http://fuzz.test") as c:
                    return await c.post(path, headers=self.headers, **kwargs)
            finally:
                await outer.rollback()
                if any(name in str(kwargs) for name in GRANT_CHANGES):
                    # The in-memory authorizer took a grant change that the database has rolled back.
                    self.view.authz.current = None

    async def sign_in(self) -> None:
        if self.role is None:
            return
        response = await self.post("/auth/token", data={"username": self.role, "password": DEMO_PASSWORD})
        assert response.status_code == 200, response.text
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.mark.parametrize("role", ROLES, ids=[r or "anonymous" for r in ROLES])
def test_generated_operations_never_reach_an_internal_error(database_url, role):
    target = Target(database_url, role)
    findings = Findings()
    tracebacks = Tracebacks()
    root = logging.getLogger()
    root.addHandler(tracebacks)
    with asyncio.Runner() as runner:
        runner.run(target.sign_in())

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
        )
        @given(operation=operations)
        def run(operation: str) -> None:
            tracebacks.records.clear()
            response = runner.run(target.post("/graphql", json={"query": operation}))
            judge(response, list(tracebacks.records), operation, findings)

        if not RANDOM:  # a fixed seed per role: each role meets other operations, the same ones every run
            run = seed(zlib.crc32((role or "anonymous").encode()))(run)
        try:
            run()
        finally:
            root.removeHandler(tracebacks)
            runner.run(target.engine.dispose())
    print(findings.summary(role))
    assert not findings.failing, findings.summary(role)
