"""Authorization benchmark: Casbin decision latency, and what scope predicates add to a page query.

    uv run python -m bench.authz

writes bench/AUTHZ.md and bench/authz.json. It needs a PostgreSQL server for part 2:
BENCH_DATABASE_URL (any database on the server to use), else 127.0.0.1:5432 as postgres, else an
embedded server in a temporary directory. The database `baoxue_bench` is (re)created on that
server, migrated, filled with a synthetic province and dropped again at the end (`--keep-db` keeps it).

Part 1 builds `authz.enforcer.Authorizer` over 1k/10k/100k synthetic grants (every role at its own
level over 16 cities x 8 counties x 10 townships x 10 villages, 13,312 schools) and times
`Authorizer.decide` for allowed requests and three kinds of denial.

Part 2 loads children into the `child` table and times the `list_children` page query (page of
50 + count) with the predicate `authz.access.Access.scope("CHILD", "READ", SCOPE_COLUMNS)` builds,
against the same query written by hand with one prefix condition, through psycopg directly.

This module is the command line; the parts: `authz_data` (the synthetic province, grants, requests),
`authz_decisions` (part 1), `authz_db` and `authz_scope` (part 2), `authz_results` (bench/authz.json),
`authz_notes` and `authz_markdown` (bench/AUTHZ.md); `common` is shared with `bench.province`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from .authz_data import build_geo
from .authz_db import BENCH_DB
from .authz_decisions import bench_decisions, timer_overhead_ns
from .authz_results import RESULTS_JSON, RESULTS_MD, write_results
from .authz_scope import bench_scope
from .common import ROOT, log, machine


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.authz", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--grants", default="1000,10000,100000", help="comma-separated grant counts")
    parser.add_argument("--per-kind", type=int, default=5000, help="timed decisions per kind and size")
    parser.add_argument("--build-repeats", type=int, default=3)
    parser.add_argument("--children", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=300, help="measured rounds of page queries (>= 200)")
    parser.add_argument("--embedded", action="store_true", help="use an embedded server even if one is reachable")
    parser.add_argument("--keep-db", action="store_true", help=f"keep the {BENCH_DB} database afterwards")
    parser.add_argument("--skip-db", action="store_true", help="part 1 only")
    args = parser.parse_args(argv)

    started = datetime.now(UTC)
    t_start = time.perf_counter()
    now = started
    sizes = [int(x) for x in args.grants.split(",")]
    params = {
        "grant_counts": sizes,
        "per_kind": args.per_kind,
        "build_repeats": args.build_repeats,
        "children": args.children,
        "runs": args.runs,
    }
    info = machine()
    log("building the synthetic hierarchy")
    geo = build_geo()
    log("part 1: Authorizer.decide")
    timer = timer_overhead_ns()
    decisions, profile, authorizer = bench_decisions(geo, sizes, args.per_kind, args.build_repeats, now)
    scope = None
    if not args.skip_db:
        log("part 2: scope predicate on the page query")
        scope = bench_scope(geo, authorizer, args.children, args.runs, args.embedded, args.keep_db, now)
    write_results(info, params, decisions, profile, timer, scope, started, time.perf_counter() - t_start)
    log(f"wrote {RESULTS_MD.relative_to(ROOT)} and {RESULTS_JSON.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
