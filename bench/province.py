"""Province-scale benchmark: the county page through the API against its raw SQL and PostGraphile 4,
authorization, aggregates and memory, side by side in one run.

    uv run python -m bench.province [--children 1000000] [--duration 20] [--skip-postgraphile]

writes bench/RESULTS.md and bench/results.json (`--output DIR` writes them elsewhere).

Database: `--database-url` (used as it is), else `baoxue_bench_province` on the server
BENCH_DATABASE_URL names, else on 127.0.0.1:5432, else on an embedded PostgreSQL in a temporary
directory. It is migrated and seeded with `baoxue seed synthetic` (or `baoxue seed demo` where that
does not exist yet), once: a later run with the same scale and seed reuses it.

a. County page: the students of one county (50 with school and open ledger entry) as its
   `edu-county-<code>` account, through `baoxue serve --workers 1` (production settings) and
   through PostGraphile 4 (one Node process) with an equivalent query; 1 and 8 concurrent
   clients from a load generator in its own process (wrk, else bench/loadgen.py). The floor: the
   statements the API ran for that page, captured and replayed over psycopg.
b. Authorization: Authorizer.decide at 100k grants (bench/authz.py), and the scope predicate's
   share of the page's SQL.
c. Aggregates: open suspected and dropout entries by city x ledger x status x stage x category, for
   the province and the county: base tables, the ledger_count summary, and `ledgerCounts` via the API.
   The province report: `ledgerStatistics` by city, the 12 months up to now, split by stage, as the
   province account (p50 and p95), and how long `baoxue stats snapshot` takes for those months.
d. Memory: the API server's RSS sampled during the load.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shutil
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from datagen.demo.seed import DEMO_PASSWORD
from models.base import today
from models.period_statistics import month_start, months_back
from models.repos.period_statistics import snapshot_with

from . import province_http as web
from .authz_data import build_geo
from .authz_decisions import bench_decisions
from .common import log, machine, package_versions, run_text
from .province_accounts import bench_accounts
from .province_db import Dataset, Target, pick_target, prepare
from .province_report import Results, write
from .province_sql import aggregates, capture, explain_slowest, replay

HERE = Path(__file__).resolve().parent
COMMAND = "uv run python -m bench.province"

PAGE_QUERY = (
    "query($r: String!) { students(filter: {regionCode: $r}, first: 50) { totalCount edges { cursor node { "
    "id name gender birthDate grade stage specialGroups school { code name } "
    "currentEntry { id ledger status category openedOn lastVisitOn } } } } }"
)
# The same page from PostGraphile: the function bench_pg.children_in_region applies the region filter
# and the county's education scope (bench/province_db.py); aliases give the response the API's shape.
POSTGRAPHILE_QUERY = (
    "query($r: String!, $s: String!) { students: childrenInRegion(regionPath: $r, scopePath: $s, first: 50, "
    "orderBy: [SCHOOL_PATH_ASC, ID_ASC]) { totalCount edges { cursor node { id: nodeId name gender birthDate "
    "grade stage specialGroups school: schoolBySchoolCode { code name } "
    "currentEntry: currentEntryByChildId { id: nodeId ledger status category openedOn lastVisitOn } } } } }"
)
COUNTS_QUERY = (
    "query($r: String, $by: AggregateLevel!) { ledgerCounts(regionCode: $r, by: $by) { "
    "regionCode ledger status stage category entries } }"
)

# The province report (issue 6 item 8): 12 months (the default) x city x stage, with counts and rates.
STATISTICS_QUERY = (
    "query($r: String, $d: [StatisticDimension!]!) { ledgerStatistics(regionCode: $r, by: CITY, dimensions: $d) { "
    "periods missingPeriods rows { regionCode period stage enrolled population suspected dropouts deferred cases "
    "returned placed closedOut dropoutRate suspectedRate returnRate } } }"
)
REPORT_MONTHS = 12


def raw_id(global_id: str) -> str:
    """The row id inside a Relay global id: `Student:802` (the API) or `["children",802]` (PostGraphile)."""
    text = base64.b64decode(global_id).decode()
    if text.startswith("["):
        return str(json.loads(text)[-1])
    return text.rsplit(":", 1)[-1]


def page_digest(data: dict[str, Any]) -> dict[str, Any]:
    page = data["data"]["students"]
    nodes = [e["node"] for e in page["edges"]]
    return {
        "total": page["totalCount"],
        "ids": [raw_id(n["id"]) for n in nodes],
        "schools": [(n["school"] or {}).get("code") for n in nodes],
        "entries": [raw_id(n["currentEntry"]["id"]) if n["currentEntry"] else None for n in nodes],
        "fields": sum(count_fields(n) for n in nodes) + 1 + len(nodes),
    }


def count_fields(value: Any) -> int:
    if isinstance(value, dict):
        return sum(1 + count_fields(v) for v in value.values())
    return 0


def measure_server(
    server: web.Server, query: str, variables: dict[str, Any], token: str | None, args: argparse.Namespace, tool: str
) -> dict[str, Any]:
    """Latency with one client, then throughput with `--connections`, RSS and CPU sampled meanwhile."""
    url = server.base + "/graphql"
    body = {"query": query, "variables": variables}
    pid = server.process.pid
    one = web.run_load(url, body, token, 1, args.latency_duration, args.warmup, tool)
    idle = web.rss_mb(pid)
    with web.Sampler(pid) as sampler:
        many = web.run_load(url, body, token, args.connections, args.duration, args.warmup, tool)
    n = max(1, many["requests"])
    return {
        "one_client": one,
        "loaded": many,
        "rss_idle_mb": idle,
        "rss_max_mb": sampler.max_mb,
        "rss_mean_mb": sampler.mean_mb,
        "rss_samples": len(sampler.rss),
        "cpu_s": sampler.cpu_s,
        "server_cpu_ms_per_request": sampler.cpu_s["server"] * 1000 / n,
        "postgres_cpu_ms_per_request": sampler.cpu_s["postgres"] * 1000 / n,
        "loadavg": os.getloadavg(),
    }


def bench_api(ds: Dataset, target: Target, args: argparse.Namespace, tool: str) -> dict[str, Any]:
    variables = {"r": target.county_code}
    api = web.start_api(ds.url, secrets.token_urlsafe(32))
    try:
        token = web.api_token(api.base, target.county_account, DEMO_PASSWORD)
        digest = page_digest(web.graphql(api.base, PAGE_QUERY, variables, token))
        for _ in range(20):
            web.graphql(api.base, PAGE_QUERY, variables, token)
        log(f"  API: {args.latency_duration:.0f} s x 1 client, {args.duration:.0f} s x {args.connections} ({tool})")
        out = measure_server(api, PAGE_QUERY, variables, token, args, tool)
        out["digest"] = digest
        counts: dict[str, Any] = {}
        accounts = [("county", target.county_account, target.county_code, "COUNTY")]
        if target.province_account:
            accounts.insert(0, ("province", target.province_account, target.province_code, "CITY"))
        for scope, account, code, by in accounts:
            t = web.api_token(api.base, account, DEMO_PASSWORD)
            v = {"r": code, "by": by}
            rows = web.graphql(api.base, COUNTS_QUERY, v, t)["data"]["ledgerCounts"]
            samples = web.sequential_ms(api.base, COUNTS_QUERY, v, t, args.aggregate_runs)
            counts[scope] = {
                "account": account,
                "by": by,
                "rows": len(rows),
                "entries": sum(int(row["entries"]) for row in rows),
                "samples_ms": samples,
            }
        out["ledger_counts"] = counts
        if target.province_account:
            out["ledger_statistics"] = bench_statistics(api, target.province_account, target.province_code, args)
        return out
    finally:
        api.stop()


def bench_statistics(api: web.Server, account: str, province: str, args: argparse.Namespace) -> dict[str, Any]:
    """The province report through the API: `ledgerStatistics` by city, 12 months, split by stage."""
    token = web.api_token(api.base, account, DEMO_PASSWORD)
    variables = {"r": province, "d": ["STAGE"]}
    found = web.graphql(api.base, STATISTICS_QUERY, variables, token)["data"]["ledgerStatistics"]
    return {
        "account": account,
        "periods": found["periods"],
        "missing_periods": found["missingPeriods"],
        "rows": len(found["rows"]),
        "samples_ms": web.sequential_ms(api.base, STATISTICS_QUERY, variables, token, args.report_runs),
    }


def time_snapshot(dsn: str) -> dict[str, Any]:
    """Seconds `baoxue stats snapshot` takes for the report's 12 months and for the current month alone, each
    in its own committed transaction, and the size of the table after."""
    out: dict[str, Any] = {}
    for label, months in (("12_months_s", REPORT_MONTHS), ("1_month_s", 1)):
        first = month_start(months_back(today(), months)[0])
        assert first is not None
        with psycopg.connect(dsn) as conn:
            t0 = time.perf_counter()
            snapshot_with(conn.cursor(), first, today())
            conn.commit()
            out[label] = time.perf_counter() - t0
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ANALYZE period_statistic")
        row = conn.execute(
            "SELECT count(*), pg_total_relation_size('period_statistic') FROM period_statistic"
        ).fetchone()
    out["rows"], out["table_mb"] = (int(row[0]), row[1] / 2**20) if row else (0, 0.0)
    return out


def bench_postgraphile(ds: Dataset, target: Target, args: argparse.Namespace, tool: str) -> dict[str, Any]:
    reason = web.install_postgraphile()
    if reason is not None:
        return {"skipped": reason}
    variables = {"r": target.county_path, "s": target.county_path}
    server = web.start_postgraphile(ds.dsn)
    try:
        digest = page_digest(web.graphql(server.base, POSTGRAPHILE_QUERY, variables))
        for _ in range(20):
            web.graphql(server.base, POSTGRAPHILE_QUERY, variables)
        log(f"  PostGraphile: {args.latency_duration:.0f} s x 1 client, {args.duration:.0f} s x {args.connections}")
        out = measure_server(server, POSTGRAPHILE_QUERY, variables, None, args, tool)
        out["digest"] = digest
        out["version"] = web.postgraphile_version()
        return out
    finally:
        server.stop()


def versions() -> dict[str, str]:
    out = package_versions(
        ("strawberry-graphql", "graphql-core", "starlette", "uvicorn", "sqlalchemy", "psycopg", "pycasbin")
    )
    out["node"] = run_text("node", "--version")
    wrk = shutil.which("wrk")
    out["wrk"] = run_text("dpkg-query", "-W", "-f=${Version}", "wrk") if wrk else "not installed"
    return out


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.province", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--children", type=int, default=1_000_000, help="synthetic children (default 1,000,000)")
    parser.add_argument("--provinces", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seeder", choices=("auto", "synthetic", "demo"), default="auto")
    parser.add_argument("--reseed", action="store_true", help="seed again even if the database matches")
    parser.add_argument("--database-url", default=None, help="use this database as it is (created, not dropped)")
    parser.add_argument("--embedded", action="store_true", help="an embedded PostgreSQL even if a server is up")
    parser.add_argument("--county", default=None, help="county code of the page (default: the median county)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load with --connections clients")
    parser.add_argument("--latency-duration", type=float, default=10.0, help="seconds of load with one client")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of unrecorded load before each")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--loader", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--skip-postgraphile", action="store_true")
    parser.add_argument("--raw-runs", type=int, default=1000, help="replays of the page's SQL, at most")
    parser.add_argument("--raw-seconds", type=float, default=60.0, help="time for those replays, at most")
    parser.add_argument("--profile-requests", type=int, default=100, help="in-process requests timed, then profiled")
    parser.add_argument("--profile-seconds", type=float, default=30.0, help="time for each of those, at most")
    parser.add_argument("--aggregate-runs", type=int, default=7)
    parser.add_argument(
        "--account-seconds", type=float, default=5, help="seconds of one client per account (issue 18 §3)"
    )
    parser.add_argument("--report-runs", type=int, default=30, help="timed runs of the province report (p50, p95)")
    parser.add_argument("--grants", type=int, default=100_000, help="grants for the decision benchmark")
    parser.add_argument("--per-kind", type=int, default=5000, help="timed decisions per kind")
    parser.add_argument("--output", default=None, help="directory for RESULTS.md and results.json (default bench/)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(argv)
    started = datetime.now(UTC)
    t_start = time.perf_counter()
    out_dir = Path(args.output) if args.output else HERE
    out_dir.mkdir(parents=True, exist_ok=True)
    tool = web.loader_tool(args.loader)
    info = machine()
    info["packages"] = versions()

    log("database")
    ds = prepare(
        database_url=args.database_url,
        embedded=args.embedded,
        seeder=args.seeder,
        children=args.children,
        provinces=args.provinces,
        seed_value=args.seed,
        reseed=args.reseed,
    )
    if ds.seeder == "demo":
        log("  `baoxue seed synthetic` is not available: the demo data, whatever --children says")
    target = pick_target(ds.dsn, args.county)
    log(f"  {ds.children:,} children; page: county {target.county_path} ({target.county_children:,} enrolled)")

    log("a. the page's SQL, captured in-process, and a profile of the request")
    variables = {"r": target.county_code}
    account = target.county_account
    budget = args.profile_seconds
    captured = capture(ds.url, account, DEMO_PASSWORD, PAGE_QUERY, variables, args.profile_requests, budget)
    log(f"  replaying {len(captured.scoped)} statements (up to {args.raw_runs} rounds or {args.raw_seconds:.0f} s)")
    plans = {"scoped": captured.scoped, "unscoped": captured.unscoped}
    floor = replay(ds.dsn, plans, args.raw_runs, warmup=20, budget_s=args.raw_seconds)
    floor.explains = explain_slowest(ds.dsn, captured.scoped, floor.per_statement_ns, top=2)

    log(f"c. month-end statistics: the snapshot of {REPORT_MONTHS} months, then of this month")
    snapshot = time_snapshot(ds.dsn)
    log(f"  {snapshot['12_months_s']:.1f} s and {snapshot['1_month_s']:.1f} s ({snapshot['rows']:,} rows)")

    log("a. through HTTP")
    api = bench_api(ds, target, args, tool)
    peer: dict[str, Any] = {"skipped": "--skip-postgraphile"}
    if not args.skip_postgraphile:
        peer = bench_postgraphile(ds, target, args, tool)

    log("a. every level and line: the students page as school to province accounts")
    per_account = bench_accounts(ds, seconds=args.account_seconds, replay_s=args.raw_seconds / 4, tool=tool)

    log("c. aggregates")
    aggs = aggregates(ds.dsn, target.province_path, target.county_path, args.aggregate_runs)

    log(f"b. Authorizer.decide at {args.grants:,} grants")
    decisions, _, _ = bench_decisions(build_geo(), [args.grants], args.per_kind, 1, started)

    results = Results(
        command=COMMAND,
        page_query=PAGE_QUERY,
        postgraphile_query=POSTGRAPHILE_QUERY,
        argv=list(argv) if argv is not None else sys.argv[1:],
        args=vars(args),
        started=started,
        elapsed_s=time.perf_counter() - t_start,
        machine=info,
        dataset=ds,
        target=target,
        loader=tool,
        captured=captured,
        floor=floor,
        api=api,
        postgraphile=peer,
        aggregates=aggs,
        snapshot=snapshot,
        decision=decisions[0],
        accounts=per_account,
    )
    md, js = write(results, out_dir)
    log(f"wrote {md} and {js}")


if __name__ == "__main__":
    main()
