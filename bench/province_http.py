"""Servers under test and the load against them: the API (`baoxue serve`), PostGraphile 4, and a
load generator in a process of its own (wrk when installed, else bench/loadgen.py), with the
server's memory and CPU (and PostgreSQL's CPU) sampled while it runs.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import psutil  # type: ignore[import-untyped]

from .common import log, uncounted_budgets_env

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
POSTGRAPHILE_DIR = HERE / "postgraphile"
POSTGRAPHILE_CLI = POSTGRAPHILE_DIR / "node_modules" / "postgraphile" / "cli.js"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    base: str
    log_file: IO[bytes]

    def log_tail(self, chars: int = 3000) -> str:
        self.log_file.flush()
        with open(self.log_file.name, "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - chars))
            return f.read().decode(errors="replace")

    def stop(self) -> None:
        """Stop the server and delete its log."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()
        Path(self.log_file.name).unlink(missing_ok=True)

    def wait_ready(self, probe: str, timeout: float, method: str = "GET", body: Any = None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log_tail()
                self.stop()
                raise SystemExit(f"{self.name} exited ({self.process.returncode}):\n{tail}")
            try:
                r = httpx.request(method, self.base + probe, json=body, timeout=2)
                if r.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        tail = self.log_tail()
        self.stop()
        raise SystemExit(f"{self.name} not ready after {timeout:.0f} s:\n{tail}")


def start(name: str, cmd: Sequence[str], env: dict[str, str], port: int, cwd: Path) -> Server:
    log_file = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log_file, stderr=subprocess.STDOUT)  # noqa: S603
    return Server(name, process, f"http://127.0.0.1:{port}", log_file)


def start_api(url: str, secret: str) -> Server:
    """`baoxue serve --workers 1` with production settings, through the interpreter of this environment
    (what `uv run baoxue serve` runs, without uv's own process in front)."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "BAOXUE_ENV": "production",
        "BAOXUE_JWT_SECRET": secret,
        "BAOXUE_QUERY_BUDGETS": uncounted_budgets_env(),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("BAOXUE_READ_REPLICA_URL", None)
    cmd = [sys.executable, "-m", "baoxue", "serve", "--workers", "1", "--host", "127.0.0.1", "--port", str(port)]
    server = start("api", cmd, env, port, ROOT)
    server.wait_ready("/readyz", timeout=120)
    return server


def postgraphile_installed() -> bool:
    return POSTGRAPHILE_CLI.exists()


def install_postgraphile() -> str | None:
    """`npm ci` from the committed lock file; the reason it could not run, or None."""
    if postgraphile_installed():
        return None
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        return "node and npm not found"
    log("  npm ci (bench/postgraphile)")
    done = subprocess.run(  # noqa: S603
        [npm, "ci", "--no-audit", "--no-fund"], cwd=POSTGRAPHILE_DIR, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return f"npm ci failed: {done.stderr[-500:]}"
    return None


def postgraphile_version() -> str:
    package = POSTGRAPHILE_DIR / "node_modules" / "postgraphile" / "package.json"
    return str(json.loads(package.read_text())["version"]) if package.exists() else "?"


def start_postgraphile(dsn: str) -> Server:
    port = free_port()
    node = shutil.which("node") or "node"
    cmd = [
        node,
        str(POSTGRAPHILE_CLI),
        "--connection",
        dsn,
        "--schema",
        "bench_pg",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--disable-default-mutations",
        "--disable-query-log",
        "--disable-graphiql",
        "--no-setof-functions-contain-nulls",
        "--legacy-relations",
        "omit",
    ]
    env = {**os.environ, "NODE_ENV": "production"}
    server = start("postgraphile", cmd, env, port, POSTGRAPHILE_DIR)
    server.wait_ready("/graphql", timeout=60, method="POST", body={"query": "{ __typename }"})
    return server


def api_token(base: str, username: str, password: str) -> str:
    r = httpx.post(f"{base}/auth/token", data={"username": username, "password": password}, timeout=30)
    r.raise_for_status()
    return str(r.json()["access_token"])


def graphql(base: str, query: str, variables: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    r = httpx.post(f"{base}/graphql", json={"query": query, "variables": variables}, headers=headers, timeout=60)
    r.raise_for_status()
    data: dict[str, Any] = r.json()
    if data.get("errors"):
        raise SystemExit(f"GraphQL errors from {base}: {json.dumps(data['errors'])[:1000]}")
    return data


def sequential_ms(base: str, query: str, variables: dict[str, Any], token: str | None, runs: int) -> list[float]:
    """Wall-clock ms of `runs` requests one after another on one connection (after one warm-up)."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    out = []
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        for i in range(runs + 1):
            t0 = time.perf_counter()
            r = client.post("/graphql", json={"query": query, "variables": variables})
            elapsed = (time.perf_counter() - t0) * 1000
            r.raise_for_status()
            if i:
                out.append(elapsed)
    return out


