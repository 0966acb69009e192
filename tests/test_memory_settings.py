"""The server's allocator settings reach polars' jemalloc (baoxue/memory.py), even when a parent process that
imported polars passed polars' own defaults on, as the benchmark's did: jemalloc's own report says which
options it took."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import os
import baoxue  # the entry package: its import applies the settings before anything imports polars
os.environ["_RJEM_MALLOC_CONF"] += ",stats_print:true"  # jemalloc prints its options and statistics at exit
import polars
print(polars.thread_pool_size())
"""


def _started_with(env: dict[str, str]) -> tuple[int, str]:
    """polars' thread count, and jemalloc's report of the options it took."""
    probe = [sys.executable, "-c", PROBE]
    done = subprocess.run(probe, env=env, capture_output=True, text=True, check=True)  # noqa: S603
    return int(done.stdout.split()[0]), done.stderr


def test_one_arena_and_one_polars_thread_from_a_clean_environment():
    env = {k: v for k, v in os.environ.items() if k not in ("_RJEM_MALLOC_CONF", "POLARS_MAX_THREADS")}
    threads, report = _started_with(env)
    assert threads == 1
    assert "opt.narenas: 1\n" in report
    assert "opt.dirty_decay_ms: 0 " in report
    assert "opt.muzzy_decay_ms: 0 " in report


def test_the_settings_win_over_defaults_a_parent_process_passed_on():
    env = {k: v for k, v in os.environ.items() if k != "POLARS_MAX_THREADS"}
    env["_RJEM_MALLOC_CONF"] = "dirty_decay_ms:500,muzzy_decay_ms:1000"  # what polars' import leaves behind
    _, report = _started_with(env)
    assert "opt.narenas: 1\n" in report
    assert "opt.dirty_decay_ms: 0 " in report
    assert "opt.muzzy_decay_ms: 0 " in report


def test_an_operators_thread_count_stands():
    threads, _ = _started_with({**os.environ, "POLARS_MAX_THREADS": "2"})
    assert threads == 2
