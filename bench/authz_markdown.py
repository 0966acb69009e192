"""bench/AUTHZ.md, section by section."""

from __future__ import annotations

from typing import Any

from .authz_data import (
    CITIES,
    COUNTIES,
    COUNTY_SCHOOLS,
    KIND_LABELS,
    KINDS,
    PROVINCE,
    TOWNSHIP_SCHOOLS,
    TOWNSHIPS,
    VILLAGES,
)
from .authz_db import BENCH_DB
from .authz_decisions import DecisionResult
from .authz_notes import decision_notes, scope_notes
from .authz_results import COMMAND, PAIRS, TARGET_DECISION_P99_MS, TARGET_SCOPE_OVERHEAD_PCT, fmt
from .authz_scope import PAGE_LIMIT, ScopeResult
from .common import fenced, summary_ms


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def markdown(
    data: dict[str, Any],
    decisions: list[DecisionResult],
    profile: str,
    scope: ScopeResult | None,
    overheads: dict[str, dict[str, dict[str, float]]],
    app_overheads: dict[str, dict[str, float]],
) -> str:
    """bench/AUTHZ.md: the run, the targets, part 1 (decisions), part 2 (the scope predicate)."""
    lines = [
        *_run(data, decisions, scope),
        *_targets(data, decisions, profile, scope, overheads),
        *_decisions(data, decisions, profile),
    ]
    if scope is None:
        lines += ["## 2. Scope predicate cost", "", "Skipped (`--skip-db`)."]
        return "\n".join(lines) + "\n"
    lines += [
        *_scope_method(data["parameters"], scope),
        *_scope_layouts(scope, overheads),
        *_scope_bound(scope, decisions[-1], app_overheads),
        *_scope_plans(scope),
    ]
    return "\n".join(lines) + "\n"


def _run(data: dict[str, Any], decisions: list[DecisionResult], scope: ScopeResult | None) -> list[str]:
    """The title, how to run it, and the machine and run."""
    info = data["machine"]
    out: list[str] = []
    w = out.append
    w("# Authorization benchmark")
    w("")
    out += fenced(COMMAND)
    w("")
    w(
        "This file and `bench/authz.json` are written by that command (about "
        f"{max(1, round(data['elapsed_s'] / 60)):.0f} min here). Part 2 uses `BENCH_DATABASE_URL` (any database "
        "on a PostgreSQL server), else 127.0.0.1:5432 as `postgres`, else an embedded server in a temporary "
        f"directory; it (re)creates the database `{BENCH_DB}` and drops it at the end. Options: `--children N`, "
        "`--grants 1000,10000,100000`, `--per-kind N`, `--runs N`, `--embedded`, `--keep-db`, `--skip-db`."
    )
    w("")
    w("## Machine and run")
    w("")
    dirty = " (the working tree had uncommitted changes)" if info["git_tree_dirty"] else ""
    w(f"- date: {data['generated_at']}; whole run {data['elapsed_s']} s")
    w(f"- git commit: `{info['git_commit']}`{dirty}")
    w(f"- `uname -a`: `{info['uname']}`")
    w(f"- CPU: {info['cpu_model']}, {info['cores']} cores; memory {info['memory_gib']} GiB")
    pk = info["packages"]
    w(f"- Python {info['python']}, pycasbin {pk['pycasbin']}, SQLAlchemy {pk['sqlalchemy']}, psycopg {pk['psycopg']}")
    if scope is not None:
        w(f"- PostgreSQL {scope.server_version} ({scope.server}), default settings")
    loads = [d.loadavg[0] for d in decisions] + ([x.loadavg[0] for x in scope.layouts] if scope else [])
    w(
        f"- 1-minute load average when each timing started: {', '.join(f'{x:.1f}' for x in loads)} "
        f"(part 1 per size{', then part 2 per layout' if scope else ''}) on {info['cores']} cores. The machine is "
        "shared, so wall-clock tails include preemption by other processes; on-CPU times are given next to them."
    )
    w(
        f"- hierarchy: province {PROVINCE}, {CITIES} cities x {COUNTIES} counties x {TOWNSHIPS} townships x "
        f"{VILLAGES} villages ({CITIES * COUNTIES * TOWNSHIPS * VILLAGES:,} villages), "
        f"{CITIES * COUNTIES * (TOWNSHIPS * TOWNSHIP_SCHOOLS + COUNTY_SCHOOLS):,} schools "
        f"({TOWNSHIP_SCHOOLS} primary per township hung on the township, {COUNTY_SCHOOLS} junior per county on "
        "the county)"
    )
    w("")
    return out


