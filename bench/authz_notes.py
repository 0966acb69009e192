"""The "What dominates" notes of bench/AUTHZ.md: what the numbers of each part come from."""

from __future__ import annotations

import re

from .authz_data import KINDS
from .authz_decisions import DecisionResult
from .authz_results import fmt
from .authz_scope import PAGE_LIMIT, ScopeResult, Variant
from .common import summary_ms


def decision_notes(decisions: list[DecisionResult], profile: str) -> str:
    d, small = decisions[-1], decisions[0]
    c, wm = d.cold, d.warm
    asks = [k for k in KINDS if d.casbin_share.get(k, 0) >= 0.5]
    skips = [k for k in KINDS if k not in asks]

    def cpu_p50_us(result: DecisionResult, kinds: list[str]) -> str:
        values = [result.cold.cpu_by_kind[k]["p50_ms"] * 1000 for k in kinds]
        return f"{min(values):.0f}–{max(values):.0f}" if len(values) > 1 else f"{values[0]:.0f}"

    lines = []
    if asks:
        text = (
            f"- **Decisions: Casbin's `enforce` is the cost.** Kinds that call it ({', '.join(asks)}) take "
            f"{cpu_p50_us(d, asks)} µs on CPU at p50 at {d.grants:,} grants ({cpu_p50_us(small, asks)} µs at "
            f"{small.grants:,})"
        )
        if skips:
            text += f"; kinds that never reach it ({', '.join(skips)}) take {cpu_p50_us(d, skips)} µs"
        text += "."
        if "compile" in profile:
            text += (
                " In the profile, `CoreEnforcer.enforce_ex` re-parses the matcher on every call (`builtins.compile`"
                " and a new `SimpleEval`), then evaluates it per `p` line (one per role) until one matches, each "
                "`g(...)` a `DomainManager.has_link`."
            )
        lines.append(text)
    lines.append(
        f"- **First pass vs second pass** at {d.grants:,} grants: on-CPU p99 {fmt(c.cpu['p99_ms'])} vs "
        f"{fmt(wm.cpu['p99_ms'])} ms (worst kind {fmt(c.worst_cpu_p99)} vs {fmt(wm.worst_cpu_p99)} ms). Casbin's "
        "`DomainManager` builds each domain's `RoleManager` lazily, on the first `has_link` in that domain, so "
        "the first decisions after a build pay for it. Wall clock p99 is "
        f"{fmt(c.wall['p99_ms'])} / {fmt(wm.wall['p99_ms'])} ms; the gap to on-CPU time is preemption (load "
        f"average {d.loadavg[0]:.1f} on this 2-core machine)."
    )
    full = [
        f"{x.grants:,} grants: " + (", ".join(f"{ms:.0f} ms" for g, ms in x.gc_pauses_ms if g == 2) or "none")
        for x in decisions
    ]
    lines.append(
        f"- **GC.** A full collection with the {d.grants:,}-grant authorizer alive walks {d.gc_objects:,} objects "
        f"and takes {d.full_gc_ms:.0f} ms, and any request in the process can absorb it. Full collections that "
        f"landed in the first passes: {'; '.join(full)} (first-pass max at {d.grants:,} grants: "
        f"{fmt(c.wall['max_ms'], 1)} ms)."
    )
    lines.append(
        "- **Build** time: " + ", ".join(f"{x.grants:,} grants → {min(x.build_s):.2f} s" for x in decisions) + "."
    )
    return "\n".join(lines)


def estimate_vs_actual(plan: str, node: str) -> tuple[int, int] | None:
    """(estimated rows, actual rows) of the first plan line containing `node`."""
    for line in plan.splitlines():
        if node in line:
            found = re.search(r"rows=(\d+) width=.*actual.*rows=(\d+)", line)
            if found:
                return int(found.group(1)), int(found.group(2))
    return None


