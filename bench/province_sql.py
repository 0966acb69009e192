"""The SQL side of the province benchmark: the statements one page request runs, replayed over psycopg
(the floor), with and without the scope predicate, where a request's time goes, and the aggregates.

The statements are captured from the application itself: it runs in this process behind an ASGI
transport, and a SQLAlchemy `before_cursor_execute` hook records every statement and its parameters
exactly as psycopg receives them. "Without the scope predicate" is the same request with
`Authorizer.scope_paths` answering "the whole nation" for every line, so every predicate built from
the caller's grants becomes `true`.
"""

from __future__ import annotations

import asyncio
import cProfile
import math
import pstats
import random
import secrets
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import event
from sqlalchemy.engine import Engine

from authz.enforcer import LINES, Authorizer
from baoxue.app import create_app
from baoxue.database import APP_OPTIONS
from baoxue.settings import Settings
from models.region import NATION_PATH

from .common import summary_ms, top_functions, uncounted_budgets

Statement = tuple[str, Any]  # SQL text as psycopg receives it, and its parameters


@dataclass
class Captured:
    scoped: list[Statement]
    unscoped: list[Statement]
    scoped_rows: int  # totalCount the page reports, with and without the scope predicate
    unscoped_rows: int
    inprocess_ms: dict[str, float]  # per request, in this process: total, in SQL round trips, the rest
    profile_groups: list[tuple[str, float]]  # (area, share of the server side's CPU profile)
    profile_phases: list[tuple[str, float | None, int]]  # (phase, profiled ms per request, calls)
    profile_top: str
    timed_requests: int
    profiled_requests: int


