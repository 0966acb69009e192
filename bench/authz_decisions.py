"""Part 1 of the authorization benchmark: `Authorizer.decide` timed per request, by kind, pass and size."""

from __future__ import annotations

import cProfile
import gc
import os
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from authz.catalogue import Level, level_of_path
from authz.enforcer import Authorizer

from .authz_data import KINDS, Geo, Request, make_grants, make_requests
from .common import log, quantile, summary_ms, top_functions


def time_decisions(authorizer: Authorizer, requests: Sequence[Request], now: datetime) -> list[tuple[int, int, bool]]:
    """Per decision: wall-clock ns, this thread's CPU ns (excludes preemption by other processes), allowed."""
    decide = authorizer.decide
    wall = time.perf_counter_ns
    cpu = time.thread_time_ns
    out: list[tuple[int, int, bool]] = []
    append = out.append
    for r in requests:
        t0 = wall()
        c0 = cpu()
        grant = decide(r.username, r.perm, r.paths, now)
        c1 = cpu()
        t1 = wall()
        append((t1 - t0, c1 - c0, grant is not None))
    return out


def timer_overhead_ns() -> dict[str, float]:
    """What the two clock reads around each decision cost by themselves (included in every sample)."""
    wall, cpu = time.perf_counter_ns, time.thread_time_ns
    walls, cpus = [], []
    for _ in range(20_000):
        t0 = wall()
        c0 = cpu()
        c1 = cpu()
        t1 = wall()
        walls.append(t1 - t0)
        cpus.append(c1 - c0)
    return {"wall_p50_us": quantile(walls, 0.5) / 1000, "cpu_p50_us": quantile(cpus, 0.5) / 1000}