# --------------------------------------------------------------------------------------------------
# Load
# --------------------------------------------------------------------------------------------------
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
{auth}
wrk.body = [==[{body}]==]
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {{"requests": %d, "duration_us": %d, "non_2xx": %d, "errors": %d, '
    .. '"latency_ms": {{"mean": %.4f, "p50": %.4f, "p90": %.4f, "p99": %.4f, "max": %.4f}}}}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def loader_tool(requested: str) -> str:
    if requested == "auto":
        return "wrk" if shutil.which("wrk") else "python"
    return requested


def run_load(
    url: str, body: dict[str, Any], token: str | None, connections: int, duration: float, warmup: float, tool: str
) -> dict[str, Any]:
    payload = json.dumps(body, ensure_ascii=False)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        if tool == "wrk":
            auth = f'wrk.headers["Authorization"] = "Bearer {token}"' if token else ""
            script = Path(tmp) / "page.lua"
            script.write_text(WRK_SCRIPT.format(auth=auth, body=payload))
            wrk = shutil.which("wrk") or "wrk"

            def wrk_run(seconds: float) -> dict[str, Any]:
                cmd = [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
                done = subprocess.run(  # noqa: S603
                    [*cmd, "-s", str(script), url], capture_output=True, text=True, check=False
                )
                line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_RESULT ")), None)
                if line is None:
                    raise SystemExit(f"wrk failed: {done.stdout[-1000:]} {done.stderr[-1000:]}")
                result: dict[str, Any] = json.loads(line.removeprefix("BENCH_RESULT "))
                result["duration_s"] = result.pop("duration_us") / 1e6
                result["rps"] = result["requests"] / result["duration_s"]
                result["tool"] = "wrk -t1"
                result["connections"] = connections
                return result

            if warmup > 0:
                wrk_run(warmup)
            return wrk_run(duration)
        body_file = Path(tmp) / "body.json"
        body_file.write_text(payload)
        cmd = [sys.executable, "-m", "bench.loadgen", "--url", url, "--body-file", str(body_file)]
        cmd += ["--connections", str(connections), "--duration", str(duration), "--warmup", str(warmup)]
        if token:
            cmd += ["--header", f"Authorization: Bearer {token}"]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)  # noqa: S603
        if done.returncode != 0:
            raise SystemExit(f"bench.loadgen failed: {done.stderr[-2000:]}")
        loaded: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return loaded


@dataclass
class Sampler:
    """The server's RSS every `interval` seconds, and CPU seconds of the server and of PostgreSQL."""

    pid: int
    interval: float = 0.1
    database: str | None = None  # also the CPU of the backends serving this database (`postgres_db`)
    rss: list[int] = field(default_factory=list)
    cpu_s: dict[str, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @staticmethod
    def postgres_cpu() -> float:
        total = 0.0
        for p in psutil.process_iter(["name"]):
            if p.info["name"] in ("postgres", "postmaster"):
                try:
                    t = p.cpu_times()
                    total += t.user + t.system
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
        return total

    def database_cpu(self) -> dict[int, float]:
        """CPU seconds of each live backend connected to `database` (its process title names it): PostgreSQL's
        work for the bench alone, where `postgres_cpu` counts every database's on a shared server (and loses
        the CPU of any process that exits meanwhile)."""
        out: dict[int, float] = {}
        for p in psutil.process_iter(["name", "cmdline"]):
            try:
                if p.info["name"] == "postgres" and f" {self.database} " in " ".join(p.info["cmdline"] or []) + " ":
                    t = p.cpu_times()
                    out[p.pid] = t.user + t.system
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return out

    def _run(self) -> None:
        proc = psutil.Process(self.pid)
        while not self._stop.is_set():
            try:
                self.rss.append(proc.memory_info().rss)
            except psutil.NoSuchProcess:
                return
            self._stop.wait(self.interval)

    def __enter__(self) -> Sampler:
        proc = psutil.Process(self.pid)
        t = proc.cpu_times()
        self._cpu0 = (t.user + t.system, self.postgres_cpu(), time.perf_counter())
        self._db0 = self.database_cpu() if self.database else {}
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        t = psutil.Process(self.pid).cpu_times()
        server0, pg0, wall0 = self._cpu0
        self.cpu_s = {
            "server": t.user + t.system - server0,
            "postgres": self.postgres_cpu() - pg0,
            "wall": time.perf_counter() - wall0,
        }
        if self.database:
            self.cpu_s["postgres_db"] = sum(v - self._db0.get(pid, 0.0) for pid, v in self.database_cpu().items())

    @property
    def max_mb(self) -> float:
        return max(self.rss) / 2**20 if self.rss else float("nan")

    @property
    def mean_mb(self) -> float:
        return sum(self.rss) / len(self.rss) / 2**20 if self.rss else float("nan")


def rss_mb(pid: int) -> float:
    return float(psutil.Process(pid).memory_info().rss / 2**20)
