"""The compiled path (issue 18 §2) against the normal path, through real HTTP on the ASGI app.

Differential: operations generated over every field the compiler knows (`students`, `ledgerEntries` and
`node` on Student and LedgerEntry: random subsets, aliases, named and inline fragments, filters as
literals or variables, `first`, `after` from a real page), run as every demo account by both apps on the
same transaction, one with `compiled_reads` and one without: the answers are equal after key ordering
(data and errors alike), the compiled path answered exactly when the normal path had no refusal, and
both wrote the same personal-data audit rows.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from baoxue.app import create_app
from datagen.demo.places import PROVINCES, SCHOOLS, walk
from datagen.demo.seed import demo_accounts
from models import AuditLog, Child, LedgerEntry
from schema.compiled import OPERATIONS
from tests.conftest import make_settings, token_for
from tests.report_support import COUNTY_EDU, PRINCIPAL, STAFF, draft_school, review, submit, submitted_march

ACCOUNTS = [a.username for a in demo_accounts()]
OPERATIONS_PER_ACCOUNT = 1  # of each kind: with the reports' own test, ~7 operations an account
# One account of each role, with many more operations each.
THOROUGH = [
    "edu-nation-CN",
    "edu-province-53",
    "gov-province-22",
    "edu-city-5323",
    "gov-city-6404",
    "edu-county-532329",
    "gov-county-532329",
    "integrator-county-532329",
    "supervisor-city-5323",
    "gov-township-532329101",
    "edu-school-2153000001",
    "staff-school-2164000001",
]
THOROUGH_OPERATIONS = 12

STUDENT_SCALARS = [
    "id",
    "__typename",
    "name",
    "gender",
    "birthDate",
    "grade",
    "stage",
    "specialGroups",
    "disabilityCategory",
    "disabilityGrade",
    "version",
    "noHouseholdReason",
    "noIdReason",
    "nationalId",
    "registryNumber",
]
SCHOOL_FIELDS = ["id", "__typename", "code", "name", "kind", "stages"]
ENTRY_FIELDS = [
    "id",
    "__typename",
    "ledger",
    "status",
    "source",
    "category",
    "stage",
    "grade",
    "schoolCode",
    "openedOn",
    "openedBy",
    "note",
    "isRelapse",
    "lastVisitOn",
    "returnedOn",
    "version",
]
PAGE_INFO = ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"]
REGIONS = [place.code for place, _ in walk(PROVINCES)]
SCHOOL_CODES = [school.code for school in SCHOOLS]
STAGES = ["PRIMARY", "JUNIOR"]
SPECIAL_GROUPS = ["LEFT_BEHIND", "MIGRANT", "DISABLED", "POVERTY_REGISTERED"]

COUNTY_PAGE = """query($r: String!) { students(filter: {regionCode: $r}, first: 50) { totalCount edges { cursor node {
  id name gender birthDate grade stage specialGroups school { code name }
  currentEntry { id ledger status category openedOn lastVisitOn } } } } }"""


# -- generating operations ------------------------------------------------------------------------------


class Aliases:
    """Hands out at most a few aliases per operation (the limits allow 15)."""

    def __init__(self, rng: random.Random, budget: int = 4) -> None:
        self.rng, self.budget, self.n = rng, budget, 0

    def key(self, name: str) -> str:
        if self.budget and name != "__typename" and self.rng.random() < 0.12:
            self.budget -= 1
            self.n += 1
            return f"a{self.n}_{name}: {name}"
        return name


def subset(rng: random.Random, names: list[str], at_least: int = 1) -> list[str]:
    picked = [n for n in names if rng.random() < 0.5]
    return picked if len(picked) >= at_least else rng.sample(names, at_least)


def student_selection(rng: random.Random, aliases: Aliases) -> tuple[str, list[str]]:
    """A Student selection and the fragments it spreads (some fields twice, to be merged)."""
    parts = [aliases.key(n) for n in subset(rng, STUDENT_SCALARS)]
    if rng.random() < 0.6:
        parts.append(f"{aliases.key('school')} {{ {' '.join(subset(rng, SCHOOL_FIELDS))} }}")
    if rng.random() < 0.6:
        parts.append(f"{aliases.key('currentEntry')} {{ {' '.join(subset(rng, ENTRY_FIELDS))} }}")
    rng.shuffle(parts)
    fragments: list[str] = []
    shape = rng.random()
    if shape < 0.25 and len(parts) > 1:
        cut = rng.randrange(1, len(parts))
        fragments.append(f"fragment S on Student {{ {' '.join(parts[:cut])} }}")
        parts = [*parts[cut - 1 : cut], "...S", *parts[cut:]]  # one field both here and in the fragment
    elif shape < 0.5 and len(parts) > 1:
        cut = rng.randrange(1, len(parts))
        parts = [*parts[:cut], f"... on Student {{ {' '.join(parts[cut - 1 :])} }}"]
    elif shape < 0.6:
        parts = [f"... {{ {' '.join(parts)} }}"]
    return " ".join(parts), fragments


def operation(rng: random.Random, after: str | None) -> tuple[str, dict[str, Any]]:
    """One `students` query: filter, `first` and `after` as literals or variables, a random selection."""
    aliases = Aliases(rng)
    node, fragments = student_selection(rng, aliases)
    connection = []
    if rng.random() < 0.7:
        connection.append(aliases.key("totalCount"))
    if rng.random() < 0.9:
        cursor = "cursor " if rng.random() < 0.6 else ""
        connection.append(f"{aliases.key('edges')} {{ {cursor}node {{ {node} }} }}")
    if rng.random() < 0.5:
        connection.append(f"pageInfo {{ {' '.join(subset(rng, PAGE_INFO))} }}")
    if rng.random() < 0.2 or not connection:
        connection.append("__typename")
    rng.shuffle(connection)

    filter_fields: dict[str, Any] = {}
    if rng.random() < 0.5:
        filter_fields["regionCode"] = rng.choice(REGIONS)
    if rng.random() < 0.15:
        filter_fields["schoolCode"] = rng.choice(SCHOOL_CODES)
    if rng.random() < 0.2:
        filter_fields["enrolled"] = rng.random() < 0.5
    if rng.random() < 0.2:
        filter_fields["stage"] = rng.choice(STAGES)
    if rng.random() < 0.15:
        filter_fields["specialGroup"] = rng.choice(SPECIAL_GROUPS)
    first = rng.choice([None, 0, 1, 3, 7, 20, 50, 100])

    variables: dict[str, Any] = {}
    definitions: list[str] = []
    arguments: list[str] = []
    if filter_fields or rng.random() < 0.2:
        if rng.random() < 0.5:
            variables["f"] = filter_fields
            definitions.append("$f: StudentFilter")
            arguments.append("filter: $f")
        else:
            literal = ", ".join(
                f"{k}: {json.dumps(v) if k not in ('stage', 'specialGroup') else v}" for k, v in filter_fields.items()
            )
            arguments.append(f"filter: {{{literal}}}")
    if first is not None:
        if rng.random() < 0.5:
            variables["n"] = first
            definitions.append("$n: Int")
            arguments.append("first: $n")
        else:
            arguments.append(f"first: {first}")
    if after is not None:
        variables["a"] = after
        definitions.append("$a: String")
        arguments.append("after: $a")
    head = f"query Students({', '.join(definitions)})" if definitions else "query Students"
    args = f"({', '.join(arguments)})" if arguments else ""
    root = aliases.key("students")
    document = f"{head} {{ {root}{args} {{ {' '.join(connection)} }} }}"
    return "\n".join([document, *fragments]), variables


def entry_selection(rng: random.Random, aliases: Aliases) -> tuple[str, list[str]]:
    """A LedgerEntry selection, its student's (no `currentEntry`) sometimes in a fragment."""
    parts = [aliases.key(n) for n in subset(rng, ENTRY_FIELDS)]
    fragments: list[str] = []
    if rng.random() < 0.7:
        student = [aliases.key(n) for n in subset(rng, STUDENT_SCALARS)]
        if rng.random() < 0.4:
            student.append(f"school {{ {' '.join(subset(rng, SCHOOL_FIELDS))} }}")
        if rng.random() < 0.3:
            fragments.append(f"fragment P on Student {{ {' '.join(student)} }}")
            student = ["...P"]
        parts.append(f"{aliases.key('student')} {{ {' '.join(student)} }}")
    rng.shuffle(parts)
    if rng.random() < 0.25:
        fragments.append(f"fragment E on LedgerEntry {{ {' '.join(parts)} }}")
        parts = ["...E"]
    return " ".join(parts), fragments


