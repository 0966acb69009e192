"""The province benchmark's database: found or created, migrated, seeded once per scale and seed.

A marker row in `bench.dataset` records what was loaded (seeder, requested children, provinces,
seed, migration head); a later run with the same parameters reuses the database instead of
reseeding millions of rows. The PostGraphile side's views live in the schema `bench_pg`,
recreated every run (PostGraphile only sees that schema).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import make_url

from baoxue.database import current_revision, head_revision, migrate, normalize_url

from .common import find_server, libpq, log

BENCH_DB = "baoxue_bench_province"
ROOT = Path(__file__).resolve().parent.parent

MARKER_SQL = """
CREATE SCHEMA IF NOT EXISTS bench;
CREATE TABLE IF NOT EXISTS bench.dataset (
    seeder text NOT NULL, children_requested integer, provinces integer, seed integer,
    revision text, children bigint, seed_s double precision, loaded_at timestamptz DEFAULT now()
);
"""

# What PostGraphile sees: the columns of the page, the school and the entry not closed out as
# relations (smart comments stand in for foreign keys, which views lack), and the county's
# children as a set-returning SQL function PostgreSQL inlines into PostGraphile's query. The
# function applies the same two predicates as the API: the region filter (household, residence
# or school inside the region) and the county account's education scope (school inside it). It
# is given the API's SQL tactics too: the region filter folds away when it is the scope itself
# (PostgreSQL plans each request with its parameters), and the page is ordered as the API orders
# it, by (school_path, id) (issue 18 §1), so both read the county from the (school_path, id) index
# and stop after the page.
POSTGRAPHILE_SQL = """
DROP SCHEMA IF EXISTS bench_pg CASCADE;
CREATE SCHEMA bench_pg;
CREATE VIEW bench_pg.school AS SELECT code, name FROM public.school;
COMMENT ON VIEW bench_pg.school IS E'@primaryKey code';
CREATE VIEW bench_pg.child AS
  SELECT id, name, gender, birth_date, grade,
         CASE WHEN grade IS NULL THEN NULL WHEN grade <= 6 THEN 'PRIMARY' ELSE 'JUNIOR' END AS stage,
         special_groups, school_code, school_path, household_path, residence_path
    FROM public.child;
COMMENT ON VIEW bench_pg.child IS
  E'@primaryKey id\\n@foreignKey (school_code) references bench_pg.school (code)';
CREATE VIEW bench_pg.current_entry AS
  SELECT id, child_id, ledger, status, category, opened_on, last_visit_on
    FROM public.ledger_entry WHERE status <> 'CLOSED';
COMMENT ON VIEW bench_pg.current_entry IS
  E'@primaryKey id\\n@unique child_id\\n@foreignKey (child_id) references bench_pg.child (id)';
CREATE FUNCTION bench_pg.children_in_region(region_path text, scope_path text) RETURNS SETOF bench_pg.child
LANGUAGE sql STABLE AS $$
  SELECT * FROM bench_pg.child c
   WHERE c.school_path LIKE scope_path || '/%'
     AND (region_path = scope_path
          OR c.household_path >= region_path AND c.household_path < region_path || '0'
          OR c.residence_path >= region_path AND c.residence_path < region_path || '0'
          OR c.school_path LIKE region_path || '/%')
$$;
COMMENT ON FUNCTION bench_pg.children_in_region(text, text) IS E'@sortable';
"""


SETTINGS = ("shared_buffers", "work_mem", "effective_cache_size", "random_page_cost", "jit", "max_connections")
TABLES = ("child", "ledger_entry", "school", "region", "role_grant")


@dataclass
class Dataset:
    url: str  # SQLAlchemy URL of the benchmark database
    dsn: str  # the same for psycopg
    server: str  # how the server was found
    server_version: str
    seeder: str
    children: int
    reused: bool
    seed_s: float | None
    load_output: str
    settings: dict[str, str]
    sizes_mb: dict[str, float]


@dataclass(frozen=True)
class Target:
    """The county whose page is loaded, its account, and the province of the aggregates."""

    county_code: str
    county_path: str
    county_children: int
    county_account: str
    province_code: str
    province_path: str
    province_account: str | None
    counties_with_accounts: int
    county_children_median: float


def synthetic_available() -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "baoxue", "seed", "synthetic", "--help"],
        capture_output=True,
        check=False,
        cwd=ROOT,
    )
    return done.returncode == 0


def choose_seeder(requested: str) -> str:
    if requested != "auto":
        return requested
    return "synthetic" if synthetic_available() else "demo"


def database_exists(server: str, name: str) -> bool:
    with psycopg.connect(libpq(server), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def recreate(server: str, name: str) -> None:
    with psycopg.connect(libpq(server), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def marker(dsn: str) -> dict[str, Any] | None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('bench.dataset') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return None
        row = conn.execute(
            "SELECT seeder, children_requested, provinces, seed, revision, children, seed_s "
            "FROM bench.dataset ORDER BY loaded_at DESC LIMIT 1"
        ).fetchone()
    if row is None:
        return None
    keys = ("seeder", "children_requested", "provinces", "seed", "revision", "children", "seed_s")
    return dict(zip(keys, row, strict=True))


def is_empty(dsn: str) -> bool:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchone()
    return row is not None and row[0] == 0


def wipe(dsn: str) -> None:
    """Empty a database this harness seeded before (its marker says so)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for schema in ("bench", "bench_pg", "public"):
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        conn.execute("CREATE SCHEMA public")