class GcWatch:
    """Records the garbage collections (generation, pause) that happen inside the `with` block."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []
        self._start = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            ms = (time.perf_counter() - self._start) * 1000
            if info["generation"] == 2 or ms >= 1:  # the many sub-millisecond young collections are left out
                self.pauses.append((info["generation"], ms))

    def __enter__(self) -> GcWatch:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


def casbin_call_share(authorizer: Authorizer, requests: Sequence[Request], now: datetime) -> dict[str, float]:
    """Per kind, the share of decisions that call Casbin's enforce at least once (untimed pass)."""
    enforcer = authorizer.enforcer
    real = enforcer.enforce
    calls = 0

    def counting(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        return real(*args)

    asked: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    enforcer.enforce = counting
    try:
        for r in requests:
            before = calls
            authorizer.decide(r.username, r.perm, r.paths, now)
            asked[r.kind][0] += calls > before
            asked[r.kind][1] += 1
    finally:
        del enforcer.enforce
    return {k: asked[k][0] / asked[k][1] for k in KINDS if asked[k][1]}


def profile_text(authorizer: Authorizer, requests: Sequence[Request], now: datetime) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for r in requests:
        authorizer.decide(r.username, r.perm, r.paths, now)
    profiler.disable()
    return top_functions(profiler, 14)


@dataclass
class PassStats:
    """One timed pass over all requests: pooled and per kind, wall-clock and on-CPU."""

    wall: dict[str, float]
    cpu: dict[str, float]
    wall_by_kind: dict[str, dict[str, float]]
    cpu_by_kind: dict[str, dict[str, float]]

    @property
    def worst_wall_p99(self) -> float:
        return max(k["p99_ms"] for k in self.wall_by_kind.values())

    @property
    def worst_cpu_p99(self) -> float:
        return max(k["p99_ms"] for k in self.cpu_by_kind.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "wall": {"all": self.wall, **self.wall_by_kind},
            "cpu": {"all": self.cpu, **self.cpu_by_kind},
        }


@dataclass
class DecisionResult:
    grants: int
    accounts: int
    domains: int
    build_s: list[float]
    full_gc_ms: float
    gc_objects: int
    cold: PassStats
    warm: PassStats
    mismatched: dict[str, int]
    by_level: dict[str, dict[str, float]]
    loadavg: tuple[float, float, float]
    casbin_share: dict[str, float]
    gc_pauses_ms: list[tuple[int, float]]  # (generation, ms) of collections during the first pass


def pass_stats(
    requests: Sequence[Request], timings: Sequence[tuple[int, int, bool]]
) -> tuple[PassStats, dict[str, int]]:
    wall: dict[str, list[int]] = defaultdict(list)
    cpu: dict[str, list[int]] = defaultdict(list)
    mismatched: dict[str, int] = dict.fromkeys(KINDS, 0)
    for r, (w_ns, c_ns, allowed) in zip(requests, timings, strict=True):
        if allowed != (r.kind == "allow"):
            mismatched[r.kind] += 1  # another grant of the same account covers the object: left out
            continue
        wall[r.kind].append(w_ns)
        cpu[r.kind].append(c_ns)
    stats = PassStats(
        wall=summary_ms([v for k in KINDS for v in wall[k]]),
        cpu=summary_ms([v for k in KINDS for v in cpu[k]]),
        wall_by_kind={k: summary_ms(wall[k]) for k in KINDS},
        cpu_by_kind={k: summary_ms(cpu[k]) for k in KINDS},
    )
    return stats, mismatched


def bench_decisions(
    geo: Geo, sizes: Sequence[int], per_kind: int, build_repeats: int, now: datetime
) -> tuple[list[DecisionResult], str, Authorizer]:
    results: list[DecisionResult] = []
    profile = ""
    authorizer: Authorizer | None = None
    for size in sizes:
        authorizer = None
        gc.collect()
        rng = random.Random(size)
        grants = make_grants(size, geo, rng, now)
        accounts = len({g.username for g in grants})
        builds = []
        for _ in range(build_repeats):
            authorizer = None
            gc.collect()
            t0 = time.perf_counter()
            authorizer = Authorizer(grants)
            builds.append(time.perf_counter() - t0)
        assert authorizer is not None
        t0 = time.perf_counter()
        gc.collect()
        full_gc_ms = (time.perf_counter() - t0) * 1000
        gc_objects = len(gc.get_objects())
        log(
            f"  {size:>7} grants / {accounts} accounts: build {', '.join(f'{b:.3f}s' for b in builds)}; "
            f"full GC {full_gc_ms:.0f} ms over {gc_objects:,} objects"
        )

        warmup = make_requests(grants, authorizer, geo, rng, 250)
        requests = make_requests(grants, authorizer, geo, rng, per_kind)
        rng.shuffle(requests)
        time_decisions(authorizer, warmup, now)
        loadavg = os.getloadavg()
        with GcWatch() as gc_watch:
            cold_t = time_decisions(authorizer, requests, now)  # first decisions after the build
        cold, mismatched = pass_stats(requests, cold_t)
        order = list(range(len(requests)))
        rng.shuffle(order)
        again = [requests[i] for i in order]
        warm, _ = pass_stats(again, time_decisions(authorizer, again, now))  # the same requests again

        levels: dict[str, set[Level]] = defaultdict(set)
        for g in grants:
            levels[g.username].add(level_of_path(g.scope_path))
        by_level_ns: dict[Level, list[int]] = defaultdict(list)
        for r, (w_ns, _, allowed) in zip(requests, cold_t, strict=True):
            if r.kind == "allow" and allowed:
                by_level_ns[min(levels[r.username])].append(w_ns)
        results.append(
            DecisionResult(
                grants=size,
                accounts=accounts,
                domains=len({g.scope_path for g in grants}),
                build_s=builds,
                full_gc_ms=full_gc_ms,
                gc_objects=gc_objects,
                cold=cold,
                warm=warm,
                mismatched=mismatched,
                by_level={lv.name: summary_ms(v) for lv, v in sorted(by_level_ns.items())},
                loadavg=loadavg,
                casbin_share=casbin_call_share(authorizer, requests, now),
                gc_pauses_ms=gc_watch.pauses,
            )
        )
        log(
            f"    decide, first pass: p50 {cold.wall['p50_ms']:.4f} ms  p99 {cold.wall['p99_ms']:.4f} ms  "
            f"max {cold.wall['max_ms']:.3f} ms (CPU p99 {cold.cpu['p99_ms']:.4f} ms); "
            f"second pass p99 {warm.wall['p99_ms']:.4f} ms (CPU {warm.cpu['p99_ms']:.4f} ms)"
        )
        if size == sizes[-1]:
            profile = profile_text(authorizer, [r for r in requests if r.kind == "allow"][:3000], now)
    assert authorizer is not None
    return results, profile, authorizer