def scope_notes(scope: ScopeResult, overheads: dict[str, dict[str, dict[str, float]]]) -> str:
    t = len(scope.targets)
    lines = []
    for layout in scope.layouts:
        by = {v.name: v for v in layout.variants}

        def p50(name: str, part: str, by: dict[str, Variant] = by) -> float:
            return summary_ms(getattr(by[name], f"{part}_ns"))["p50_ms"]

        o = overheads[layout.name]
        count_plan = layout.explains["county_scoped"].split("-- count", 1)[-1]
        count_kind = "an Index Only Scan" if "Index Only Scan" in count_plan else "a Bitmap Heap Scan"
        lines.append(
            f"- **{layout.name.capitalize()} ids, COUNTY_EDU** ({o['COUNTY_EDU']['overhead_pct']:+.1f}%): page p50 "
            f"{fmt(p50('county_scoped', 'page'))} ms vs {fmt(p50('county_by_hand', 'page'))} by hand, count "
            f"{fmt(p50('county_scoped', 'count'))} vs {fmt(p50('county_by_hand', 'count'))} ms (the scoped count is "
            f"{count_kind}). Page plans walking `child_pkey`: {layout.pk_plans['county_scoped']}/{t} targets scoped, "
            f"{layout.pk_plans['county_by_hand']}/{t} by hand. Forms: `= OR LIKE` "
            f"{o['COUNTY_EDU_or_form']['overhead_pct']:+.1f}%, "
            f"range {o['COUNTY_EDU_range_form']['overhead_pct']:+.1f}%."
        )
    scattered = scope.layouts[0]
    page_part = {name: scattered.explains[name].split("-- count", 1)[0] for name in ("county_by_hand", "county_range")}
    est = {
        name: estimate_vs_actual(plan, "Bitmap Index Scan") or estimate_vs_actual(plan, "Index Scan")
        for name, plan in page_part.items()
    }
    est_text = ", ".join(
        f"{label} {e[0]:,}" for label, e in (("LIKE", est["county_by_hand"]), ("range", est["county_range"])) if e
    )
    actual = next((e[1] for e in est.values() if e and e[1] > PAGE_LIMIT + 1), None)
    forms = {"county_by_hand": "`LIKE 'c/%'`", "county_or": "`= OR LIKE`", "county_range": "range"}
    totals = {
        layout.name: {f: summary_ms({v.name: v for v in layout.variants}[f].total_ns)["p50_ms"] for f in forms}
        for layout in scope.layouts
    }
    worst_ratio = {f: max(per[f] / min(per.values()) for per in totals.values()) for f in forms}
    robust = min(worst_ratio, key=lambda f: worst_ratio[f])
    lines.append(
        "- **Why:** COUNTY_EDU page + count p50 by form — "
        + "; ".join(
            f"{name}: " + ", ".join(f"{forms[f]} {per[f]:.2f} ms" for f in forms) for name, per in totals.items()
        )
        + ". The page query `ORDER BY id LIMIT 51` is planned either as a walk of `child_pkey` in id order with a "
        "filter (cheap while the jurisdiction's rows are spread evenly over ids, very slow when they sit together "
        "at some other place in id order) or as an index scan of the jurisdiction and a top-N sort (cost grows "
        "with its rows and how scattered they are on disk). PostgreSQL chooses from its row estimate"
        + (f" — first county, estimated rows: {est_text}; actually {actual:,}" if est_text and actual else "")
        + ". The `= OR LIKE` form also turns the count into a BitmapOr and heap visits instead of an index-only "
        f"scan. Across both layouts the most robust form is {forms[robust]} (at most "
        f"{worst_ratio[robust]:.1f}× the best form; the others up to "
        + ", ".join(f"{forms[f]} {worst_ratio[f]:.1f}×" for f in forms if f != robust)
        + ")."
    )
    t_same = {x.name: overheads[x.name]["TOWNSHIP_same_rows"]["overhead_pct"] for x in scope.layouts}
    lines.append(
        "- **TOWNSHIP** (government line) reads household OR residence: against the one-column query most of the "
        "overhead is the extra rows and the BitmapOr; against a by-hand query returning the same rows: "
        + ", ".join(f"{k} {v:+.1f}%" for k, v in t_same.items())
        + "."
    )
    build = scope.scope_build
    lines.append(
        f"- Building the predicate in Python (`Access.scope`) costs {build['COUNTY_EDU']['p50_us']:.0f} µs "
        f"(COUNTY_EDU) and {build['TOWNSHIP']['p50_us']:.0f} µs (TOWNSHIP) at p50, included in the overheads. With "
        "bound parameters and server-side prepared statements, as the application runs, "
        + (
            "PostgreSQL kept custom plans for every prepared statement."
            if not scope.generic_plans
            else "PostgreSQL switched some prepared statements to a generic plan (plans below)."
        )
    )
    return "\n".join(lines)