def _targets(
    data: dict[str, Any],
    decisions: list[DecisionResult],
    profile: str,
    scope: ScopeResult | None,
    overheads: dict[str, dict[str, dict[str, float]]],
) -> list[str]:
    """The targets, each measured and judged, and what dominates."""
    targets = data["targets"]
    largest = decisions[-1]
    out: list[str] = []
    w = out.append
    w("## Targets")
    w("")
    w("| target | measured | verdict |")
    w("|---|---|---|")
    lc, lw = largest.cold, largest.warm
    w(
        f"| decision p99 ≤ {TARGET_DECISION_P99_MS:g} ms at {largest.grants:,} grants | worst kind, wall clock: "
        f"first pass after build {fmt(lc.worst_wall_p99)} ms, second pass {fmt(lw.worst_wall_p99)} ms; on CPU "
        f"{fmt(lc.worst_cpu_p99)} / {fmt(lw.worst_cpu_p99)} ms. All kinds pooled, first pass: p50 "
        f"{fmt(lc.wall['p50_ms'], 4)} ms, p99 {fmt(lc.wall['p99_ms'])} ms, max {fmt(lc.wall['max_ms'], 1)} ms | "
        f"{verdict(targets['decision_p99_le_1ms_at_largest'])} |"
    )
    if scope is not None:
        cells = []
        for layout in scope.layouts:
            o = overheads[layout.name]
            cells.append(
                f"{layout.name} ids: COUNTY_EDU {o['COUNTY_EDU']['overhead_pct']:+.1f}%, TOWNSHIP "
                f"{o['TOWNSHIP']['overhead_pct']:+.1f}% ({o['TOWNSHIP_same_rows']['overhead_pct']:+.1f}% against "
                "a by-hand query with the same rows)"
            )
        w(
            f"| scope predicate adds ≤ {TARGET_SCOPE_OVERHEAD_PCT:g}% to a page query ({scope.children:,} children) | "
            f"p50 of page + count, building the predicate included. {'; '.join(cells)} | "
            f"{verdict(targets['scope_overhead_le_5pct'])} |"
        )
    w("")
    w("### What dominates")
    w("")
    w(decision_notes(decisions, profile))
    if scope is not None:
        w("")
        w(scope_notes(scope, overheads))
    w("")
    return out


