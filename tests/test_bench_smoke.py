"""The province benchmark (bench/province.py) runs end to end at a tiny scale and reports its numbers.

It runs in a subprocess, as `uv run python -m bench.province` would, against a fresh database on
the test server, and writes to a temporary directory (never over the committed bench/RESULTS.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from tests.conftest import Databases

pytestmark = pytest.mark.whole_app

ROOT = Path(__file__).resolve().parent.parent
MEASURED = [
    "scale_children",
    "page_rps",
    "page_p50_ms",
    "page_p99_ms",
    "raw_sql_p50_ms",
    "page_p50_vs_raw",
    "scope_predicate_share_pct",
    "authz_p99_ms",
    "province_aggregate_ms",
    "county_aggregate_ms",
    "server_rss_mb",
]
PEER = ["postgraphile_rps", "page_vs_postgraphile", "postgraphile_p50_ms"]


def test_province_benchmark_runs_at_tiny_scale(databases: Databases, tmp_path: Path) -> None:
    url = databases.create("bench")
    command = [
        sys.executable,
        "-m",
        "bench.province",
        "--database-url",
        url,
        "--children",
        "2000",
        "--duration",
        "2",
        "--latency-duration",
        "1",
        "--warmup",
        "0.5",
        "--loader",
        "python",
        "--raw-runs",
        "50",
        "--profile-requests",
        "5",
        "--aggregate-runs",
        "3",
        "--account-seconds",
        "0.5",
        "--raw-seconds",
        "2",
        "--grants",
        "1000",
        "--per-kind",
        "200",
        "--skip-postgraphile",
        "--output",
        str(tmp_path),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)  # noqa: S603
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    results = json.loads((tmp_path / "results.json").read_text())
    for key in MEASURED:
        assert isinstance(results[key], int | float), key
        assert results[key] > 0 or key == "scope_predicate_share_pct", (key, results[key])
    for key in PEER:
        assert key in results
    assert results["scale_children"] >= 2000
    assert results["api"]["loaded"]["non_2xx"] == 0
    assert results["api"]["loaded"]["errors"] == 0
    report = (tmp_path / "RESULTS.md").read_text()
    assert "## a. County page query" in report
    assert "## d. Memory" in report
    assert "### Every level and line" in report
    places = {row["place"] for row in results["accounts"]}
    assert {"county (education)", "province (education)"} <= places, places
    assert all(row["p50_ms"] > 0 and row["floor_ms"] > 0 for row in results["accounts"])


def test_roster_import_benchmark_runs_at_tiny_scale(databases: Databases, tmp_path: Path) -> None:
    """bench/rosters_1m.py: both rosters built from the synthetic children, uploaded county by county to a
    real server, their rows matched (exact, candidate, new and refused all present), the numbers written."""
    url = databases.create("bench_rosters")
    command = [
        sys.executable, "-m", "bench.rosters_1m", "--database-url", url, "--children", "2000", "--rows", "2000",
        "--output", str(tmp_path),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)  # noqa: S603
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    results = json.loads((tmp_path / "results.json").read_text())
    assert results["roster_import_rows_per_s"] > 0
    rosters = {r["kind"]: r for r in results["rosters_1m"]["rosters"]}
    assert set(rosters) == {"HOUSEHOLD", "REGISTRY"}
    for roster in rosters.values():
        assert roster["rows"] == 2000
        assert roster["counts"]["read"] == 2000
    assert results["rosters_1m"]["server_rss_mb"]["peak_mb"] > 0
    for kind in ("HOUSEHOLD", "REGISTRY"):
        assert {"EXACT", "CANDIDATE", "NEW", "REFUSED"} <= set(results["rosters_1m"]["states"][kind]), kind
    assert "## f. Roster imports at province scale" in (tmp_path / "RESULTS.md").read_text()
    compared = results["rosters_1m"]["comparison"]  # then applied and compared over the province
    assert compared["batches_applied"] == sum(r["files"] for r in rosters.values())
    assert compared["findings"] > 0
    assert results["comparison_s"] == compared["comparison_s"] > 0
    assert compared["via"] == "GraphQL on the server"  # applied and compared by the server it measures
    with psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)) as conn:
        actors = dict(conn.execute(
            "SELECT action, array_agg(DISTINCT actor) FROM audit_log"
            " WHERE action IN ('roster.apply', 'comparison.run') GROUP BY action"
        ).fetchall())  # fmt: skip
    assert all(a.startswith("edu-county-") for a in actors["roster.apply"])  # each county's bureau applied
    assert {a.rsplit("-", 1)[0] for a in actors["comparison.run"]} == {"edu-province"}
