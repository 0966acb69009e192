"""The server's allocator settings reach polars' jemalloc (baoxue/memory.py), even when a parent process that
imported polars passed polars' own defaults on, as the benchmark's did."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import os, sys
import baoxue  # the entry package: its import applies the settings before anything imports polars
import polars
print(polars.thread_pool_size())
print(os.environ["_RJEM_MALLOC_CONF"])
"""


def _started_with(env: dict[str, str]) -> tuple[int, list[str]]:
    probe = [sys.executable, "-c", PROBE]
    out = subprocess.run(probe, env=env, capture_output=True, text=True, check=True).stdout  # noqa: S603
    threads, conf = out.split()
    return int(threads), conf.split(",")


def _jemalloc_option(options: list[str], name: str) -> str:
    """The value jemalloc takes: the last one given."""
    return [o.split(":", 1)[1] for o in options if o.startswith(name + ":")][-1]


def test_one_arena_and_one_polars_thread_from_a_clean_environment():
    env = {k: v for k, v in os.environ.items() if k not in ("_RJEM_MALLOC_CONF", "POLARS_MAX_THREADS")}
    threads, options = _started_with(env)
    assert threads == 1
    assert _jemalloc_option(options, "narenas") == "1"
    assert _jemalloc_option(options, "muzzy_decay_ms") == "0"


def test_the_settings_win_over_defaults_a_parent_process_passed_on():
    env = {k: v for k, v in os.environ.items() if k != "POLARS_MAX_THREADS"}
    env["_RJEM_MALLOC_CONF"] = "dirty_decay_ms:500,muzzy_decay_ms:1000"  # what polars' import leaves behind
    _, options = _started_with(env)
    assert _jemalloc_option(options, "muzzy_decay_ms") == "0"
    assert _jemalloc_option(options, "narenas") == "1"


def test_an_operators_thread_count_stands():
    threads, _ = _started_with({**os.environ, "POLARS_MAX_THREADS": "2"})
    assert threads == 2
