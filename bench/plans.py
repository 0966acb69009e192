"""Plans of the scoped lists (issue 18 §1): does each page read only the page, for every level and line?

```
uv run python -m bench.plans --database-url postgresql://…/baoxue_bench_province [--children 7000000]
```

For a school, township, county, city and province account on both lines (in the median county and the
places around it), each list (`students`, `ledgerEntries`, `schoolAgeChildren`) is asked for its first page
and then for the page after it, through the application in this process. Every statement the request runs
against `child` or `ledger_entry` is then run again under `EXPLAIN (ANALYZE, BUFFERS)`: what it read (rows
out of every scan node, and rows its filters removed), its buffers and its time. Written to
`bench/PLANS.md` with each plan in full.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from baoxue.app import create_app
from baoxue.database import APP_OPTIONS

from .common import libpq, log, machine
from .province_sql import Statement, StatementLog, bench_settings, short

PAGE = 50
LISTS = {
    "students": (
        "query($after: String) { students(first: 50, after: $after) { totalCount pageInfo { endCursor } "
        "edges { node { id name school { name } currentEntry { status } } } } }"
    ),
    "ledgerEntries": (
        "query($after: String) { ledgerEntries(first: 50, after: $after) { totalCount pageInfo { endCursor } "
        "edges { node { id status category } } } }"
    ),
    "schoolAgeChildren": (
        "query($after: String) { schoolAgeChildren(first: 50, after: $after) { totalCount "
        "pageInfo { endCursor } edges { node { age schoolingStatus student { id name } } } } }"
    ),
}
SCANS = {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan"}


@dataclass
class Measured:
    account: str
    place: str
    list: str
    page: int
    statement: str
    ms: float
    rows_read: int
    buffers: int
    plan: str


def accounts(dsn: str) -> list[tuple[str, str]]:
    """(account, what it is) around the median county by children: its school with the most children (or
    the province's, among schools with an account), a township of it, the county, its city and its province,
    on each line where such an account exists."""
    with psycopg.connect(dsn) as conn:
        county = conn.execute(
            "SELECT split_part(school_path, '/', 3) c FROM child WHERE school_path IS NOT NULL "
            "GROUP BY 1 ORDER BY count(*), 1 OFFSET (SELECT count(DISTINCT split_part(school_path, '/', 3)) / 2 "
            "FROM child WHERE school_path IS NOT NULL) LIMIT 1"
        ).fetchone()[0]  # type: ignore[index]
        school = conn.execute(
            "SELECT school_code FROM child WHERE school_path LIKE %s AND 'staff-school-' || school_code IN "
            "(SELECT username FROM account) GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
            (f"%/{county}/%",),
        ).fetchone()  # the school with an account and the most children in the county
        if school is None:
            school = conn.execute(
                "SELECT school_code FROM child WHERE 'staff-school-' || school_code IN (SELECT username FROM account) "
                "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
            ).fetchone()
        township = conn.execute(
            "SELECT min(username) FROM account WHERE username LIKE %s", (f"gov-township-{county}%",)
        ).fetchone()[0]  # type: ignore[index]
        names = {row[0] for row in conn.execute("SELECT username FROM account")}
    wanted = [
        (f"staff-school-{school[0] if school else ''}", "school (education)"),
        (township, "township (government)"),
        (f"edu-county-{county}", "county (education)"),
        (f"gov-county-{county}", "county (government)"),
        (f"edu-city-{county[:4]}", "city (education)"),
        (f"gov-city-{county[:4]}", "city (government)"),
        (f"edu-province-{county[:2]}", "province (education)"),
        (f"gov-province-{county[:2]}", "province (government)"),
    ]
    return [(name, place) for name, place in wanted if name in names]


def read_of(node: dict[str, Any]) -> int:
    """Rows a plan's scans produced and their filters removed, over all loops."""
    own = 0
    if node.get("Node Type") in SCANS:
        loops = node.get("Actual Loops", 1)
        own = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)) * loops
        own += node.get("Rows Removed by Index Recheck", 0)
    return own + sum(read_of(child) for child in node.get("Plans", []))


