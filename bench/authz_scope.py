"""Part 2 of the authorization benchmark: what the scope predicate adds to the `list_children` page query."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.dialects import postgresql
from sqlmodel import col

from authz.access import Access
from authz.catalogue import Level, Role
from authz.enforcer import Authorizer, GrantRef
from authz.principal import CredentialKind, Principal
from baoxue.database import migrate
from models.child import Child
from models.repos.children import SCOPE_COLUMNS

from .authz_data import PROVINCE, Geo
from .authz_db import drop_database, load, recluster, recreate_database
from .common import find_server, libpq, log, summary_ms

PG_DIALECT = postgresql.psycopg.dialect()  # type: ignore[attr-defined]
PAGE_LIMIT = 50  # list_children's default; fetch_page asks for limit + 1 rows


def range_within(column: Any, path: str) -> ColumnElement[bool]:
    """Subtree test as one index range: in collation C, '/' sorts right before '0' and path segments are
    digits, so [path, path0) holds exactly the path and the paths below it."""
    return and_(column >= path, column < path + "0")


def or_within(column: Any, path: str) -> ColumnElement[bool]:
    """Subtree test as equality OR prefix (models.repos.regions.within_path before commit b70309b)."""
    return or_(column == path, column.startswith(path + "/", autoescape=True))


def page_statements(where: ColumnElement[bool]) -> tuple[Any, Any]:
    """fetch_page's two statements for list_children(scope=where, region_path=None, enrolled=None)."""
    page = select(Child).where(where).order_by(col(Child.id)).limit(PAGE_LIMIT + 1)
    count = select(func.count()).select_from(Child).where(where)
    return page, count


def literal(stmt: Any) -> str:
    return str(stmt.compile(dialect=PG_DIALECT, compile_kwargs={"literal_binds": True}))


def principal(username: str) -> Principal:
    return Principal(0, username, username, False, CredentialKind.PASSWORD_JWT)


@dataclass
class Variant:
    name: str
    label: str
    where: Callable[[int], ColumnElement[bool]]  # target index -> predicate
    literal_sql: list[tuple[str, str]] = field(default_factory=list)
    param_sql: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = field(default_factory=list)
    page_ns: list[int] = field(default_factory=list)
    count_ns: list[int] = field(default_factory=list)
    total_ns: list[int] = field(default_factory=list)
    rows_total: list[tuple[int, int]] = field(default_factory=list)

    def fresh(self) -> Variant:
        return Variant(self.name, self.label, self.where, self.literal_sql, self.param_sql)


def compile_variants(variants: Iterable[Variant], targets: int) -> None:
    for v in variants:
        for i in range(targets):
            page, count = page_statements(v.where(i))
            v.literal_sql.append((literal(page), literal(count)))
            pc, cc = page.compile(dialect=PG_DIALECT), count.compile(dialect=PG_DIALECT)
            v.param_sql.append((str(pc), dict(pc.params), str(cc), dict(cc.params)))


def run_page_queries(
    dsn: str, variants: list[Variant], runs: int, warmup: int, targets: int, *, app_like: bool
) -> dict[str, list[tuple[str, int, int]]]:
    """Interleave the variants (random order each round, same target), timing page and count.

    literal: one connection, literal SQL, no server-side prepare (every query parsed and planned).
    app_like: one connection per variant, bound parameters and psycopg's default prepare_threshold
    (5), i.e. what SQLAlchemy sends: after 5 runs the statement is prepared and PostgreSQL may switch
    to a generic plan.
    """
    rng = random.Random(11)
    if app_like:
        conns = {v.name: psycopg.connect(dsn, autocommit=True) for v in variants}  # prepare_threshold 5
    else:
        shared = psycopg.connect(dsn, autocommit=True, prepare_threshold=None)
        conns = {v.name: shared for v in variants}
    clock = time.perf_counter_ns
    try:
        for it in range(warmup + runs):
            target = it % targets
            order = list(variants)
            rng.shuffle(order)
            for v in order:
                cur = conns[v.name].cursor()
                if app_like:
                    page_sql, page_params, count_sql, count_params = v.param_sql[target]
                else:
                    (page_sql, count_sql), page_params, count_params = v.literal_sql[target], {}, {}
                t0 = clock()
                cur.execute(page_sql, page_params)
                rows = cur.fetchall()
                t1 = clock()
                cur.execute(count_sql, count_params)
                one = cur.fetchone()
                t2 = clock()
                assert one is not None
                if it >= warmup:
                    v.page_ns.append(t1 - t0)
                    v.count_ns.append(t2 - t1)
                    v.total_ns.append(t2 - t0)
                if it < targets:
                    v.rows_total.append((len(rows), int(one[0])))
        plans: dict[str, list[tuple[str, int, int]]] = {}
        if app_like:
            for name, c in conns.items():
                got = c.execute(
                    "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements ORDER BY name"
                ).fetchall()
                plans[name] = [("count" if "count(" in s else "page", int(g), int(cu)) for s, g, cu in got]
        return plans
    finally:
        for c in set(conns.values()):
            c.close()