class StatementLog:
    """Records statements and the time spent in cursor.execute, for every engine in this process."""

    def __init__(self) -> None:
        self.statements: list[Statement] = []
        self.sql_s = 0.0
        self._started: list[float] = []

    def before(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        self.statements.append((statement, parameters))
        self._started.append(time.perf_counter())

    def after(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if self._started:
            self.sql_s += time.perf_counter() - self._started.pop()

    @contextmanager
    def listening(self) -> Iterator[StatementLog]:
        """SQLAlchemy's statements by its cursor hooks, and the ones the app sends the driver itself
        (`models/repos/driver.py`: sign-in, a filter's region, the compiled page) by wrapping psycopg's
        `AsyncConnection.execute`, which SQLAlchemy does not call (it executes on cursors)."""
        event.listen(Engine, "before_cursor_execute", self.before)
        event.listen(Engine, "after_cursor_execute", self.after)
        direct = psycopg.AsyncConnection.execute

        async def execute(conn: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
            self.before(conn, None, str(query), params, None, False)
            try:
                return await direct(conn, query, params, **kwargs)
            finally:
                self.after(conn, None, str(query), params, None, False)

        psycopg.AsyncConnection.execute = execute  # type: ignore[method-assign]
        try:
            yield self
        finally:
            psycopg.AsyncConnection.execute = direct  # type: ignore[method-assign]
            event.remove(Engine, "before_cursor_execute", self.before)
            event.remove(Engine, "after_cursor_execute", self.after)

    def reset(self) -> None:
        self.statements, self.sql_s, self._started = [], 0.0, []


@contextmanager
def without_scope() -> Iterator[None]:
    """Every grant-derived scope predicate becomes `true` (the nation's)."""
    original = Authorizer.scope_paths

    def nation(self: Authorizer, username: str, obj: str, act: str, now: Any) -> dict[str, list[str]]:
        return {line: [NATION_PATH] for line in LINES}

    Authorizer.scope_paths = nation  # type: ignore[method-assign]
    try:
        yield
    finally:
        Authorizer.scope_paths = original  # type: ignore[method-assign]


def area_of(filename: str, function: str) -> str:
    """The part of the stack a profiled function belongs to."""
    if filename == "~":
        if "poll" in function or "select" in function:
            return "waiting for PostgreSQL (event loop poll)"
        return "C builtins (json, str, dict…)"
    path = Path(filename)
    parts = path.parts
    if "site-packages" in parts:
        package = parts[parts.index("site-packages") + 1].split(".")[0].lstrip("_")
        return {"graphql": "graphql-core", "pydantic_core": "pydantic"}.get(package, package)
    for own in ("schema", "resolvers", "authz", "models", "baoxue"):
        if own in parts and "bench" not in parts:
            return f"project: {own}/"
    if "asyncio" in parts:
        return "asyncio"
    return "Python stdlib (other)"


# Phases of a request, by the cumulative time of the function that runs each (None when a library
# renamed it). Indented labels are parts of the phase above them. Rows that reach SQLAlchemy are
# approximate: its greenlet switches hide part of the stack from cProfile.
STRAWBERRY_SCHEMA = "strawberry/schema/schema.py"
PHASES = [
    ("whole request (the starlette app)", "starlette/applications.py", "__call__"),
    ("authentication (bearer token → principal)", "authz/authentication.py", "authenticate"),
    ("parse + validate (strawberry `_prepare_operation_async`)", STRAWBERRY_SCHEMA, "_prepare_operation_async"),
    ("  of which graphql-core `validate`", "graphql/validation/validate.py", "validate"),
    ("execution (strawberry `_execute_operation`)", STRAWBERRY_SCHEMA, "_execute_operation"),
    ("JSON encoding of the response", "baoxue/app.py", "encode_json"),
]


def profile_phases(profiler: cProfile.Profile, requests: int) -> list[tuple[str, float | None, int]]:
    raw: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    out: list[tuple[str, float | None, int]] = []
    for label, suffix, function in PHASES:
        found = [(v[3], v[1]) for (f, _, fn), v in raw.items() if fn == function and f.endswith(suffix)]
        if found:
            cumulative, calls = max(found)
            out.append((label, cumulative * 1000 / requests, int(calls)))
        else:
            out.append((label, None, 0))
    return out


CLIENT_AREAS = {"httpx", "httpcore", "anyio", "h11", "sniffio", "bench"}


def profile_groups(profiler: cProfile.Profile) -> tuple[list[tuple[str, float]], str]:
    stats = pstats.Stats(profiler)
    by_area: dict[str, float] = defaultdict(float)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, _, function), (_, _, tottime, _, _) in raw.items():
        if "/bench/" in filename:
            continue
        by_area[area_of(filename, function)] += tottime
    server = {k: v for k, v in by_area.items() if k not in CLIENT_AREAS}
    total = sum(server.values()) or 1.0
    groups = sorted(((k, v / total) for k, v in server.items()), key=lambda kv: -kv[1])
    return groups, top_functions(profiler, 25)


async def _capture(
    url: str, username: str, password: str, query: str, variables: dict[str, Any], requests: int, budget_s: float
) -> Captured:
    """`requests` timed requests, then as many under cProfile, each loop cut short after `budget_s`."""
    app = create_app(bench_settings(url))
    statements = StatementLog()
    body = {"query": query, "variables": variables}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client,
    ):
        reply = await client.post("/auth/token", data={"username": username, "password": password})
        reply.raise_for_status()
        headers = {"authorization": f"Bearer {reply.json()['access_token']}"}

        async def page() -> dict[str, Any]:
            r = await client.post("/graphql", json=body, headers=headers)
            r.raise_for_status()
            data: dict[str, Any] = r.json()
            if data.get("errors"):
                raise SystemExit(f"the page query failed: {data['errors']}")
            return data

        for _ in range(5):
            await page()
        with statements.listening():
            statements.reset()
            scoped_rows = (await page())["data"]["students"]["totalCount"]
            scoped = list(statements.statements)
            with without_scope():
                await page()
                statements.reset()
                unscoped_rows = (await page())["data"]["students"]["totalCount"]
                unscoped = list(statements.statements)
            statements.reset()
            totals: list[float] = []
            sql: list[float] = []
            deadline = time.perf_counter() + budget_s
            while len(totals) < requests and (len(totals) < 3 or time.perf_counter() < deadline):
                before = statements.sql_s
                t0 = time.perf_counter()
                await page()
                totals.append(time.perf_counter() - t0)
                sql.append(statements.sql_s - before)
        profiler = cProfile.Profile()
        profiled = 0
        deadline = time.perf_counter() + budget_s
        profiler.enable()
        while profiled < requests and (profiled < 3 or time.perf_counter() < deadline):
            await page()
            profiled += 1
        profiler.disable()
    groups, top = profile_groups(profiler)
    phases = profile_phases(profiler, profiled)
    total_ms = sorted(t * 1000 for t in totals)[len(totals) // 2]
    sql_ms = sorted(s * 1000 for s in sql)[len(sql) // 2]
    return Captured(
        scoped=scoped,
        unscoped=unscoped,
        scoped_rows=int(scoped_rows),
        unscoped_rows=int(unscoped_rows),
        inprocess_ms={"request_p50": total_ms, "sql_p50": sql_ms, "other_p50": total_ms - sql_ms},
        profile_groups=groups,
        profile_phases=phases,
        profile_top=top,
        timed_requests=len(totals),
        profiled_requests=profiled,
    )


def bench_settings(url: str) -> Settings:
    """The app as served in production, with a fresh secret and the query budgets off (a benchmark asks far
    more than one minute's budget of one account)."""
    return Settings(
        database_url=url,
        env="production",
        jwt_secret=secrets.token_urlsafe(32),
        log_level="WARNING",
        query_budgets=uncounted_budgets(),
    )


def capture(
    url: str,
    username: str,
    password: str,
    query: str,
    variables: dict[str, Any],
    requests: int = 100,
    budget_s: float = 30.0,
) -> Captured:
    return asyncio.run(_capture(url, username, password, query, variables, requests, budget_s))


def short(statement: str) -> str:
    """`SELECT … FROM child WHERE …` — enough to tell the statements of a request apart."""
    text = " ".join(statement.split())
    head, _, rest = text.partition(" FROM ")
    table = rest.split(" ", 1)[0] if rest else ""
    kind = "SELECT count(*)" if "count(" in head else head.split(" ", 1)[0]
    return f"{kind} … FROM {table}" if table else text[:60]


@dataclass
class Replay:
    """Sequential replays of one request's statements on one connection, as one transaction each."""

    totals_ns: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    per_statement_ns: list[list[int]] = field(default_factory=list)  # for the scoped plan
    explains: list[str] = field(default_factory=list)  # of the slowest statements, "" for the others


def replay(dsn: str, plans: dict[str, list[Statement]], runs: int, warmup: int, budget_s: float) -> Replay:
    """Each round runs every plan once, in a random order, on one connection with psycopg's defaults
    (server-side prepare after 5 executions, as the application's connections do). Stops after `runs`
    measured rounds or `budget_s` seconds of them (at least 20 rounds)."""
    out = Replay(per_statement_ns=[[] for _ in plans["scoped"]])
    rng = random.Random(5)
    clock = time.perf_counter_ns
    with psycopg.connect(dsn, options=APP_OPTIONS) as conn:  # the app's session settings
        names = list(plans)
        deadline = math.inf
        for i in range(warmup + runs):
            if i == warmup:
                deadline = time.perf_counter() + budget_s
            elif i > warmup + 20 and time.perf_counter() > deadline:
                break
            rng.shuffle(names)
            for name in names:
                cur = conn.cursor()
                marks = []
                t0 = clock()
                for statement, params in plans[name]:
                    cur.execute(statement, params)
                    if cur.description is not None:
                        cur.fetchall()
                    marks.append(clock())
                conn.rollback()
                t1 = clock()
                if i >= warmup:
                    out.totals_ns[name].append(t1 - t0)
                    if name == "scoped":
                        starts = [t0, *marks[:-1]]
                        for k, (a, b) in enumerate(zip(starts, marks, strict=True)):
                            out.per_statement_ns[k].append(b - a)
    return out


def explain(dsn: str, statement: str, params: Any) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of a captured statement with its parameters, as the app's sessions run it."""
    with psycopg.connect(dsn, options=APP_OPTIONS) as conn:
        rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params).fetchall()
        conn.rollback()
    return "\n".join(str(r[0]) for r in rows)


def explain_slowest(dsn: str, statements: list[Statement], per_statement_ns: list[list[int]], top: int) -> list[str]:
    """Plans of the `top` statements with the highest replayed p50, in request order (others: "")."""
    p50s = [summary_ms(ns)["p50_ms"] if ns else 0.0 for ns in per_statement_ns]
    slowest = set(sorted(range(len(p50s)), key=lambda i: -p50s[i])[:top])
    return [explain(dsn, *statements[i]) if i in slowest else "" for i in range(len(statements))]


# --------------------------------------------------------------------------------------------------
# Aggregates: open suspected and dropout entries by city x ledger x status x stage x category.
# --------------------------------------------------------------------------------------------------
AGGREGATE_BASE = """
SELECT split_part(responsible_path, '/', 2) AS city, ledger, status, stage, coalesce(category, '') AS category,
       count(*) AS entries
  FROM ledger_entry
 WHERE status <> 'CLOSED' AND responsible_path >= %(lo)s AND responsible_path < %(hi)s
 GROUP BY 1, 2, 3, 4, 5
"""
AGGREGATE_SUMMARY = """
SELECT split_part(county_path, '/', 2) AS city, ledger, status, stage, category, sum(entries) AS entries
  FROM ledger_count
 WHERE entries > 0 AND county_path >= %(lo)s AND county_path < %(hi)s
 GROUP BY 1, 2, 3, 4, 5
"""


@dataclass
class AggregateTiming:
    name: str
    scope: str
    sql: str
    samples_ns: list[int]
    rows: int
    entries: int
    result: set[tuple[Any, ...]]


def time_aggregate(dsn: str, name: str, scope: str, query: str, path: str, runs: int) -> AggregateTiming:
    params = {"lo": path, "hi": path + "0"}
    samples: list[int] = []
    rows: list[tuple[Any, ...]] = []
    with psycopg.connect(dsn, autocommit=True, prepare_threshold=None) as conn:
        for i in range(runs + 1):
            t0 = time.perf_counter_ns()
            rows = conn.execute(query, params).fetchall()
            if i:  # the first run warms the cache
                samples.append(time.perf_counter_ns() - t0)
    return AggregateTiming(
        name=name,
        scope=scope,
        sql=" ".join(query.split()),
        samples_ns=samples,
        rows=len(rows),
        entries=sum(int(r[-1]) for r in rows),
        result={(*r[:-1], int(r[-1])) for r in rows},
    )


def table_exists(dsn: str, name: str) -> bool:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
    return bool(row and row[0])


def aggregates(dsn: str, province_path: str, county_path: str, runs: int) -> list[AggregateTiming]:
    out = []
    summary = table_exists(dsn, "public.ledger_count")
    for scope, path in (("province", province_path), ("county", county_path)):
        out.append(time_aggregate(dsn, "base tables", scope, AGGREGATE_BASE, path, runs))
        if summary:
            out.append(time_aggregate(dsn, "ledger_count summary", scope, AGGREGATE_SUMMARY, path, runs))
    return out


def p50_ms(samples: list[int]) -> float:
    return summary_ms(samples)["p50_ms"]
