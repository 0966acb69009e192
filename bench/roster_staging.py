"""Staging a roster with COPY (issue 12, Scale: import at ≥ 50,000 rows/s): `uv run python -m bench.roster_staging`.

Stages a household roster of `--rows` rows (1,000,000 by default; 5% refused, with problems) through
`models/repos/roster_staging.stage_rows` into a scratch database on the server (127.0.0.1:5432 unless
`--server-url`), migrated for the run and dropped after it, and prints rows/s. The rows come from an iterator
over 20,000 generated rows, each handed over again with the next line number (a copy of its dict), so the
figure is staging's own, not the generator's or the file reader's. The matching and counting statements run
after it, timed too; the scratch database holds no children, so their times are the cost of reading and
updating the batch, not of a real comparison against a province.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from psycopg import sql
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from baoxue.database import migrate, normalize_url
from bench.common import LOCAL_SERVER, libpq, log
from models.repos import roster_imports as repo
from models.repos import roster_staging

PROVINCE, CITY, COUNTY = "53", "5323", "532329"
COUNTY_PATH = f"{PROVINCE}/{CITY}/{COUNTY}"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "明华强伟芳娜敏静丽军洋勇艳杰娟涛超秀霞平刚桂英"
PROBLEM = {"column": "公民身份号码", "code": "INVALID_CHECK_DIGIT", "message": "身份证号校验位错误 / the check digit"}


def generated(rows: int, seed: int = 12) -> Iterator[dict[str, Any]]:
    """A household roster as the reader would hand it over, one row at a time (8 µs a row to make)."""
    rng = random.Random(seed)
    first_birth = date(2011, 9, 1)
    for line in range(2, rows + 2):
        township = f"{COUNTY}{100 + rng.randrange(12):03d}"
        village = f"{township}{200 + rng.randrange(20):03d}"
        path = f"{COUNTY_PATH}/{township}/{village}"
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        birth = first_birth + timedelta(days=rng.randrange(9 * 365))
        gender = "MALE" if rng.random() < 0.52 else "FEMALE"
        national_id = f"{COUNTY}{birth:%Y%m%d}{rng.randrange(1000):03d}{rng.randrange(10)}"
        raw = {
            "姓名": name, "性别": "男" if gender == "MALE" else "女", "公民身份号码": national_id,
            "出生日期": birth.isoformat(), "户籍地区划代码": village, "现住址区划代码": village,
            "监护人": rng.choice(SURNAMES) + rng.choice(GIVEN), "联系电话": f"138{rng.randrange(10**8):08d}",
        }  # fmt: skip
        if rng.random() < 0.05:
            yield {"line": line, "status": "REFUSED", "problems": [PROBLEM], "raw": raw}
            continue
        yield {
            "line": line, "status": "VALID", "problems": [], "raw": raw, "name": name, "gender": gender,
            "birth_date": birth, "national_id": national_id, "household_region_code": village,
            "residence_region_code": village, "household_path": path, "residence_path": path,
        }  # fmt: skip


def scratch_database(server: str) -> tuple[str, str]:
    """Create a database of its own on the server: (its name, its SQLAlchemy URL)."""
    import psycopg

    name = f"baoxue_roster_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq(server), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name, make_url(server).set(database=name).render_as_string(hide_password=False)


def drop_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(libpq(server), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


REGIONS = text(
    "INSERT INTO region (code, name, level, parent_code, path) VALUES"
    " ('53', '云南省', 'PROVINCE', NULL, '53'), ('5323', '楚雄州', 'CITY', '53', '53/5323'),"
    " ('532329', '武定县', 'COUNTY', '5323', '53/5323/532329')"
)


TEMPLATES = 20_000


def handed_over(templates: list[dict[str, Any]], rows: int) -> Iterator[dict[str, Any]]:
    """`rows` rows, the templates again and again, each a new dict with its own line number."""
    for line in range(2, rows + 2):
        yield {**templates[(line - 2) % len(templates)], "line": line}


async def run(url: str, rows: int) -> dict[str, float]:
    engine = create_async_engine(url, poolclass=NullPool)
    timings: dict[str, float] = {}
    try:
        async with AsyncSession(engine) as session:
            await session.execute(REGIONS)
            await session.commit()
            batch = await repo.create_import(
                session, kind="HOUSEHOLD", jurisdiction_code=COUNTY, jurisdiction_path=COUNTY_PATH,
                as_of=date(2026, 9, 1), file_name="532329-household.csv", file_sha256=uuid.uuid4().hex * 2,
                size_bytes=rows * 200, created_by="bench",
            )  # fmt: skip
            assert batch is not None
            assert batch.id is not None
            batch_id = batch.id
            source = handed_over(list(generated(TEMPLATES)), rows)
            start = time.perf_counter()
            staged = await roster_staging.stage_rows(session, batch_id, source)
            timings["copy_s"] = time.perf_counter() - start
            await session.commit()
            timings["copy_and_commit_s"] = time.perf_counter() - start
            assert staged == rows
            for step, call in (
                ("match_exact_s", roster_staging.match_exact(session, batch_id)),
                ("match_candidates_s", roster_staging.match_candidates(session, batch_id, COUNTY_PATH)),
                ("count_rows_s", repo.count_rows(session, batch_id)),
            ):
                began = time.perf_counter()
                await call
                timings[step] = time.perf_counter() - began
            await session.commit()
    finally:
        await engine.dispose()
    timings["rows_per_s"] = rows / timings["copy_and_commit_s"]
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--server-url", default=LOCAL_SERVER, help="a database on the server to create the scratch one")
    args = parser.parse_args()
    server = normalize_url(args.server_url)
    name, url = scratch_database(server)
    try:
        log(f"scratch database {name}: migrating")
        migrate(url)
        log(f"staging {args.rows:,} rows with COPY")
        timings = asyncio.run(run(url, args.rows))
    finally:
        drop_database(server, name)
    for key, value in timings.items():
        log(f"{key}: {value:,.2f}")
    rate = timings["rows_per_s"]
    log(f"staging parsed rows: {rate:,.0f} rows/s (rows already read and checked; the import's rate: bench.rosters_1m)")


if __name__ == "__main__":
    main()