def explain(dsn: str, statement: str, params: Any) -> tuple[float, int, int, str]:
    with psycopg.connect(dsn, options=APP_OPTIONS) as conn:  # the app's session settings
        conn.execute(statement, params)  # warm
        tree = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, params).fetchone()[0][0]  # type: ignore[index]
        text = "\n".join(r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params))
        conn.rollback()
    plan = tree["Plan"]
    buffers = plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0)
    return float(tree["Execution Time"]), read_of(plan), buffers, text


async def capture(url: str, who: list[tuple[str, str]]) -> dict[tuple[str, str, int], list[Statement]]:
    app = create_app(bench_settings(url))
    log_ = StatementLog()
    out: dict[tuple[str, str, int], list[Statement]] = {}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client,
    ):
        for username, _ in who:
            reply = await client.post("/auth/token", data={"username": username, "password": "baoxue-demo"})
            reply.raise_for_status()
            headers = {"authorization": f"Bearer {reply.json()['access_token']}"}
            for name, query in LISTS.items():
                after = None
                for page in (1, 2):
                    with log_.listening():
                        log_.statements.clear()
                        r = await client.post(
                            "/graphql", json={"query": query, "variables": {"after": after}}, headers=headers
                        )
                        captured = [s for s in log_.statements if " child" in s[0] or " ledger_entry" in s[0]]
                    body = r.json()
                    if body.get("errors"):
                        log(f"  {username} {name}: {body['errors'][0].get('message')}")
                        break
                    out[(username, name, page)] = captured
                    after = body["data"][name]["pageInfo"]["endCursor"]
                    if after is None:
                        break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--output", default=str(Path(__file__).with_name("PLANS.md")))
    args = parser.parse_args()
    dsn = libpq(args.database_url)
    who = accounts(dsn)
    log(f"accounts: {', '.join(a for a, _ in who)}")
    captured = asyncio.run(capture(args.database_url, who))
    place = dict(who)
    results: list[Measured] = []
    for (username, name, page), statements in captured.items():
        for statement, params in statements:
            ms, rows, buffers, text = explain(dsn, statement, params)
            results.append(Measured(username, place[username], name, page, short(statement), ms, rows, buffers, text))
    with psycopg.connect(dsn) as conn:
        children = conn.execute("SELECT count(*) FROM child").fetchone()[0]  # type: ignore[index]
        entries = conn.execute("SELECT count(*) FROM ledger_entry").fetchone()[0]  # type: ignore[index]
        postgres = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    write(Path(args.output), results, children, entries, postgres)
    log(f"written {args.output}")


def write(path: Path, results: list[Measured], children: int, entries: int, postgres: str) -> None:
    m = machine()
    lines = [
        "# Plans of the scoped lists (issue 18 §1)",
        "",
        "```",
        "uv run python -m bench.plans --database-url postgresql://…/<a seeded database>",
        "```",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; git commit `{m['git_commit']}`; {m['cpu_model']}, "
        f"{m['cores']} cores, {m['memory_gib']} GiB; PostgreSQL {postgres}",
        f"- data: {children:,} children, {entries:,} ledger entries (`baoxue seed synthetic`)",
        f"- each list's first page and the page after it ({PAGE} rows each); **read** is the rows every scan "
        "node returned plus the rows its filters removed, over all loops: what the statement touched",
        "",
        "| account | place | list | page | statement | ms | read | buffers |",
        "|---|---|---|---:|---|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| `{r.account}` | {r.place} | {r.list} | {r.page} | `{r.statement}` | {r.ms:.2f} | {r.rows_read:,} "
            f"| {r.buffers:,} |"
        )
    lines += ["", "## The plans", ""]
    for r in results:
        lines += [
            f"<details><summary><code>{r.account}</code> {r.list} page {r.page}: <code>{r.statement}</code>, "
            f"{r.ms:.2f} ms</summary>",
            "",
            "```",
            r.plan,
            "```",
            "",
            "</details>",
            "",
        ]
    path.write_text("\n".join(lines))
    path.with_suffix(".json").write_text(json.dumps([r.__dict__ | {"plan": None} for r in results], indent=1))


if __name__ == "__main__":
    main()