def entries_operation(rng: random.Random, after: str | None) -> tuple[str, dict[str, Any]]:
    """One `ledgerEntries` query: a filter (as a variable), `first`, `after`, a random selection."""
    aliases = Aliases(rng)
    node, fragments = entry_selection(rng, aliases)
    connection = [f"edges {{ {'cursor ' if rng.random() < 0.5 else ''}node {{ {node} }} }}"]
    if rng.random() < 0.6:
        connection.append("totalCount")
    if rng.random() < 0.4:
        connection.append(f"pageInfo {{ {' '.join(subset(rng, PAGE_INFO))} }}")
    rng.shuffle(connection)
    f: dict[str, Any] = {}
    if rng.random() < 0.3:
        f["ledger"] = rng.choice(["SUSPECTED", "DROPOUT"])
    if rng.random() < 0.3:
        f["status"] = rng.sample(["OPEN", "RETURNED", "DEFERRED", "TRANSFERRED", "CLOSED"], rng.randint(1, 3))
    if rng.random() < 0.2:
        f["regionCode"] = rng.choice(REGIONS)
    if rng.random() < 0.15:
        f["stage"] = rng.choice(STAGES)
    if rng.random() < 0.1:
        f["noVisitForDays"] = rng.choice([0, 7, 30])
    if rng.random() < 0.1:
        f["missingCategory"] = rng.random() < 0.5
    variables: dict[str, Any] = {"f": f, "n": rng.choice([1, 5, 20, 100])}
    arguments = ["filter: $f", "first: $n"]
    definitions = ["$f: LedgerEntryFilter", "$n: Int"]
    if after is not None:
        variables["a"] = after
        definitions.append("$a: String")
        arguments.append("after: $a")
    head = f"query Entries({', '.join(definitions)})"
    document = f"{head} {{ ledgerEntries({', '.join(arguments)}) {{ {' '.join(connection)} }} }}"
    return "\n".join([document, *fragments]), variables


