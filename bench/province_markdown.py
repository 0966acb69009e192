"""The text of bench/RESULTS.md (numbers computed in province_report.py)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .common import fenced, summary_ms
from .province_accounts import accounts_markdown
from .province_sql import short

if TYPE_CHECKING:
    from .province_report import Results


def markdown(r: Results, n: dict[str, Any], goals: list[tuple[str, str, bool | None]]) -> str:
    from .province_report import fmt, times, verdict

    out: list[str] = []
    w = out.append
    info, ds, t, api, pg = r.machine, r.dataset, r.target, r.api, r.postgraphile
    has_pg = "loaded" in pg
    w("# Province benchmark")
    w("")
    out += fenced(r.command + (" " + " ".join(r.argv) if r.argv else ""))
    w("")
    w(
        "Written by that command with `bench/results.json` (run `--help` for the options). It seeds "
        "`baoxue_bench_province` once per scale and seed and reuses it afterwards. Authorization decisions in "
        "detail, and the scope predicate's forms, are in `bench/AUTHZ.md` (`uv run python -m bench.authz`)."
    )
    w("")
    w("## Machine and run")
    w("")
    dirty = " (working tree with uncommitted changes)" if info["git_tree_dirty"] else ""
    packages = ", ".join(f"{k} {v}" for k, v in info["packages"].items())
    w(f"- date: {r.started.isoformat(timespec='seconds')}; whole run {r.elapsed_s:.0f} s")
    w(f"- git commit: `{info['git_commit']}`{dirty}")
    w(f"- {info['cpu_model']}, {info['cores']} cores, {info['memory_gib']} GiB; `{info['uname']}`")
    w(f"- Python {info['python']}; {packages}")
    settings = ", ".join(f"{k} {v}" for k, v in ds.settings.items())
    sizes = ", ".join(f"{k} {v:,.0f} MB" for k, v in ds.sizes_mb.items())
    w(f"- PostgreSQL {ds.server_version} ({ds.server}): {settings}; tables with indexes: {sizes}")
    reused = "reused from an earlier run" if ds.reused else "seeded in this run"
    seed_s = f", seeding took {ds.seed_s:.0f} s" if ds.seed_s else ""
    w(f"- **scale: {ds.children:,} children** (`baoxue seed {ds.seeder}`, {reused}{seed_s})")
    w(
        f"- page: county `{t.county_path}` as `{t.county_account}`, {t.county_children:,} enrolled children "
        f"(the median of {t.counties_with_accounts} counties with an account: {t.county_children_median:,.0f}); "
        f"aggregates: province `{t.province_path}` and that county"
    )
    w(
        f"- load generator: {r.loader} in its own process, {r.args['connections']} connections for "
        f"{r.args['duration']:.0f} s and 1 connection for {r.args['latency_duration']:.0f} s, each after "
        f"{r.args['warmup']:.0f} s of warm-up; 1-minute load average at the end of the API load "
        f"{api['loadavg'][0]:.1f} on {info['cores']} cores (the machine is shared: other work shows up in tails)"
    )
    w("")
    w("## Targets (issue 5, item 3; issue 6, item 8; issue 18 §3)")
    w("")
    w("| target | measured | verdict |")
    w("|---|---|---|")
    for label, measured, ok in goals:
        w(f"| {label} | {measured} | {verdict(ok)} |")
    w("")

    w("### What dominates")
    w("")
    w(dominates(r, n))
    w("")
    w("## a. County page query")
    w("")
    out += fenced(r.page_query, "graphql")
    w("")
    raw = summary_ms(r.floor.totals_ns["scoped"])
    w(
        "| | req/s, 8 clients | vs PostGraphile | p50, 1 client | p99, 1 client | vs raw SQL p50 | p50, 8 clients | "
        "p99, 8 clients | server CPU / req | PostgreSQL CPU / req |"
    )
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    w(
        f"| raw SQL (psycopg, sequential, {len(r.captured.scoped)} statements) | – | – | {fmt(raw['p50_ms'])} | "
        f"{fmt(raw['p99_ms'])} | 1.00× | – | – | – | – |"
    )
    rows = [("**API** (`baoxue serve --workers 1`)", api)]
    if has_pg:
        rows.append((f"PostGraphile {pg.get('version', '4')} (1 Node process)", pg))
    for label, s in rows:
        one, many = s["one_client"]["latency_ms"], s["loaded"]["latency_ms"]
        vs_pg = times(s["loaded"]["rps"] / pg["loaded"]["rps"]) if has_pg else "–"
        w(
            f"| {label} | {fmt(s['loaded']['rps'], 0)} | {vs_pg} | {fmt(one['p50'])} | {fmt(one['p99'])} | "
            f"{times(one['p50'] / raw['p50_ms'])} | {fmt(many['p50'])} | {fmt(many['p99'])} | "
            f"{fmt(s['server_cpu_ms_per_request'])} | {fmt(s['postgres_cpu_ms_per_request'])} |"
        )
    if not has_pg:
        w(f"| PostGraphile | not run: {pg.get('skipped')} | | | | | | | | |")
    w("")
    w(
        "Latencies in ms. Errors and non-2xx answers: API "
        f"{api['loaded'].get('errors', 0)} / {api['loaded'].get('non_2xx', 0)}"
        + (f", PostGraphile {pg['loaded'].get('errors', 0)} / {pg['loaded'].get('non_2xx', 0)}" if has_pg else "")
        + f". The response has {api['digest']['fields']:,} fields (objects and scalars)."
    )
    w("")
    w("**Same page, same rows.** " + equivalence(api, pg))
    w("")
    w(
        "PostGraphile sees the schema `bench_pg` (bench/province_db.py): views over `child`, `school` and the open "
        "`ledger_entry` rows (smart comments declare the keys and relations views lack), and "
        "`children_in_region(region_path, scope_path)`, a `STABLE` SQL function PostgreSQL inlines into "
        "PostGraphile's one statement, with the API's two predicates (household, residence or school inside the "
        "region; school inside the county account's education scope) and the API's SQL tactics (the region filter "
        "folds away when it is the scope itself; the page is ordered by `(school_path, id)`, as the API orders it "
        "(issue 18 §1), so PostgreSQL reads the county from the `(school_path, id)` index and stops after the "
        "page). Differences: PostGraphile authenticates "
        "nobody and decides nothing (no JWT, no account lookup, no Casbin, no per-entry read check; row-level "
        "security would add a transaction with `set_config` per request); its client passes paths, where the API "
        'resolves the region code with a statement of its own; its ids are base64 of `["children", id]`, the '
        "API's of `Student:id`. Its query:"
    )
    w("")
    out += fenced(r.postgraphile_query, "graphql")
    w("")
    w("### Where the page's time goes")
    w("")
    w("The statements the API ran for one page, replayed (the floor above is their sum, in one transaction):")
    w("")
    w("| # | statement | p50 ms |")
    w("|---:|---|---:|")
    for i, ((statement, _), ns) in enumerate(zip(r.captured.scoped, r.floor.per_statement_ns, strict=True), 1):
        w(f"| {i} | `{short(statement)}` | {fmt(summary_ms(ns)['p50_ms'], 3)} |")
    w("")
    ip = r.captured.inprocess_ms
    w(
        f"In one process (ASGI transport, no HTTP server, {r.captured.timed_requests} sequential requests): "
        f"p50 {fmt(ip['request_p50'])} ms a request, of which {fmt(ip['sql_p50'])} ms inside `cursor.execute` "
        f"and {fmt(ip['other_p50'])} ms everything else. Then {r.captured.profiled_requests} requests under "
        "cProfile: time inside the functions that "
        "run each phase, and own time by area without the benchmark's client (the profiler inflates Python "
        "time, so compare the parts with each other, not with the latencies above):"
    )
    w("")
    w("| phase | ms per request, profiled |")
    w("|---|---:|")
    for phase, ms, _ in r.captured.profile_phases:
        label = "&nbsp;&nbsp;" + phase.strip() if phase.startswith(" ") else phase
        w(f"| {label} | {fmt(ms)} |")
    w("")
    w("| area (own time) | share |")
    w("|---|---:|")
    for area, share in r.captured.profile_groups[:14]:
        w(f"| {area} | {share * 100:.1f}% |")
    w("")
    for (statement, _), plan in zip(r.captured.scoped, r.floor.explains, strict=False):
        if plan:
            w(f"<details><summary>EXPLAIN (ANALYZE, BUFFERS) of <code>{short(statement)}</code></summary>")
            w("")
            out += fenced(" ".join(statement.split()), "sql")
            w("")
            out += fenced(plan)
            w("")
            w("</details>")
            w("")
    w("<details><summary>cProfile, top functions by own time</summary>")
    w("")
    out += fenced(r.captured.profile_top)
    w("")
    w("</details>")
    w("")

    out += accounts_markdown(r.accounts)
    d = r.decision
    w("## b. Authorization")
    w("")
    w("| measure | p50 | p99 | max | baseline | ratio |")
    w("|---|---:|---:|---:|---:|---:|")
    w(
        f"| `Authorizer.decide`, {d.grants:,} grants, first pass, all kinds | {fmt(d.cold.wall['p50_ms'], 4)} | "
        f"{fmt(d.cold.wall['p99_ms'], 3)} | {fmt(d.cold.wall['max_ms'], 2)} | target 1 ms | "
        f"{times(d.cold.wall['p99_ms'] / 1.0)} |"
    )
    w(
        f"| same, worst kind's p99 (on CPU {fmt(d.cold.worst_cpu_p99, 3)}) | | {fmt(d.cold.worst_wall_p99, 3)} | | "
        f"target 1 ms | {times(d.cold.worst_wall_p99)} |"
    )
    uns = summary_ms(r.floor.totals_ns["unscoped"])
    w(
        f"| page SQL with the scope predicate | {fmt(raw['p50_ms'], 3)} | {fmt(raw['p99_ms'], 3)} | "
        f"{fmt(raw['max_ms'], 2)} | without: {fmt(uns['p50_ms'], 3)} | {times(raw['p50_ms'] / uns['p50_ms'])} |"
    )
    w("")
    w(
        f"The scope predicate's share of the page's SQL: **{n['scope_predicate_share_pct']:+.1f}%** (p50 with vs "
        f"without; without it the county's page matches {r.captured.unscoped_rows:,} children instead of "
        f"{r.captured.scoped_rows:,}: the region filter alone also takes children who live there and study "
        "elsewhere)."
        + (
            " Negative: with the scope the statements are simpler, since the API drops a region filter that the "
            "caller's scope already implies (one path range instead of a three-way OR), and they match fewer rows."
            if n["scope_predicate_share_pct"] < 0 and region_filter_dropped(r)
            else ""
        )
        + " Decisions: synthetic grants over a synthetic province (bench/authz.py), "
        f"{r.args['per_kind']:,} requests of each of four kinds; second pass p99 {fmt(d.warm.wall['p99_ms'], 3)} ms."
    )
    w("")

    w("## c. Aggregates")
    w("")
    w(
        "Open suspected and dropout entries counted by city × ledger × status × stage × category "
        "(`ledgerCounts(regionCode:, by: CITY)` as the province account; by COUNTY as the county account). "
        f"p50 of {r.args['aggregate_runs']} runs after one warm-up, ms:"
    )
    w("")
    w("| approach | scope | p50 | max | rows | entries | vs base tables |")
    w("|---|---|---:|---:|---:|---:|---:|")
    base = {a.scope: summary_ms(a.samples_ns)["p50_ms"] for a in r.aggregates if a.name == "base tables"}
    for a in r.aggregates:
        s = summary_ms(a.samples_ns)
        w(
            f"| SQL, {a.name} | {a.scope} | {fmt(s['p50_ms'])} | {fmt(s['max_ms'])} | {a.rows:,} | {a.entries:,} | "
            f"{times(s['p50_ms'] / base[a.scope])} |"
        )
    for scope, c in api.get("ledger_counts", {}).items():
        samples = sorted(c["samples_ms"])
        p = samples[(len(samples) - 1) // 2]
        w(
            f"| API `ledgerCounts` ({c['account']}, HTTP) | {scope} | {fmt(p)} | {fmt(samples[-1])} | {c['rows']:,} "
            f"| {c['entries']:,} | {times(p / base[scope])} |"
        )
    w("")
    w("<details><summary>SQL</summary>")
    w("")
    for a in r.aggregates:
        if a.scope == "province":
            w(f"- {a.name}: `{a.sql}`")
    w("")
    w("</details>")
    w("")

    w(province_report(r, n))
    w("")
    w("## d. Memory")
    w("")
    w("| process | RSS idle (after warm-up) | max under load | mean under load | vs PostGraphile |")
    w("|---|---:|---:|---:|---:|")
    for label, s in rows:
        vs = times(s["rss_max_mb"] / pg["rss_max_mb"]) if has_pg else "–"
        w(
            f"| {label} | {fmt(s['rss_idle_mb'], 0)} MB | {fmt(s['rss_max_mb'], 0)} MB | "
            f"{fmt(s['rss_mean_mb'], 0)} MB | {vs} |"
        )
    w("")
    w(f"Sampled every 0.1 s with psutil during the {r.args['connections']}-client load.")
    return "\n".join(out) + "\n"


def equivalence(api: dict[str, Any], pg: dict[str, Any]) -> str:
    a = api["digest"]
    if "digest" not in pg:
        return f"The API's page: {len(a['ids'])} children of {a['total']:,}."
    p = pg["digest"]
    same = {
        "totalCount": a["total"] == p["total"],
        "children and their order": a["ids"] == p["ids"],
        "schools": a["schools"] == p["schools"],
        "open entries": a["entries"] == p["entries"],
    }
    agree = [k for k, ok in same.items() if ok]
    differ = [k for k, ok in same.items() if not ok]
    text = f"API and PostGraphile return {len(a['ids'])} of {a['total']:,} children; they agree on " + (
        ", ".join(agree) or "nothing"
    )
    if differ:
        text += f"; they differ on {', '.join(differ)} (API totalCount {a['total']}, PostGraphile {p['total']})"
    return text + "."


def dominates(r: Results, n: dict[str, Any]) -> str:
    """A few sentences read off the numbers: the slowest statement, Python's part, validation."""
    from .province_report import fmt

    lines = []
    p50s = [summary_ms(ns)["p50_ms"] for ns in r.floor.per_statement_ns]
    worst = max(range(len(p50s)), key=lambda i: p50s[i])
    raw = n["raw_sql_p50_ms"]
    text = (
        f"- **SQL**: of the page's {len(p50s)} statements, `{short(r.captured.scoped[worst][0])}` takes "
        f"{fmt(p50s[worst])} of the {fmt(raw)} ms (p50, {p50s[worst] / raw * 100:.0f}%)"
    )
    plan = r.floor.explains[worst] if worst < len(r.floor.explains) else ""
    walk = re.search(r"Index Scan using (\w+).*?Rows Removed by Filter: (\d+)", plan, re.DOTALL)
    estimate = re.search(r"rows=(\d+) width=", plan.split("->", 1)[-1])
    if walk:
        text += f": PostgreSQL walks `{walk.group(1)}` and filters out {int(walk.group(2)):,} rows"
    if estimate:
        text += f" (it estimated {int(estimate.group(1)):,} matching rows; {r.captured.scoped_rows:,} match)"
    lines.append(text + ".")
    ip = r.captured.inprocess_ms
    pg = r.postgraphile
    peer = (
        f"; PostGraphile's Node process spends {fmt(pg['server_cpu_ms_per_request'])} ms of CPU per request"
        if "loaded" in pg
        else ""
    )
    lines.append(
        f"- **Python**: in one process a page takes {fmt(ip['request_p50'])} ms, {fmt(ip['other_p50'])} ms of it "
        f"outside `cursor.execute`; under load the server process spends "
        f"{fmt(n['page_server_cpu_ms_per_request'])} ms of CPU per request{peer}."
    )
    validate = next((p for p in r.captured.profile_phases if "validate`" in p[0]), None)
    if validate and validate[1] is not None:
        every = validate[2] >= r.captured.profiled_requests
        lines.append(
            f"- **Validation**: graphql-core's `validate` ran {validate[2]} times in {r.captured.profiled_requests} "
            f"requests of the same document ({fmt(validate[1])} ms each, profiled)"
            + (": the validation cache does not hit." if every else ".")
        )
    elif validate:
        lines.append(
            f"- **Validation**: graphql-core's `validate` did not run in {r.captured.profiled_requests} requests of "
            "the same document (the validation cache hits)."
        )
    return "\n".join(lines)