def explain(dsn: str, stmt_sql: str) -> str:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + stmt_sql, ()).fetchall()
    return "\n".join(r[0] for r in rows)


def pk_order_plans(dsn: str, v: Variant) -> int:
    """For how many targets the planner answers the page query by walking child_pkey in id order with the
    predicate as a filter, instead of index scan + top-N sort."""
    n = 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        for page_sql, _ in v.literal_sql:
            plan = [r[0] for r in conn.execute("EXPLAIN " + page_sql, ()).fetchall()]
            n += len(plan) > 1 and "Index Scan using child_pkey" in plan[1]
    return n


def generic_plan(dsn: str, v: Variant) -> str:
    """The generic plan PostgreSQL caches for the parametrized count query (plan_cache_mode forced)."""
    _, _, count_sql, params = v.param_sql[0]
    dollar = count_sql
    values = []
    for i, (name, value) in enumerate(params.items(), start=1):
        dollar = dollar.replace(f"%({name})s", f"${i}")
        values.append(value)
    dollar = dollar.replace("%%", "%")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        conn.execute(sql.SQL("PREPARE bench_generic AS {}").format(sql.SQL(dollar)))  # type: ignore[arg-type]
        args = sql.SQL(", ").join(sql.Literal(x) for x in values)
        rows = conn.execute(sql.SQL("EXPLAIN (ANALYZE, COSTS OFF) EXECUTE bench_generic({})").format(args)).fetchall()
    return "\n".join(r[0] for r in rows)


@dataclass
class Layout:
    """One physical layout of the child table and the page queries timed on it."""

    name: str
    description: str
    variants: list[Variant]
    explains: dict[str, str]
    pk_plans: dict[str, int]
    loadavg: tuple[float, float, float]


@dataclass
class ScopeResult:
    children: int
    load: dict[str, float]
    layouts: list[Layout]
    app_variants: list[Variant]
    app_plans: dict[str, list[tuple[str, int, int]]]
    scope_build: dict[str, dict[str, float]]
    generic_plans: dict[str, str]
    server: str
    server_version: str
    targets: list[tuple[str, str]]
    scoped_where: dict[str, str]
    scoped_form: dict[str, str]


def time_scope_build(authorizer: Authorizer, usernames: Sequence[str], now: datetime, runs: int) -> dict[str, float]:
    clock = time.perf_counter_ns
    samples: list[int] = []
    for i in range(runs):
        p = principal(usernames[i % len(usernames)])
        t0 = clock()
        Access(p, authorizer, now).scope("CHILD", "READ", SCOPE_COLUMNS)
        samples.append(clock() - t0)
    s = summary_ms(samples)
    return {k.replace("_ms", "_us"): (v * 1000 if k != "n" else v) for k, v in s.items()}


def where_of(page_sql: str) -> str:
    return page_sql.split("WHERE", 1)[1].split("ORDER BY", 1)[0].strip().replace("%%", "%")


def measure_layout(dsn: str, name: str, description: str, variants: list[Variant], runs: int, targets: int) -> Layout:
    variants = [v.fresh() for v in variants]
    explains = {}
    for v in variants:
        page_sql, count_sql = v.literal_sql[0]
        explains[v.name] = (
            f"-- page: SELECT child.* … WHERE {where_of(page_sql)} ORDER BY child.id LIMIT {PAGE_LIMIT + 1}\n"
            f"{explain(dsn, page_sql)}\n\n-- count: SELECT count(*) … WHERE {where_of(page_sql)}\n"
            f"{explain(dsn, count_sql)}"
        )
    pk_plans = {v.name: pk_order_plans(dsn, v) for v in variants}
    log(f"  {name} layout, literal SQL: {len(variants)} variants x {runs} rounds")
    loadavg = os.getloadavg()
    run_page_queries(dsn, variants, runs, warmup=2 * targets, targets=targets, app_like=False)
    return Layout(name, description, variants, explains, pk_plans, loadavg)


