"""Part 2's database: the benchmark database, synthetic children loaded with COPY, and the two layouts."""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import make_url

from models.child_counts import REBUILD_STATEMENTS

from .authz_data import PROVINCE, Geo, code_of, county_of, township_of
from .common import libpq

BENCH_DB = "baoxue_bench"


def recreate_database(server: str) -> str:
    with psycopg.connect(libpq(server), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(BENCH_DB)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))
    return make_url(server).set(database=BENCH_DB).render_as_string(hide_password=False)


def drop_database(server: str) -> None:
    with psycopg.connect(libpq(server), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(BENCH_DB)))


def child_rows(n: int, geo: Geo, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """Children in random geographic order; 3% not enrolled, 15% living outside their home village."""
    villages = geo.villages
    by_township: dict[str, list[str]] = defaultdict(list)
    by_county: dict[str, list[str]] = defaultdict(list)
    for v in villages:
        by_township[township_of(v)].append(v)
        by_county[county_of(v)].append(v)
    start = date(2010, 9, 1)
    for i in range(n):
        household = rng.choice(villages)
        r = rng.random()
        if r < 0.85:
            residence = household
        elif r < 0.93:
            residence = rng.choice(by_township[township_of(household)])
        elif r < 0.97:
            residence = rng.choice(by_county[county_of(household)])
        else:
            residence = rng.choice(villages)  # migrant children (随迁子女)
        birth = start + timedelta(days=rng.randrange(9 * 365))
        grade = max(1, min(9, 2025 - birth.year - 6))
        school_code = school_path = None
        if rng.random() < 0.97:
            if grade <= 6:
                school_path = rng.choice(geo.primary_schools[township_of(residence)])
            else:
                school_path = rng.choice(geo.junior_schools[county_of(residence)])
            school_code = code_of(school_path)
        yield (
            f"儿童{i}",
            "MALE" if rng.random() < 0.52 else "FEMALE",
            birth,
            school_code,
            grade if school_code else None,
            school_path,
            code_of(household),
            household,
            code_of(residence),
            residence,
            PROVINCE,
        )


def drop_child_indexes(cur: psycopg.Cursor[Any]) -> list[tuple[str, str]]:
    """Drop the child table's secondary indexes for a bulk load; returns (name, definition) to rebuild.

    Indexes that back a constraint (primary key, unique national ID) stay.
    """
    cur.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'child' "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
    )
    indexes: list[tuple[str, str]] = cur.fetchall()
    for name, _ in indexes:
        cur.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    return indexes


def load(dsn: str, geo: Geo, children: int) -> dict[str, float]:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy("COPY region (code, name, level, parent_code, path) FROM STDIN") as copy:
            for row in geo.regions:
                copy.write_row(row)
        with cur.copy("COPY school (code, name, region_code, stages, kind, path, province_code) FROM STDIN") as copy:
            for row in geo.schools:
                copy.write_row(row)
        conn.commit()
        timings["regions_schools_s"] = time.perf_counter() - t0

        # Bulk load: secondary indexes rebuilt afterwards, foreign keys valid by construction
        # (checked below) so their per-row triggers are skipped.
        t0 = time.perf_counter()
        indexes = drop_child_indexes(cur)
        cur.execute("SET session_replication_role = replica")
        columns = (
            "name, gender, birth_date, school_code, grade, school_path, household_region_code, "
            "household_path, residence_region_code, residence_path, province_code"
        )
        with cur.copy(sql.SQL("COPY child ({}) FROM STDIN").format(sql.SQL(columns))) as copy:
            for row in child_rows(children, geo, random.Random(7)):
                copy.write_row(row)
        cur.execute("SET session_replication_role = DEFAULT")
        for statement in REBUILD_STATEMENTS:  # the COPY bypassed the count triggers
            cur.execute(statement)
        conn.commit()
        timings["children_copy_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _, definition in indexes:
            cur.execute(definition)
        conn.commit()
        timings["children_index_s"] = time.perf_counter() - t0
        cur.execute(
            """
            SELECT (SELECT count(*) FROM child c LEFT JOIN school s ON s.code = c.school_code
                     WHERE c.school_code IS NOT NULL AND s.code IS NULL)
                 + (SELECT count(*) FROM child c LEFT JOIN region r ON r.code = c.household_region_code
                     WHERE c.household_region_code IS NOT NULL AND r.code IS NULL)
                 + (SELECT count(*) FROM child c LEFT JOIN region r ON r.code = c.residence_region_code
                     WHERE c.residence_region_code IS NOT NULL AND r.code IS NULL)
            """
        )
        row = cur.fetchone()
        assert row is not None
        assert row[0] == 0, "children reference missing regions or schools"
    t0 = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) region, school, child")
    timings["vacuum_analyze_s"] = time.perf_counter() - t0
    return timings


def recluster(dsn: str) -> float:
    """Renumber the children county by county, school by school (as a bulk import from the student
    registry would number them): ids, physical order and school paths then go together."""
    t0 = time.perf_counter()
    columns = (
        "name, gender, birth_date, school_code, grade, school_path, household_region_code, household_path, "
        "residence_region_code, residence_path, province_code, created_at, updated_at, version"
    )
    cols = sql.SQL(columns)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        indexes = drop_child_indexes(cur)
        cur.execute(
            sql.SQL(
                "CREATE TEMP TABLE sorted AS SELECT row_number() OVER "
                "(ORDER BY coalesce(school_path, residence_path), household_path, id) AS new_id, {} FROM child"
            ).format(cols)
        )
        cur.execute("TRUNCATE child CASCADE")  # guardians reference children
        cur.execute("SET session_replication_role = replica")
        cur.execute(
            sql.SQL("INSERT INTO child (id, {}) SELECT new_id, {} FROM sorted ORDER BY new_id").format(cols, cols)
        )
        cur.execute("SET session_replication_role = DEFAULT")
        for statement in REBUILD_STATEMENTS:  # the INSERT bypassed the count triggers
            cur.execute(statement)
        for _, definition in indexes:
            cur.execute(definition)
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) child")
    return time.perf_counter() - t0