def node_operation(rng: random.Random, student_id: str) -> tuple[str, dict[str, Any]]:
    """One `node(id:)` query: a Student selection behind `... on Student`, a named fragment or none (the
    fields of Node), with a fragment on another type that must be left out."""
    aliases = Aliases(rng)
    inner, fragments = student_selection(rng, aliases)
    parts = [f"... on Student {{ {inner} }}"]
    if rng.random() < 0.4:
        parts.append(rng.choice(["id", "__typename", "... on Node { id }"]))
    if rng.random() < 0.3:
        parts.append("... on LedgerEntry { status }")
    if rng.random() < 0.3:
        fragments.append(f"fragment N on Student {{ {inner} }}")
        parts = [p if not p.startswith("... on Student") else "...N" for p in parts]
    rng.shuffle(parts)
    document = f"query Node($id: ID!) {{ {aliases.key('node')}(id: $id) {{ {' '.join(parts)} }} }}"
    return "\n".join([document, *fragments]), {"id": student_id}


def entry_node_operation(rng: random.Random, entry_id: str) -> tuple[str, dict[str, Any]]:
    aliases = Aliases(rng)
    inner, fragments = entry_selection(rng, aliases)
    parts = [f"... on LedgerEntry {{ {inner} }}", *(["id"] if rng.random() < 0.5 else [])]
    if rng.random() < 0.3:
        parts.append("... on Student { name }")
    rng.shuffle(parts)
    document = f"query Node($id: ID!) {{ node(id: $id) {{ {' '.join(parts)} }} }}"
    return "\n".join([document, *fragments]), {"id": entry_id}


SCHOOL_AGE_FIELDS = ["__typename", "age", "schoolingStatus"]
SCHOOL_YEARS = [None, 2024, 2025, 2026, 2027]


def school_age_operation(rng: random.Random, after: str | None) -> tuple[str, dict[str, Any]]:
    """One `schoolAgeChildren` query: a filter (as a variable), `first`, `after`, a random selection of the
    row (its student as in `students`, its entry, age and status) and of the connection (`cutoffDate`)."""
    aliases = Aliases(rng)
    parts = [aliases.key(n) for n in subset(rng, SCHOOL_AGE_FIELDS)]
    fragments: list[str] = []
    if rng.random() < 0.7:
        student, fragments = student_selection(rng, aliases)
        parts.append(f"{aliases.key('student')} {{ {student} }}")
    if rng.random() < 0.5:
        parts.append(f"{aliases.key('entry')} {{ {' '.join(subset(rng, ENTRY_FIELDS))} }}")
    rng.shuffle(parts)
    if rng.random() < 0.25:
        fragments.append(f"fragment C on SchoolAgeChild {{ {' '.join(parts)} }}")
        parts = ["...C"]
    connection = [f"edges {{ {'cursor ' if rng.random() < 0.5 else ''}node {{ {' '.join(parts)} }} }}"]
    for name, chance in (("totalCount", 0.5), ("cutoffDate", 0.5), ("__typename", 0.1)):
        if rng.random() < chance:
            connection.append(aliases.key(name))
    if rng.random() < 0.4:
        connection.append(f"pageInfo {{ {' '.join(subset(rng, PAGE_INFO))} }}")
    rng.shuffle(connection)
    f: dict[str, Any] = {}
    if (year := rng.choice(SCHOOL_YEARS)) is not None:
        f["schoolYear"] = year
    if rng.random() < 0.3:
        f["regionCode"] = rng.choice(REGIONS)
    if rng.random() < 0.2:
        f["enrolled"] = rng.random() < 0.5
    if rng.random() < 0.15:
        f["specialGroup"] = rng.choice(SPECIAL_GROUPS)
    variables: dict[str, Any] = {"f": f, "n": rng.choice([1, 5, 20, 100])}
    definitions, arguments = ["$f: SchoolAgeFilter", "$n: Int"], ["filter: $f", "first: $n"]
    if after is not None:
        variables["a"] = after
        definitions.append("$a: String")
        arguments.append("after: $a")
    root = aliases.key("schoolAgeChildren")
    document = (
        f"query SchoolAge({', '.join(definitions)}) {{ {root}({', '.join(arguments)}) {{ {' '.join(connection)} }} }}"
    )
    return "\n".join([document, *fragments]), variables