def region_filter_dropped(r: Results) -> bool:
    """Whether the scoped request's SQL lost the household/residence region filter the unscoped one has."""

    def has(statements: list[tuple[str, Any]]) -> bool:
        return any("household_path >=" in text for text, _ in statements)

    return has(r.captured.unscoped) and not has(r.captured.scoped)


def province_report(r: Results, n: dict[str, Any]) -> str:
    """The province report (`ledgerStatistics`) of this run, and the last run at each scale."""
    from .province_report import fmt

    report = r.api.get("ledger_statistics")
    out = ["### The province report: month-end statistics (issue 6, item 8)", ""]
    if report is None:
        return "\n".join([*out, "Not measured: the province has no `edu-province-<code>` account."])
    periods, samples = report["periods"], sorted(report["samples_ms"])
    missing = ", ".join(report["missing_periods"]) or "none"
    snap = r.snapshot
    out += [
        f'`ledgerStatistics(regionCode: "{r.target.province_code}", by: CITY, dimensions: [STAGE])` as '
        f"`{report['account']}` through `baoxue serve`: the default 12 months ({periods[0]} to {periods[-1]}; "
        f"missing: {missing}), {report['rows']:,} rows of counts and rates; {len(samples)} sequential requests "
        "after one warm-up. It sums the month-end table `period_statistic` (one narrow index range per month), "
        "which `baoxue stats snapshot` fills from the ledgers' history (models/repos/period_statistics.py) and "
        "`baoxue ledger sweep` refreshes for this month and the last.",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| API p50 | {fmt(n['province_report_ms'])} ms |",
        f"| API p95 | {fmt(n['province_report_p95_ms'])} ms |",
        f"| API max | {fmt(samples[-1])} ms |",
        f"| `baoxue stats snapshot`, 12 months | {fmt(snap.get('12_months_s'), 1)} s |",
        f"| `baoxue stats snapshot`, this month | {fmt(snap.get('1_month_s'), 1)} s |",
        f"| `period_statistic` rows (size) | {snap.get('rows', 0):,} ({fmt(snap.get('table_mb'), 1)} MB) |",
        "",
        "At each scale measured (the last run at each, carried over in `results.json`):",
        "",
        "| children | date | machine | p50 ms | p95 ms | rows | snapshot 12 months | snapshot 1 month | seeding |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for h in n.get("province_report_history", []):
        out.append(
            f"| {h['scale_children']:,} | {h['date']} | {h['machine']} | {fmt(h['p50_ms'])} | {fmt(h['p95_ms'])} | "
            f"{h['rows']:,} | {fmt(h['snapshot_12_months_s'], 1)} s | {fmt(h['snapshot_1_month_s'], 1)} s | "
            f"{fmt(h['seed_s'], 0)} s |"
        )
    return "\n".join(out)