def bench_scope(
    geo: Geo, authorizer: Authorizer, children: int, runs: int, force_embedded: bool, keep_db: bool, now: datetime
) -> ScopeResult:
    server, how = find_server(force_embedded)
    log(f"  database server: {how}")
    url = recreate_database(server)
    dsn = libpq(url)
    try:
        migrate(url)
        log("  migrated; loading regions, schools and children")
        timings = load(dsn, geo, children)
        log("  load: " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
        with psycopg.connect(dsn) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            server_version = str(row[0]) if row else "?"

        # One county per city and one township in each: 16 targets, rotated through the rounds.
        rng = random.Random(3)
        counties = [rng.choice(geo.under[Level.COUNTY][f"{PROVINCE}/{PROVINCE}{c:02d}"]) for c in range(1, 17)]
        townships = [rng.choice(geo.under[Level.TOWNSHIP][c]) for c in counties]
        bench_grants = [
            GrantRef(10_000_000 + i, f"bench-county-edu-{i}", Role.COUNTY_EDU, c) for i, c in enumerate(counties)
        ] + [GrantRef(10_100_000 + i, f"bench-township-{i}", Role.TOWNSHIP, t) for i, t in enumerate(townships)]
        for g in bench_grants:
            authorizer.add(g)
        ce_users = [g.username for g in bench_grants if g.role == Role.COUNTY_EDU]
        tw_users = [g.username for g in bench_grants if g.role == Role.TOWNSHIP]

        def scoped(user: str) -> ColumnElement[bool]:
            return Access(principal(user), authorizer, now).scope("CHILD", "READ", SCOPE_COLUMNS)

        school, household, residence = col(Child.school_path), col(Child.household_path), col(Child.residence_path)
        variants = [
            Variant("county_scoped", "COUNTY_EDU: Access.scope", lambda i: scoped(ce_users[i])),
            Variant("county_by_hand", "by hand: school_path LIKE 'c/%'", lambda i: school.like(f"{counties[i]}/%")),
            Variant("county_or", "form `= c OR LIKE 'c/%'`", lambda i: or_within(school, counties[i])),
            Variant("county_range", "form `>= 'c' AND < 'c0'`", lambda i: range_within(school, counties[i])),
            Variant("township_scoped", "TOWNSHIP: Access.scope", lambda i: scoped(tw_users[i])),
            Variant(
                "township_by_hand",
                "by hand: household_path LIKE 't/%'",
                lambda i: household.like(f"{townships[i]}/%"),
            ),
            Variant(
                "township_by_hand_2col",
                "by hand, same rows: household LIKE 't/%' OR residence LIKE 't/%'",
                lambda i: or_(household.like(f"{townships[i]}/%"), residence.like(f"{townships[i]}/%")),
            ),
            Variant(
                "township_or",
                "form `= t OR LIKE 't/%'` on both columns",
                lambda i: or_(or_within(household, townships[i]), or_within(residence, townships[i])),
            ),
            Variant(
                "township_range",
                "form `>= 't' AND < 't0'` on both columns",
                lambda i: or_(range_within(household, townships[i]), range_within(residence, townships[i])),
            ),
        ]
        compile_variants(variants, len(counties))
        by_name = {v.name: v for v in variants}
        scoped_where = {
            "COUNTY_EDU": where_of(by_name["county_scoped"].literal_sql[0][0]),
            "TOWNSHIP": where_of(by_name["township_scoped"].literal_sql[0][0]),
        }
        scoped_form = {}
        for who, prefix in (("COUNTY_EDU", "county"), ("TOWNSHIP", "township")):
            same = by_name[f"{prefix}_scoped"].literal_sql
            scoped_form[who] = next(
                (
                    f"{prefix}_{form}"
                    for form in ("by_hand", "or", "range")
                    if by_name[f"{prefix}_{form}"].literal_sql == same
                ),
                "other",
            )

        layouts = [
            measure_layout(
                dsn,
                "scattered",
                "ids in random geographic order (children created one by one)",
                variants,
                runs,
                len(counties),
            )
        ]
        n = len(counties)
        app_variants = [v.fresh() for v in variants]
        log(f"  scattered layout, bound parameters as SQLAlchemy sends them: {len(app_variants)} variants")
        app_plans = run_page_queries(dsn, app_variants, runs, warmup=2 * n, targets=n, app_like=True)
        generic = {}
        for v in app_variants:
            if any(g > 0 for _, g, _ in app_plans.get(v.name, [])):
                generic[v.name] = generic_plan(dsn, v)

        log("  renumbering children county by county, school by school")
        timings["recluster_s"] = recluster(dsn)
        layouts.append(
            measure_layout(
                dsn,
                "clustered",
                "ids assigned school by school, county by county (a bulk import from the student registry)",
                variants,
                runs,
                n,
            )
        )
        scope_build = {
            "COUNTY_EDU": time_scope_build(authorizer, ce_users, now, 3000),
            "TOWNSHIP": time_scope_build(authorizer, tw_users, now, 3000),
        }
        return ScopeResult(
            children=children,
            load=timings,
            layouts=layouts,
            app_variants=app_variants,
            app_plans=app_plans,
            scope_build=scope_build,
            generic_plans=generic,
            server=how,
            server_version=server_version,
            targets=list(zip(counties, townships, strict=True)),
            scoped_where=scoped_where,
            scoped_form=scoped_form,
        )
    finally:
        if not keep_db:
            drop_database(server)