def _decisions(data: dict[str, Any], decisions: list[DecisionResult], profile: str) -> list[str]:
    """Part 1: `Authorizer.decide` by size, by kind and by level, and its profile."""
    params = data["parameters"]
    largest = decisions[-1]
    out: list[str] = []
    w = out.append
    w("## 1. `Authorizer.decide` latency")
    w("")
    w(
        "Grants: every role at its own level (school roles on school paths, county roles on county paths, "
        "PERMISSION_ADMIN/INTEGRATOR/SUPERVISOR mostly on counties, a few on cities, the province or the nation); "
        "~85% of accounts hold one grant, the rest 2–4 in the same county; 5% expire within a year. Mix: 62% "
        "SCHOOL_STAFF, 8% SCHOOL_PRINCIPAL, 14% VILLAGE, 6% TOWNSHIP, 3% COUNTY_EDU, 1.5% COUNTY_GOV, 1% "
        "PERMISSION_ADMIN, … . "
        f"Requests: {params['per_kind']:,} of each kind per size, all kinds shuffled together, timed one by one "
        f"(wall clock `perf_counter_ns` and thread CPU `thread_time_ns`; the clock reads cost "
        f"{data['timer_overhead_us']['wall_p50_us']:.2f} µs and are included), after 1,000 warm-up decisions "
        "on other objects. **First pass** = the first time these requests are decided after the build; "
        "**second pass** = the same requests again in a new order. GC stays on. Permissions: `CHILD:READ:EDU` on "
        "a school path, `CHILD:READ:GOV` on household and residence village paths (half the children registered "
        "outside the account's jurisdiction), `ACCOUNT:READ:PLACE` for permission admins, `REPORT:READ:EDU` for "
        "the ministry."
    )
    w("")
    w(
        "| grants | accounts | grant domains | build (min; all runs) | full GC | first pass p50 | p99 | max | CPU p99 "
        "| second pass p99 | CPU p99 |"
    )
    w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for d in decisions:
        builds = " / ".join(f"{b * 1000:.0f}" for b in d.build_s)
        w(
            f"| {d.grants:,} | {d.accounts:,} | {d.domains:,} | {min(d.build_s) * 1000:.0f} ms ({builds}) | "
            f"{d.full_gc_ms:.0f} ms | {fmt(d.cold.wall['p50_ms'], 4)} | {fmt(d.cold.wall['p99_ms'])} | "
            f"{fmt(d.cold.wall['max_ms'], 1)} | {fmt(d.cold.cpu['p99_ms'])} | {fmt(d.warm.wall['p99_ms'])} | "
            f"{fmt(d.warm.cpu['p99_ms'])} |"
        )
    w("")
    w(
        "Latencies in ms. Full GC: one `gc.collect()` right after the build, over "
        + ", ".join(f"{d.gc_objects:,}" for d in decisions)
        + " tracked objects — the pause a full collection costs the process while this authorizer is alive. "
        "Collections during the first pass (generation: ms): "
        + "; ".join(
            f"{d.grants:,}: "
            + (", ".join(f"{g}: {ms:.1f}" for g, ms in d.gc_pauses_ms if g == 2 or ms >= 1) or "none ≥ 1 ms")
            for d in decisions
        )
        + "."
    )
    w("")
    w("By kind (ms, wall clock unless marked CPU):")
    w("")
    w(
        "| grants | kind | n | calls Casbin | first p50 | first p90 | first p99 | first max | first CPU p99 | "
        "second p50 | second p99 | second CPU p99 |"
    )
    w("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for d in decisions:
        for kind in KINDS:
            c, cc = d.cold.wall_by_kind[kind], d.cold.cpu_by_kind[kind]
            wa, wc = d.warm.wall_by_kind[kind], d.warm.cpu_by_kind[kind]
            w(
                f"| {d.grants:,} | {kind} | {c['n']:,} | {d.casbin_share.get(kind, 0) * 100:.0f}% | "
                f"{fmt(c['p50_ms'], 4)} | {fmt(c['p90_ms'], 4)} | {fmt(c['p99_ms'])} | {fmt(c['max_ms'], 1)} | "
                f"{fmt(cc['p99_ms'])} | {fmt(wa['p50_ms'], 4)} | {fmt(wa['p99_ms'])} | {fmt(wc['p99_ms'])} |"
            )
    w("")
    for kind in KINDS:
        w(f"- `{kind}`: {KIND_LABELS[kind]}")
    w("- calls Casbin: share of the decisions of that kind that reach `enforcer.enforce` (counted in an extra pass)")
    left_out = {d.grants: {k: v for k, v in d.mismatched.items() if v} for d in decisions if any(d.mismatched.values())}
    if left_out:
        w(
            "- left out because another grant of the same account (e.g. a nation-wide one) did allow the request: "
            + "; ".join(f"{g:,} grants: " + ", ".join(f"{n} {k}" for k, n in m.items()) for g, m in left_out.items())
        )
    w("")
    w(f"Allowed decisions at {largest.grants:,} grants, first pass, by the account's highest grant level (ms):")
    w("")
    w("| level | n | p50 | p99 | max |")
    w("|---|---:|---:|---:|---:|")
    for level, k in largest.by_level.items():
        w(f"| {level} | {k['n']:,} | {fmt(k['p50_ms'], 4)} | {fmt(k['p99_ms'])} | {fmt(k['max_ms'], 1)} |")
    w("")
    w(f"cProfile of 3,000 allowed decisions at {largest.grants:,} grants (third time they are decided; own time):")
    w("")
    out += fenced(profile)
    w("")
    return out


def _scope_method(params: dict[str, Any], scope: ScopeResult) -> list[str]:
    """Part 2: the data, the rounds, the layouts, and the predicates `Access.scope` emits."""
    out: list[str] = []
    w = out.append
    w("## 2. Scope predicate cost on the `list_children` page query")
    w("")
    load_s = scope.load
    w(
        f"{scope.children:,} children (85% live in their household village, 3% are migrants from anywhere, 97% "
        "enrolled: grades 1–6 at a primary school of their residence township, 7–9 at a junior school of their "
        f"county; about {scope.children // (CITIES * COUNTIES):,} per county), loaded with COPY in "
        f"{load_s['children_copy_s'] + load_s['children_index_s']:.1f} s (secondary indexes rebuilt afterwards, "
        "foreign keys checked once), then VACUUM ANALYZE. Each round runs `list_children`'s two statements as "
        "`fetch_page` builds them — `SELECT child.* … WHERE <predicate> ORDER BY child.id LIMIT "
        f"{PAGE_LIMIT + 1}` and `SELECT count(*) … WHERE <predicate>` — for every variant, in random order, on "
        "the same target, compiled by SQLAlchemy with literal binds and run through psycopg (no ORM; auto-prepare "
        f"off, so every query is parsed and planned). {len(scope.targets)} targets (a county in each city, a "
        f"township in it) rotate; {params['runs']} measured rounds after {2 * len(scope.targets)} warm-up rounds. "
        "Two physical layouts of the same rows: "
        + "; ".join(f"**{x.name}**: {x.description}" for x in scope.layouts)
        + f" (renumbering took {load_s.get('recluster_s', 0):.1f} s)."
    )
    w("")
    w("`Access.scope('CHILD', 'READ', SCOPE_COLUMNS)` emits, for the first target:")
    w("")
    for who, where in scope.scoped_where.items():
        form = scope.scoped_form[who].split("_", 1)[1]
        same = {"by_hand": "the by-hand SQL", "or": "the `= OR LIKE` form", "range": "the range form"}.get(form)
        w(f"- {who}: `{where}`" + (f" — identical to {same} below" if same else ""))
    w("")
    w(
        "Variants: `Access.scope` (what the code emits), the query a user would write by hand, and the two "
        "subtree forms `within_path` has used — `col = 'p' OR col LIKE 'p/%'` and `col >= 'p' AND col < 'p0'` "
        "(functions `or_within` and `range_within` here) — so the comparison survives changes to the code. "
        "Times in ms. pk-order: for how many targets PostgreSQL plans the page as a walk of `child_pkey` in id "
        "order with the predicate as a filter (otherwise: index scan, then top-N sort)."
    )
    w("")
    return out


def _scope_layouts(scope: ScopeResult, overheads: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    """Part 2: each layout's variants and the overheads against their baselines."""
    out: list[str] = []
    w = out.append
    for layout in scope.layouts:
        w(f"### {layout.name.capitalize()} ids")
        w("")
        w(
            "| variant | page p50 | page p99 | count p50 | count p99 | page+count p50 | page+count p99 | "
            "rows / total | pk-order |"
        )
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for v in layout.variants:
            p, c, t = summary_ms(v.page_ns), summary_ms(v.count_ns), summary_ms(v.total_ns)
            rows, total = v.rows_total[0]
            w(
                f"| {v.label} | {fmt(p['p50_ms'])} | {fmt(p['p99_ms'])} | {fmt(c['p50_ms'])} | "
                f"{fmt(c['p99_ms'])} | {fmt(t['p50_ms'])} | {fmt(t['p99_ms'])} | {rows} / {total:,} | "
                f"{layout.pk_plans[v.name]}/{len(scope.targets)} |"
            )
        w("")
        w(
            "| compared | measured p50 | baseline p50 | SQL p50 | SQL p99 | paired median diff | + Python build | "
            "**overhead** |"
        )
        w("|---|---:|---:|---:|---:|---:|---:|---:|")
        labels = {key: label for key, *_, label in PAIRS}
        for key, o in overheads[layout.name].items():
            w(
                f"| {labels[key]} | {fmt(o['scoped_p50_ms'])} | {fmt(o['baseline_p50_ms'])} | "
                f"{o['sql_overhead_p50_pct']:+.1f}% | {o['sql_overhead_p99_pct']:+.1f}% | "
                f"{o['paired_median_diff_ms'] * 1000:+.0f} µs | {o['scope_build_p50_ms'] * 1000:.0f} µs | "
                f"**{o['overhead_pct']:+.1f}%** |"
            )
        w("")
    w(
        "**overhead** = (measured p50 + Python build p50 − baseline p50) / baseline p50, page + count. Paired "
        "median diff = median over rounds of (measured − baseline), same target, same round. The one-column "
        "TOWNSHIP baseline misses children who live in the township but are registered elsewhere; the same-rows "
        "lines compare only the predicate's form."
    )
    w("")
    return out


def _scope_bound(scope: ScopeResult, largest: DecisionResult, app_overheads: dict[str, dict[str, float]]) -> list[str]:
    """Part 2: the Python build of the predicate, and the queries with bound parameters."""
    out: list[str] = []
    w = out.append
    w(
        "Python side: `Access(principal, authorizer, now).scope('CHILD', 'READ', SCOPE_COLUMNS)` with the "
        f"{largest.grants:,}-grant authorizer, 3,000 calls (µs):"
    )
    w("")
    w("| principal | p50 | p99 | max |")
    w("|---|---:|---:|---:|")
    for who, s in scope.scope_build.items():
        w(f"| {who} | {s['p50_us']:.1f} | {s['p99_us']:.1f} | {s['max_us']:.1f} |")
    w("")
    w("### Bound parameters, as SQLAlchemy sends them (scattered ids)")
    w("")
    w(
        "The application binds the paths as parameters, and psycopg prepares a statement on the server after "
        "5 executions on a connection, after which PostgreSQL may switch to a generic plan that cannot see the "
        "prefix. Same rounds, one connection per variant, psycopg defaults (ms):"
    )
    w("")
    w("| variant | page+count p50 | page+count p99 | count p50 | count p99 | prepared: generic / custom plans |")
    w("|---|---:|---:|---:|---:|---|")
    for v in scope.app_variants:
        t, c = summary_ms(v.total_ns), summary_ms(v.count_ns)
        plans = ", ".join(f"{kind} {g} / {cu}" for kind, g, cu in scope.app_plans.get(v.name, []))
        w(
            f"| {v.label} | {fmt(t['p50_ms'])} | {fmt(t['p99_ms'])} | {fmt(c['p50_ms'])} | {fmt(c['p99_ms'])} | "
            f"{plans} |"
        )
    w("")
    w("| compared | measured p50 | baseline p50 | overhead incl. Python build |")
    w("|---|---:|---:|---:|")
    labels = {key: label for key, *_, label in PAIRS}
    for key, o in app_overheads.items():
        w(f"| {labels[key]} | {fmt(o['scoped_p50_ms'])} | {fmt(o['baseline_p50_ms'])} | {o['overhead_pct']:+.1f}% |")
    w("")
    return out


def _scope_plans(scope: ScopeResult) -> list[str]:
    """Part 2: the query plans, folded."""
    out: list[str] = []
    w = out.append
    w(
        "<details><summary>Query plans (EXPLAIN ANALYZE, first target, literal SQL; run before the timed rounds, "
        "so some buffers are still cold)</summary>"
    )
    w("")
    for layout in scope.layouts:
        for v in layout.variants:
            w(f"#### {layout.name} ids — {v.label}")
            w("")
            out += fenced(layout.explains[v.name])
            w("")
    for name, plan in scope.generic_plans.items():
        w(f"#### generic plan of the count query, {name} (plan_cache_mode = force_generic_plan)")
        w("")
        out += fenced(plan)
        w("")
    w("</details>")
    return out