REPORT_FIELDS = [
    "id",
    "__typename",
    "level",
    "cadence",
    "period",
    "periodStart",
    "periodEnd",
    "dueOn",
    "unitCode",
    "unitName",
    "status",
    "firstSubmittedAt",
    "daysLate",
    "version",
    "locked",
    "late",
    "submittedBy",
    "submittedAt",
]
VERSION_FIELDS = [
    "id",
    "__typename",
    "number",
    "status",
    "asOf",
    "generatedBy",
    "generatedAt",
    "unitsExpected",
    "submittedBy",
    "submittedAt",
    "daysLate",
    "cosignedBy",
    "cosignedAt",
    "cosignNote",
    "reviewedBy",
    "reviewedAt",
    "decision",
    "reviewReasons",
    "returnedBy",
    "returnedAt",
    "returnReason",
]


def report_selection(rng: random.Random, aliases: Aliases) -> tuple[str, list[str]]:
    parts = [aliases.key(n) for n in subset(rng, REPORT_FIELDS)]
    if rng.random() < 0.5:
        parts.append(f"{aliases.key('current')} {{ {' '.join(subset(rng, VERSION_FIELDS))} }}")
        rng.shuffle(parts)
    if rng.random() < 0.25:
        return "...R", [f"fragment R on Report {{ {' '.join(parts)} }}"]
    return " ".join(parts), []


def reports_operation(rng: random.Random, after: str | None, *, filtered: bool = True) -> tuple[str, dict[str, Any]]:
    """One `reports` query: a filter (as a variable, empty unless `filtered`), `first`, `after`, a random
    selection."""
    aliases = Aliases(rng)
    node, fragments = report_selection(rng, aliases)
    connection = [f"edges {{ {'cursor ' if rng.random() < 0.5 else ''}node {{ {node} }} }}"]
    if rng.random() < 0.5:
        connection.append("totalCount")
    if rng.random() < 0.4:
        connection.append(f"pageInfo {{ {' '.join(subset(rng, PAGE_INFO))} }}")
    rng.shuffle(connection)
    f: dict[str, Any] = {}
    if filtered and rng.random() < 0.2:
        f["level"] = rng.choice(["SCHOOL", "COUNTY"])
    if filtered and rng.random() < 0.2:
        f["cadence"] = rng.choice(["MONTH", "QUARTER"])
    if filtered and rng.random() < 0.2:
        f["period"] = rng.choice(["2026-02", "2026-03", "2026-04"])
    if filtered and rng.random() < 0.2:
        f["status"] = rng.sample(["DRAFT", "SUBMITTED", "RETURNED", "APPROVED"], rng.randint(1, 2))
    if filtered and rng.random() < 0.2:
        f["regionCode"] = rng.choice(REGIONS)
    variables: dict[str, Any] = {"f": f, "n": rng.choice([1, 2, 20])}
    definitions, arguments = ["$f: ReportFilter", "$n: Int"], ["filter: $f", "first: $n"]
    if after is not None:
        variables["a"] = after
        definitions.append("$a: String")
        arguments.append("after: $a")
    head = f"query Reports({', '.join(definitions)})"
    document = f"{head} {{ {aliases.key('reports')}({', '.join(arguments)}) {{ {' '.join(connection)} }} }}"
    return "\n".join([document, *fragments]), variables


def report_node_operation(rng: random.Random, report_id: str) -> tuple[str, dict[str, Any]]:
    aliases = Aliases(rng)
    inner, fragments = report_selection(rng, aliases)
    parts = [f"... on Report {{ {inner} }}", *(["id"] if rng.random() < 0.5 else [])]
    if rng.random() < 0.3:
        parts.append("... on Student { name }")
    rng.shuffle(parts)
    document = f"query Node($id: ID!) {{ node(id: $id) {{ {' '.join(parts)} }} }}"
    return "\n".join([document, *fragments]), {"id": report_id}


def entry_gid(entry_id: int) -> str:
    return base64.b64encode(f"LedgerEntry:{entry_id}".encode()).decode()


def student_gid(child_id: int) -> str:
    return base64.b64encode(f"Student:{child_id}".encode()).decode()


# -- running both paths ---------------------------------------------------------------------------------


