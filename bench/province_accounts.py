"""The students page for every level and line (issue 18 §3): not only the median county.

For a school, township, county, city and province account on both lines (`bench/plans.py` picks them), the
page `students(first: 50)` with the county page's selection (`bench/province.py`, no region filter):
- p50 with one client through HTTP on the served API (the load generator the county page uses: wrk when
  installed, so a Python client's own time is not in the figure), and the server's CPU per request meanwhile;
- its SQL floor: the statements the request ran, captured in-process and replayed over psycopg in the same run;
- the API's own work beyond PostgreSQL: p50 minus the floor.
"""

from __future__ import annotations

import secrets
from typing import Any

from datagen.demo.seed import DEMO_PASSWORD

from . import province_http as web
from .common import log
from .plans import accounts
from .province_db import Dataset
from .province_sql import capture, replay

ACCOUNT_PAGE = (
    "query { students(first: 50) { totalCount edges { cursor node { "
    "id name gender birthDate grade stage specialGroups school { code name } "
    "currentEntry { id ledger status category openedOn lastVisitOn } } } } }"
)


def p50(values: list[float]) -> float:
    return sorted(values)[(len(values) - 1) // 2]


def bench_accounts(ds: Dataset, seconds: float, replay_s: float, tool: str) -> list[dict[str, Any]]:
    who = accounts(ds.dsn)
    out: list[dict[str, Any]] = []
    api = web.start_api(ds.url, secrets.token_urlsafe(32))
    try:
        for username, place in who:
            token = web.api_token(api.base, username, DEMO_PASSWORD)
            body = {"query": ACCOUNT_PAGE, "variables": {}}
            web.run_load(api.base + "/graphql", body, token, 1, min(1.0, seconds), 0, tool)  # warm
            with web.Sampler(api.process.pid) as sampler:
                one = web.run_load(api.base + "/graphql", body, token, 1, seconds, 0, tool)
            requests = max(1, int(one["requests"]))
            captured = capture(ds.url, username, DEMO_PASSWORD, ACCOUNT_PAGE, {}, requests=10, budget_s=5)
            floor = replay(ds.dsn, {"scoped": captured.scoped}, 1000, warmup=10, budget_s=replay_s)
            floor_ms = p50([ns / 1e6 for ns in floor.totals_ns["scoped"]])
            row = {
                "account": username,
                "place": place,
                "total": captured.scoped_rows,
                "p50_ms": float(one["latency_ms"]["p50"]),
                "tool": one.get("tool", tool),
                "floor_ms": floor_ms,
                "statements": len(captured.scoped),
                "server_cpu_ms": sampler.cpu_s["server"] * 1000 / requests,
                "postgres_cpu_ms": sampler.cpu_s["postgres"] * 1000 / requests,
                "rss_max_mb": sampler.max_mb,
            }
            log(
                f"  {username}: p50 {row['p50_ms']:.2f} ms, floor {floor_ms:.2f} ms, "
                f"server CPU {row['server_cpu_ms']:.2f} ms/request, {row['total']:,} children"
            )
            out.append(row)
    finally:
        api.stop()
    return out


def accounts_markdown(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    lines = [
        "### Every level and line (issue 18 §3)",
        "",
        f"`{ACCOUNT_PAGE}` as each account, 50 rows of its own scope (no filter), one client through HTTP "
        f"({rows[0].get('tool', 'the load generator')}, as the county page); the "
        "floor is the request's own statements replayed over psycopg in the same run (bench/PLANS.md has their "
        "plans).",
        "",
        "| account | place | children in scope | p50 ms | SQL floor ms | p50 / floor | server CPU ms / request "
        "| PostgreSQL CPU ms / request |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| `{r['account']}` | {r['place']} | {r['total']:,} | {r['p50_ms']:.2f} | {r['floor_ms']:.2f} | "
            f"{r['p50_ms'] / r['floor_ms']:.2f}× | {r['server_cpu_ms']:.2f} | {r['postgres_cpu_ms']:.2f} |"
        )
    return [*lines, ""]
