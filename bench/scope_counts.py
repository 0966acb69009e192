"""The children's count of each scope: `count(*)` over the scope's ranges against the kept counts (issue 18 §1).

```
uv run python -m bench.scope_counts --database-url postgresql://…/<a seeded database>
```

For the accounts of bench/plans.py (school to province, both lines), the unfiltered `students` count both
ways: the figures must agree, and each statement's execution time under `EXPLAIN ANALYZE` (median of 5).
Prints a Markdown table; writes nothing.
"""

from __future__ import annotations

import argparse
import statistics

import psycopg
from sqlalchemy import Select, func, select
from sqlalchemy.dialects import postgresql

from authz.access import ranges_over
from models.child import Child
from models.repos.children import SCOPE_COLUMNS, scope_count
from models.repos.paging import within_any

from .common import libpq
from .plans import accounts

RUNS = 5
GRANTS = """SELECT g.scope_path FROM role_grant g JOIN account a ON a.id = g.account_id
             WHERE a.username = %s AND g.revoked_at IS NULL"""


def literal_sql(stmt: Select[tuple[int]]) -> str:
    return str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def timed(conn: psycopg.Connection[tuple[int]], statement: str) -> tuple[int, float]:
    """The statement's figure and its median execution time in ms."""
    row = conn.execute(statement).fetchone()
    times = [conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement).fetchone()[0][0]["Execution Time"]  # type: ignore[index]
             for _ in range(RUNS)]  # fmt: skip
    return int(row[0]) if row else 0, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    dsn = libpq(parser.parse_args().database_url)
    print("| account | place | children | `count(*)` ms | kept counts ms |")
    print("|---|---|---:|---:|---:|")
    with psycopg.connect(dsn) as conn:
        for username, place in accounts(dsn):
            line = "GOV" if "government" in place else "EDU"
            paths = [str(r[0]) for r in conn.execute(GRANTS, [username])]
            ranges = ranges_over({line: paths}, SCOPE_COLUMNS)
            rows = select(func.count()).select_from(Child).where(within_any(ranges))
            counted, counted_ms = timed(conn, literal_sql(rows))
            kept, kept_ms = timed(conn, literal_sql(scope_count(ranges)))
            if kept != counted:
                raise SystemExit(f"{username}: kept {kept} ≠ count(*) {counted}")
            print(f"| `{username}` | {place} | {counted:,} | {counted_ms:.2f} | {kept_ms:.2f} |")


if __name__ == "__main__":
    main()