@pytest.fixture
async def normal(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[httpx.AsyncClient]:
    """The same app resolving every field through strawberry (the compiled path off)."""
    app = create_app(make_settings(compiled_reads=False), sessions=sessions)
    transport = httpx.ASGITransport(app=app, client=("10.0.0.1", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://baoxue.test") as c:
        yield c


def counted() -> dict[str, float]:
    return {s.labels["outcome"]: s.value for m in OPERATIONS.collect() for s in m.samples if s.name.endswith("_total")}


async def audit_after(session: AsyncSession, since: int) -> list[tuple[str, str, str, str]]:
    rows = await session.execute(
        select(AuditLog.actor, AuditLog.action, AuditLog.target_id, AuditLog.scope_path).where(
            AuditLog.id > since, AuditLog.action.like("student.%")
        )
    )
    return sorted(tuple(r) for r in rows)


async def last_audit_id(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(AuditLog.id), 0))) or 0)


def canonical(response: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in response.items() if k != "extensions"}, sort_keys=True, ensure_ascii=False)


async def post(client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def both(
    client: httpx.AsyncClient,
    normal: httpx.AsyncClient,
    session: AsyncSession,
    token: str,
    query: str,
    variables: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """Both answers, checked equal with equal audit rows; and whether the compiled path answered."""
    since = await last_audit_id(session)
    before = counted().get("compiled", 0)
    compiled = await post(client, query, variables, token)
    answered = counted().get("compiled", 0) > before
    compiled_audit = await audit_after(session, since)
    since = await last_audit_id(session)
    plain = await post(normal, query, variables, token)
    plain_audit = await audit_after(session, since)
    assert canonical(compiled) == canonical(plain), query
    assert compiled_audit == plain_audit, query
    return compiled, plain, answered


CHILD_IDS: list[int] = []
ENTRY_IDS: list[int] = []


@pytest.fixture(autouse=True)
async def _ids(session: AsyncSession) -> None:
    if not CHILD_IDS:
        CHILD_IDS.extend(sorted((await session.scalars(select(Child.id))).all()))
        ENTRY_IDS.extend(sorted((await session.scalars(select(LedgerEntry.id))).all()))


CHUNKS = 8  # the accounts in a few groups: each test builds its two apps once (a build is ~0.3 s)


@pytest.mark.exhaustive
@pytest.mark.parametrize("chunk", range(CHUNKS))
async def test_compiled_and_normal_paths_agree(chunk, client, normal, session):
    for username in ACCOUNTS[chunk::CHUNKS]:
        await agree_as(username, OPERATIONS_PER_ACCOUNT, client, normal, session)


@pytest.mark.exhaustive
@pytest.mark.parametrize("username", THOROUGH)
async def test_compiled_and_normal_paths_agree_on_many_operations(username, client, normal, session):
    await agree_as(username, THOROUGH_OPERATIONS, client, normal, session)


async def agree_as(
    username: str, operations: int, client: httpx.AsyncClient, normal: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await token_for(client, username)
    rng = random.Random(f"compiled-{username}-{operations}")
    for _ in range(operations):
        after = None
        if rng.random() < 0.3:  # a real cursor, from a first page of the same kind
            page = await post(
                normal,
                "query($n: Int) { students(first: $n) { pageInfo { endCursor } } }",
                {"n": rng.choice([1, 5])},
                token,
            )
            after = ((page.get("data") or {}).get("students") or {}).get("pageInfo", {}).get("endCursor")
        query, variables = operation(rng, after)
        compiled, _, answered = await both(client, normal, session, token, query, variables)
        assert answered == (not compiled.get("errors")), query
    for _ in range(operations):
        after = None
        if rng.random() < 0.3:
            page = await post(normal, "{ ledgerEntries(first: 2) { pageInfo { endCursor } } }", {}, token)
            after = ((page.get("data") or {}).get("ledgerEntries") or {}).get("pageInfo", {}).get("endCursor")
        query, variables = entries_operation(rng, after)
        compiled, _, answered = await both(client, normal, session, token, query, variables)
        assert answered == (not compiled.get("errors")), query
    for _ in range(max(1, operations // 3)):
        after = None
        if rng.random() < 0.3:
            page = await post(normal, "{ schoolAgeChildren(first: 3) { pageInfo { endCursor } } }", {}, token)
            after = ((page.get("data") or {}).get("schoolAgeChildren") or {}).get("pageInfo", {}).get("endCursor")
        query, variables = school_age_operation(rng, after)
        compiled, _, answered = await both(client, normal, session, token, query, variables)
        assert answered == (not compiled.get("errors")), query
    for entry_id in [entry_gid(rng.choice(ENTRY_IDS))]:
        query, variables = entry_node_operation(rng, entry_id)
        compiled, _, answered = await both(client, normal, session, token, query, variables)
        assert answered, query
    # `node` on a child of the caller's first page (if any) and on any child of the demo data
    page = await post(normal, "{ students(first: 3) { edges { node { id } } } }", {}, token)
    own = [e["node"]["id"] for e in ((page.get("data") or {}).get("students") or {}).get("edges", [])]
    anyone = student_gid(rng.choice(CHILD_IDS))
    for student_id in [*own[:1], anyone] if operations > 1 else [rng.choice([*own[:1], anyone])]:
        query, variables = node_operation(rng, student_id)
        compiled, _, answered = await both(client, normal, session, token, query, variables)
        assert answered, query
        assert not compiled.get("errors"), query


REPORT_CHUNKS = 4
REPORT_READERS = [COUNTY_EDU, STAFF, "edu-province-53", "edu-nation-CN"]


async def make_reports(client: httpx.AsyncClient) -> list[str]:
    """Reports in each state a reader sees differently: Wuding's primary school's March approved by its
    county (late: submitted in December), its April a draft (its own staff only), its February returned
    and drafted again (version 2 for the school, the returned version 1 for the levels above), another
    Yunnan school's March submitted, a Guyuan school's March a draft. Their global ids."""
    staff, principal = await token_for(client, STAFF), await token_for(client, PRINCIPAL)
    county = await token_for(client, COUNTY_EDU)
    march = await submitted_march(client, staff, principal)
    approved = await review(client, county, march, "APPROVE")
    assert approved["errors"] == [], approved["errors"]
    april = await draft_school(client, staff, "2026-04")
    february = await submit(client, principal, (await draft_school(client, staff, "2026-02"))["report"])
    returned = await review(client, county, february["report"], "RETURN", reasons="遗漏")
    assert returned["errors"] == [], returned["errors"]
    redrafted = await draft_school(client, staff, "2026-02", version=returned["report"]["version"])
    other = await draft_school(client, await token_for(client, "staff-school-2153000001"), school="2153000001")
    submitted = await submit(client, await token_for(client, "edu-school-2153000001"), other["report"])
    guyuan = await draft_school(client, await token_for(client, "staff-school-2164000001"), school="2164000001")
    made = [approved, april, submitted, guyuan, redrafted]
    assert all(m["errors"] == [] for m in made), made
    return [m["report"]["id"] for m in made]


@pytest.mark.exhaustive
@pytest.mark.parametrize("chunk", range(REPORT_CHUNKS))
async def test_compiled_and_normal_reports_agree(chunk, client, normal, session):
    """`reports` and `node` on Report, generated, as every demo account over reports in every state."""
    reports = await make_reports(client)
    shown = {"edges": 0, "nodes": 0}  # the comparison must include reports actually read
    reader = REPORT_READERS[chunk % len(REPORT_READERS)]  # one account that reads some, unfiltered
    for username in [reader, *ACCOUNTS[chunk::REPORT_CHUNKS]]:
        token = await token_for(client, username)
        rng = random.Random(f"compiled-reports-{username}")
        after = None
        if rng.random() < 0.3:
            page = await post(normal, "{ reports(first: 1) { pageInfo { endCursor } } }", {}, token)
            after = ((page.get("data") or {}).get("reports") or {}).get("pageInfo", {}).get("endCursor")
        query, variables = reports_operation(rng, after, filtered=username != reader)
        compiled, _, answered = await both(client, normal, session, token, query, variables)
        assert answered == (not compiled.get("errors")), query
        connection = next(iter((compiled.get("data") or {}).values()), None) or {}
        shown["edges"] += len(connection.get("edges") or [])
        query, variables = report_node_operation(rng, rng.choice(reports))
        compiled, _, answered = await both(client, normal, session, token, query, variables)
        assert answered, query
        shown["nodes"] += compiled["data"]["node"] is not None
    assert shown["edges"] > 0
    assert shown["nodes"] > 0


# -- what the comparison must include -------------------------------------------------------------------


async def test_the_county_page_compiles_with_the_normal_answer(client, normal, session):
    token = await token_for(client, "edu-county-532329")
    compiled, _, answered = await both(client, normal, session, token, COUNTY_PAGE, {"r": "532329"})
    assert answered
    edges = compiled["data"]["students"]["edges"]
    assert len(edges) == 50
    assert compiled["data"]["students"]["totalCount"] > 50
    assert any(e["node"]["currentEntry"] for e in edges)


async def test_personal_data_is_masked_per_row_and_full_reads_audited_alike(client, normal, session):
    """A county education bureau reads its schools' children in full (audited) and, through the
    government line's neighbours, nobody masked wrongly: per row, as the Python masking decides."""
    query = "query { students(first: 100) { edges { node { id nationalId registryNumber } } } }"
    for username in ("edu-county-532329", "integrator-county-532329", "gov-township-532329101", "edu-city-5323"):
        token = await token_for(client, username)
        since = await last_audit_id(session)
        compiled, _, answered = await both(client, normal, session, token, query, {})
        assert answered
        ids = [e["node"]["nationalId"] for e in compiled["data"]["students"]["edges"]]
        full = [i for i in ids if i and "*" not in i]
        masked = [i for i in ids if i and "*" in i]
        audited = await audit_after(session, since)
        assert len(audited) == 2 * len(full)  # the compiled request's rows, then the normal one's
        if username.startswith(("integrator", "edu-city")):
            assert not full
            assert masked
        else:
            assert full


async def test_an_account_out_of_scope_gets_the_same_refusals_and_empty_pages(client, normal, session):
    cases = [
        ("admin-county-532329", "query { students(first: 5) { totalCount } }", {}),  # no CHILD:READ: FORBIDDEN
        (
            "edu-school-2153000001",
            'query { students(filter: {regionCode: "2208"}) { totalCount edges { node { id } } } }',
            {},
        ),
        ("gov-township-532329101", "query($a: String) { students(after: $a) { totalCount } }", {"a": "forged"}),
        ("edu-county-532329", "query { students(first: 101) { totalCount } }", {}),
        ("edu-county-532329", 'query { students(filter: {regionCode: "999999"}) { totalCount } }', {}),
    ]
    answers = []
    for username, query, variables in cases:
        compiled, _, answered = await both(client, normal, session, await token_for(client, username), query, variables)
        answers.append((compiled, answered))
    (forbidden, a0), (elsewhere, a1), (forged, a2), (too_many, a3), (unknown, a4) = answers
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not a0
    assert elsewhere["errors"][0]["extensions"]["reason"] == "UNKNOWN_REGION"
    assert not a1
    assert forged["errors"][0]["extensions"]["reason"] == "INVALID_CURSOR"
    assert not a2
    assert too_many["errors"]
    assert not a3
    assert unknown["errors"]
    assert not a4
    # a child of another county, by id: null on both paths, like a missing one (and nothing audited)
    elsewhere_child = (await session.scalars(select(Child.id).where(Child.school_path.like("22/%")).limit(1))).one()
    token = await token_for(client, "edu-county-532329")
    query = "query($id: ID!) { node(id: $id) { id ... on Student { name nationalId } } }"
    since = await last_audit_id(session)
    hidden, _, answered = await both(client, normal, session, token, query, {"id": student_gid(elsewhere_child)})
    assert hidden == {"data": {"node": None}}
    assert answered
    assert await audit_after(session, since) == []


SCHOOL_AGE_PAGE = """query { schoolAgeChildren(filter: {schoolYear: 2026}, first: 100) { totalCount cutoffDate
  edges { node { age schoolingStatus student { id name nationalId } entry { id ledger status } } } } }"""
REPORT_LIST = "query { reports(first: 20) { totalCount edges { node { id unitCode period status locked late } } } }"
REPORT_NODE = "query($id: ID!) { node(id: $id) { id ... on Report { unitCode period status firstSubmittedAt } } }"


async def test_the_county_school_age_page_compiles_with_statuses_ages_and_audits(client, normal, session):
    token = await token_for(client, "edu-county-532329")
    since = await last_audit_id(session)
    compiled, _, answered = await both(client, normal, session, token, SCHOOL_AGE_PAGE, {})
    assert answered
    page = compiled["data"]["schoolAgeChildren"]
    assert page["cutoffDate"] == "2026-08-31"
    assert page["totalCount"] > 100
    rows = [e["node"] for e in page["edges"]]
    assert all(6 <= r["age"] <= 15 for r in rows)
    assert {r["schoolingStatus"] for r in rows} >= {"ENROLLED", "SUSPECTED"}
    assert all((r["entry"] is None) == (r["schoolingStatus"] in ("ENROLLED", "OUT_OF_SCHOOL")) for r in rows)
    full = [r for r in rows if r["student"]["nationalId"] and "*" not in r["student"]["nationalId"]]
    assert full
    assert len(await audit_after(session, since)) == 2 * len(full)  # both requests audited each child once


async def test_an_account_out_of_scope_gets_the_same_school_age_and_report_answers(client, normal, session):
    """Refusals and views as the normal path gives them: FORBIDDEN without the read right, bad arguments
    refused alike, drafts only for their own unit's staff, another county's reports null or absent."""
    march, april, _, guyuan, february = await make_reports(client)

    async def run(username: str, query: str, variables: dict[str, Any] | None = None) -> tuple[Any, bool]:
        compiled, _, answered = await both(
            client, normal, session, await token_for(client, username), query, variables or {}
        )
        return compiled, answered

    for username in ("admin-county-532329", "edu-nation-CN"):  # no LEDGER:READ anywhere
        refused, answered = await run(username, SCHOOL_AGE_PAGE)
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert refused["data"] == {"schoolAgeChildren": None}
        assert not answered
    bad_year, answered = await run(
        "edu-county-532329", "{ schoolAgeChildren(filter: {schoolYear: 1999}) { totalCount } }"
    )
    assert bad_year["errors"]
    assert not answered
    forbidden, answered = await run("admin-county-532329", REPORT_LIST)
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not answered

    def listed(answer: dict[str, Any]) -> set[str]:
        return {e["node"]["id"] for e in answer["data"]["reports"]["edges"]}

    county, answered = await run("edu-county-532329", REPORT_LIST)
    assert answered
    assert march in listed(county)
    assert not listed(county) & {april, guyuan}  # a school's draft stays with the school
    staff, answered = await run(STAFF, REPORT_LIST)
    assert answered
    assert {march, april} <= listed(staff)
    neighbour, answered = await run("edu-county-532328", REPORT_LIST)
    assert answered
    assert march not in listed(neighbour)
    for username, report_id in (("edu-county-532328", march), ("edu-county-532329", april), ("edu-nation-CN", guyuan)):
        hidden, answered = await run(username, REPORT_NODE, {"id": report_id})
        assert hidden == {"data": {"node": None}}
        assert answered
    current = "query($id: ID!) { node(id: $id) { ... on Report { current { number status } } } }"
    for username, version in (
        ("edu-county-532329", {"number": 1, "status": "RETURNED"}),
        (STAFF, {"number": 2, "status": "DRAFT"}),
    ):
        corrected, answered = await run(username, current, {"id": february})
        assert corrected["data"]["node"]["current"] == version  # the levels above see the returned version
        assert answered
    seen, answered = await run("edu-nation-CN", REPORT_NODE, {"id": march})
    assert seen["data"]["node"]["status"] == "APPROVED"
    assert seen["data"]["node"]["firstSubmittedAt"]
    assert answered


@pytest.mark.parametrize(
    "query",
    [
        "query { students(first: 3) { edges { node { id guardians { name phone } } } } }",
        "query { students(first: 3) { edges { node { id enrolmentHistory { change } } } } }",
        "query { students(first: 3) { edges { node { id householdRegion { code } } } } }",
        "query { students(first: 3) { edges { node { id currentEntry { student { id } } } } } }",
        "query { students(first: 3) { edges { node { ... on Node { id } } } } }",
        "query($x: Boolean!) { students(first: 3) { edges { node { id name @include(if: $x) } } } }",
        "query { students(first: 1) { totalCount } regions(first: 1) { totalCount } }",
        "query { a: students(first: 1) { totalCount } b: students(first: 2) { totalCount } }",
        'query { students(first: 3) { edges { node { attendance(month: "2026-10") { month } } } } }',
        "{ __typename }",
        "query { schoolAgeChildren(first: 3) { edges { node { entry { student { id } } } } } }",
        "query { reports(first: 3) { edges { node { id versions { number } } } } }",
        "query { reports(first: 3) { edges { node { id approvedBy } } } }",
        "query { reports(first: 3) { edges { node { id current { consolidation { rate } } } } } }",
    ],
)
async def test_what_does_not_compile_falls_back_to_the_same_answer(query, client, normal, session):
    token = await token_for(client, "edu-county-532329")
    fallbacks = counted().get("fallback", 0)
    compiled, _, answered = await both(client, normal, session, token, query, {"x": True} if "$x" in query else {})
    assert not answered
    assert counted().get("fallback", 0) == fallbacks + 1
    assert "data" in compiled


async def test_a_mutation_never_takes_the_compiled_path(client, session):
    token = await token_for(client, "edu-county-532329")
    child = (await session.scalars(select(Child).where(Child.school_path.like("53/5323/532329/%")).limit(1))).one()
    before = counted()
    mutation = """mutation($i: RevealNationalIdInput!) { revealNationalId(input: $i) { nationalId } }"""
    student_id = __import__("base64").b64encode(f"Student:{child.id}".encode()).decode()
    result = await post(client, mutation, {"i": {"studentId": student_id, "reason": "家访核对"}}, token)
    assert result["data"]["revealNationalId"]["nationalId"] == child.national_id
    assert counted().get("compiled", 0) == before.get("compiled", 0)


async def test_a_persisted_county_page_runs_compiled_by_its_hash_with_one_plan(ctx, sessions, client, normal, session):
    """A registered document sent by hash (README, Persisted operations) is the unit a plan is kept for:
    the second request finds the plan the first one made."""
    from graphql import parse

    from resolvers.operations import read_manifest, register
    from schema.compiled import Plans
    from schema.root import schema

    digest = hashlib.sha256(COUNTY_PAGE.encode()).hexdigest()
    await register(ctx, read_manifest(json.dumps({digest: COUNTY_PAGE})))
    await ctx.session.flush()
    token = await token_for(client, "edu-county-532329")
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    before = counted().get("compiled", 0)
    answers = []
    for _ in range(2):
        reply = await client.post(
            "/graphql",
            json={"extensions": extensions, "variables": {"r": "532329"}},
            headers={"Authorization": f"Bearer {token}"},
        )
        answers.append(reply.json())
    plain = await post(normal, COUNTY_PAGE, {"r": "532329"}, token)
    assert counted().get("compiled", 0) == before + 2
    assert canonical(answers[0]) == canonical(plain)
    assert canonical(answers[1]) == canonical(plain)
    plans = Plans()
    document = parse(COUNTY_PAGE)
    first = plans.get(schema._schema, document, None)
    assert first is not None
    assert plans.get(schema._schema, document, None) is first
