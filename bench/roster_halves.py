"""One county's roster staged on one connection and in two halves on two, side by side:
`uv run python -m bench.roster_halves`.

The largest county file of `bench.rosters_1m`'s household roster (the same database, `baoxue_bench_rosters`,
seeded by that bench; `--kind REGISTRY` for the registry's), staged `--rounds` times each way, one way then the
other, in this process: `stage_cells` (one connection) and `stage_cells_in_parts` (the operation's connection and
a helper's, resolvers/rosters/imports.py from 1 MB). Each staging is rolled back and the helper's committed
half deleted, so the database is left as it was. Prints wall time and CPU: this process's, and that of the
PostgreSQL backends (read from /proc, so the database must run on this machine). On a shared machine compare
CPU per row; the two halves only gain wall time when the second core is free.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from baoxue.database import make_engine, normalize_url
from models.repos import jurisdictions, roster_cells
from models.repos import roster_imports as repo
from models.roster import RosterKind
from resolvers.rosters.cells import cell_blocks
from resolvers.rosters.files import cells_of, inspect_file
from resolvers.rosters.imports import _in_threads
from resolvers.rosters.rows import cell_checks

from .common import libpq, log
from .rosters_1m import AS_OF, own_database, write_roster


def backend_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def stage_once(
    sessions: async_sessionmaker[AsyncSession], path: Path, kind: RosterKind, county: str, halves: bool
) -> dict[str, Any]:
    async with sessions() as session, sessions() as helper:
        pids = [int(await s.scalar(text("SELECT pg_backend_pid()")) or 0) for s in (session, helper)]
        await helper.rollback()
        county_path = await jurisdictions.path_of(session, county)
        assert county_path is not None
        with path.open("rb") as stream:
            file = inspect_file(stream, path.name, max_bytes=1 << 30)
            batch = await repo.create_import(
                session, kind=kind.value, jurisdiction_code=county, jurisdiction_path=county_path, as_of=AS_OF,
                file_name=path.name, file_sha256=secrets.token_hex(32), size_bytes=file.size, created_by="bench",
            )  # fmt: skip
            assert batch is not None
            assert batch.id is not None
            number = batch.id
            headers, rows = cells_of(file, kind)
            checks = cell_checks(kind, headers, jurisdiction=county_path)
            blocks = _in_threads(cell_blocks(rows, checks))
            cpu, wall, own = sum(map(backend_cpu_s, pids)), time.perf_counter(), time.process_time()
            if halves:
                staged, out = await roster_cells.stage_cells_in_parts(
                    session, helper, number, blocks, checks, county_path
                )
            else:
                staged, out = await roster_cells.stage_cells(session, number, blocks, checks, county_path)
            wall, own = time.perf_counter() - wall, time.process_time() - own
            cpu = sum(map(backend_cpu_s, pids)) - cpu
        await session.rollback()
        await roster_cells.delete_rows(helper, number)
        await helper.commit()
    rows_read = staged + out
    return {
        "way": "two halves" if halves else "one connection",
        "rows": rows_read,
        "wall_s": wall,
        "rows_per_s": rows_read / wall,
        "postgres_us_per_row": cpu / rows_read * 1e6,
        "python_us_per_row": own / rows_read * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", default="HOUSEHOLD", choices=("HOUSEHOLD", "REGISTRY"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="else baoxue_bench_rosters (seeded by bench.rosters_1m)")
    args = parser.parse_args()
    url = normalize_url(own_database(args.database_url, embedded=False))
    work = Path(tempfile.mkdtemp(prefix="baoxue-halves-"))
    try:
        roster = write_roster(libpq(url), args.kind, 1_000_000, work)
        county, path, rows = max(roster.files, key=lambda f: f[2])
        log(f"{args.kind} {county}: {rows:,} rows, {path.stat().st_size / 1e6:.1f} MB; load {os.getloadavg()[0]:.1f}")

        async def run() -> None:
            engine = make_engine(url)
            sessions = async_sessionmaker(engine, expire_on_commit=False)
            try:
                for _ in range(args.rounds):
                    for halves in (False, True):
                        r = await stage_once(sessions, path, RosterKind(args.kind), county, halves)
                        log(
                            f"{r['way']:>14}: {r['wall_s']:.2f} s, {r['rows_per_s']:,.0f} rows/s; CPU a row: "
                            f"PostgreSQL {r['postgres_us_per_row']:.1f} µs, Python {r['python_us_per_row']:.1f} µs"
                            f" (load {os.getloadavg()[0]:.1f})"
                        )
            finally:
                await engine.dispose()

        asyncio.run(run())
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