def seed(url: str, seeder: str, children: int, provinces: int, seed_value: int) -> tuple[float, str]:
    """Run the project's own seeder against `url`; its progress goes to this terminal."""
    cmd = [sys.executable, "-m", "baoxue", "seed", seeder]
    if seeder == "synthetic":
        cmd += ["--children", str(children), "--provinces", str(provinces), "--seed", str(seed_value)]
    env = {**os.environ, "DATABASE_URL": url}
    log("  " + " ".join(["baoxue", *cmd[3:]]))
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=ROOT, check=False, stdout=subprocess.PIPE, text=True)  # noqa: S603
    if done.returncode != 0:
        raise SystemExit(f"seeding failed ({done.returncode}):\n{done.stdout[-3000:]}")
    output = done.stdout.strip()
    tail = output.splitlines()[:1]
    if tail:
        log("  " + tail[0][:300])
    return time.perf_counter() - t0, output


def count_children(dsn: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM child").fetchone()
    return int(row[0]) if row else 0


def prepare(
    *,
    database_url: str | None,
    embedded: bool,
    seeder: str,
    children: int,
    provinces: int,
    seed_value: int,
    reseed: bool,
) -> Dataset:
    seeder = choose_seeder(seeder)
    if database_url:
        url, how, own = normalize_url(database_url), "--database-url", False
    else:
        server, how = find_server(embedded)
        url, own = make_url(server).set(database=BENCH_DB).render_as_string(hide_password=False), True
        if not database_exists(server, BENCH_DB):
            recreate(server, BENCH_DB)
    dsn = libpq(url)
    wanted = {
        "seeder": seeder,
        "children_requested": children if seeder == "synthetic" else None,
        "provinces": provinces if seeder == "synthetic" else None,
        "seed": seed_value if seeder == "synthetic" else None,
        "revision": head_revision(),
    }
    found = marker(dsn)
    reused = (
        not reseed
        and found is not None
        and all(found[k] == v for k, v in wanted.items())
        and current_revision(url) == head_revision()
    )
    seed_s: float | None = None
    output = ""
    if reused:
        assert found is not None
        log(f"  reusing {make_url(url).database} ({found['children']:,} children, seeded by `{seeder}`)")
        seed_s = found["seed_s"]
    else:
        if own:
            recreate(server, BENCH_DB)
        elif found is not None:
            wipe(dsn)
        elif not is_empty(dsn):
            raise SystemExit(f"{make_url(url).database} holds other data and no benchmark marker: give an empty one")
        migrate(url)
        log(f"  migrated {make_url(url).database}; seeding ({seeder})")
        seed_s, output = seed(url, seeder, children, provinces, seed_value)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE)")
        total = count_children(dsn)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(MARKER_SQL)
            conn.execute(
                "INSERT INTO bench.dataset (seeder, children_requested, provinces, seed, revision, children, seed_s) "
                "VALUES (%(seeder)s, %(children_requested)s, %(provinces)s, %(seed)s, %(revision)s, %(n)s, %(s)s)",
                {**wanted, "n": total, "s": seed_s},
            )
        log(f"  seeded {total:,} children in {seed_s:.0f} s")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(POSTGRAPHILE_SQL)
        row = conn.execute("SHOW server_version").fetchone()
        settings = {
            name: setting + (unit or "")
            for name, setting, unit in conn.execute(
                "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s)", (list(SETTINGS),)
            ).fetchall()
        }
        sizes = {
            table: size / 2**20
            for table, size in conn.execute(
                "SELECT t, pg_total_relation_size(t::regclass) FROM unnest(%s::text[]) t", (list(TABLES),)
            ).fetchall()
        }
    return Dataset(
        url=url,
        dsn=dsn,
        server=how,
        server_version=str(row[0]) if row else "?",
        seeder=seeder,
        children=count_children(dsn),
        reused=reused,
        seed_s=seed_s,
        load_output=output,
        settings=settings,
        sizes_mb=sizes,
    )


def pick_target(dsn: str, county_code: str | None) -> Target:
    """The county with an `edu-county-<code>` account whose number of enrolled children is the median
    of those counties (or `county_code`), and the province around it."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            """
            SELECT r.code, r.path, a.username, coalesce(n.children, 0)
              FROM account a
              JOIN region r ON a.username = 'edu-county-' || r.code
              LEFT JOIN (SELECT split_part(school_path, '/', 3) AS county, count(*) AS children
                           FROM child WHERE school_path IS NOT NULL GROUP BY 1) n ON n.county = r.code
             WHERE a.active ORDER BY 4, 1
            """
        ).fetchall()
        if not rows:
            raise SystemExit("no edu-county-<code> account in the database")
        if county_code is not None:
            chosen = next((r for r in rows if r[0] == county_code), None)
            if chosen is None:
                raise SystemExit(f"no account edu-county-{county_code}")
        else:
            chosen = rows[(len(rows) - 1) // 2]
        code, path, username, n = chosen
        province_path = path.split("/", 1)[0]
        province = conn.execute(
            "SELECT username FROM account WHERE username = %s AND active", (f"edu-province-{province_path}",)
        ).fetchone()
    return Target(
        county_code=code,
        county_path=path,
        county_children=int(n),
        county_account=username,
        province_code=province_path,
        province_path=province_path,
        province_account=province[0] if province else None,
        counties_with_accounts=len(rows),
        county_children_median=statistics.median(int(r[3]) for r in rows),
    )
