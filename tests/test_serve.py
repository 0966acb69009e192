"""`baoxue serve` from nothing: embedded PostgreSQL, migrations, demo data, answers, clean stop; and after a
crash (kill -9) the next start adopts the orphaned PostgreSQL and its clean stop stops it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from datagen.demo.seed import demo_accounts

pytestmark = pytest.mark.whole_app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _postmaster_pid(pgdata: Path) -> int | None:
    """The postmaster's PID when it runs (first line of postmaster.pid), else None."""
    pid_file = pgdata / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, 0)
    except (FileNotFoundError, IndexError, ProcessLookupError, ValueError):
        return None
    return pid


def _postmaster_running(pgdata: Path) -> bool:
    return _postmaster_pid(pgdata) is not None


def _postgres_processes(pgdata: Path) -> list[int]:
    """Every live process whose command line names this data directory (the postmaster, as `postgres -D …`)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if state != "Z" and str(pgdata).encode() in cmdline and any(b"postgres" in part for part in cmdline[:1]):
            found.append(int(entry.name))
    return found


def _serve(data_dir: Path, port: int, stderr: Path) -> subprocess.Popen[bytes]:
    """`baoxue serve` on the embedded database in data_dir, in a process group of its own (as a terminal runs
    it), its standard error into a file (a pipe nobody reads would fill up with the request log)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BAOXUE_ENV", "BAOXUE_JWT_SECRET")}
    env["BAOXUE_DATA_DIR"] = str(data_dir)
    with stderr.open("ab") as err:
        return subprocess.Popen(  # noqa: S603  (our own CLI, fixed arguments)
            [sys.executable, "-m", "baoxue", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )


def _wait_ready(process: subprocess.Popen[bytes], port: int, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"serve exited with {process.returncode}"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"serve did not become ready within {seconds} seconds")


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A data directory outside pytest's temporary root: a pytest run starting meanwhile takes that root back
    to mode 0700, and the embedded PostgreSQL (its own system user when the tests run as root) would lose it."""
    path = Path(tempfile.mkdtemp(prefix="baoxue-serve-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_serve_from_nothing_answers_and_every_clean_stop_stops_its_database_even_after_a_crash(data_dir):
    """From an empty data dir: demo answers. kill -9 then leaves the postmaster and a dead PID in pgserver's
    handle list; the next start adopts that postmaster, and Ctrl-C to its process group (twice, as `uv run`
    forwards it again, the second forcing uvicorn's exit while a slow request holds it) stops both, quietly.
    A start after that, stopped with SIGTERM, stops its own too."""
    pgdata = data_dir / "pgdata"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    crashed = _serve(data_dir, port, data_dir / "crashed.err")
    try:
        _wait_ready(crashed, port, seconds=120)  # initdb, migrations, demo data
        token = httpx.post(f"{base}/auth/token", data={"username": "edu-province-53", "password": "baoxue-demo"})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        query = '{ viewer { username } regions(filter: {parentCode: "5323"}) { totalCount } }'
        answer = httpx.post(f"{base}/graphql", json={"query": query}, headers=headers).json()
        assert answer["data"] == {"viewer": {"username": "edu-province-53"}, "regions": {"totalCount": 10}}
    finally:
        crashed.kill()  # SIGKILL: no exit hook runs
        crashed.wait(timeout=30)
    first_start = (data_dir / "crashed.err").read_text()
    assert "demo accounts (password: baoxue-demo):" in first_start, "an empty database's first start lists them"
    for account in demo_accounts():
        assert f"  {account.username:32} {account.role.value:17} " in first_start
        assert account.display_name in first_start
    orphan = _postmaster_pid(pgdata)
    assert orphan is not None, "kill -9 of serve leaves its PostgreSQL running"
    assert str(crashed.pid) in (pgdata / ".handle_pids.json").read_text()

    adopting = _serve(data_dir, port, data_dir / "adopting.err")
    try:
        _wait_ready(adopting, port)
        assert _postmaster_pid(pgdata) == orphan, "the orphaned PostgreSQL is adopted, not started twice"
        assert str(crashed.pid) not in (pgdata / ".handle_pids.json").read_text(), "the dead PID is forgotten"
        # A request still arriving holds uvicorn's graceful shutdown, so the second Ctrl-C always lands in
        # it and forces the exit (skipping the lifespan's shutdown), as a slow client would make it.
        slow = socket.create_connection(("127.0.0.1", port))
        slow.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    finally:
        os.killpg(adopting.pid, signal.SIGINT)
        time.sleep(0.3)
        if adopting.poll() is None:
            os.killpg(adopting.pid, signal.SIGINT)
        adopting.wait(timeout=60)
    slow.close()
    stderr = (data_dir / "adopting.err").read_text()
    assert adopting.returncode == 0, stderr
    assert "demo accounts" not in stderr, "a database that has its data loads and lists nothing"
    assert "Traceback" not in stderr, stderr[-6000:]
    assert "Exception ignored" not in stderr, stderr[-6000:]
    _assert_no_postgres(pgdata)

    fresh = _serve(data_dir, port, data_dir / "fresh.err")
    try:
        _wait_ready(fresh, port)
        assert _postmaster_pid(pgdata) not in (None, orphan)
    finally:
        fresh.send_signal(signal.SIGTERM)
        fresh.wait(timeout=60)
    assert fresh.returncode == 0
    _assert_no_postgres(pgdata)


def _assert_no_postgres(pgdata: Path) -> None:
    deadline = time.monotonic() + 10
    while _postgres_processes(pgdata) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _postgres_processes(pgdata) == [], "the embedded PostgreSQL was left running"
    assert not _postmaster_running(pgdata)


def test_a_port_in_use_is_refused_before_the_database_starts(tmp_path):
    """The port is checked first: a clear line and exit 2 at once, not after PostgreSQL started and the demo loaded."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = _serve(tmp_path / "data", port, tmp_path / "serve.err")
        process.wait(timeout=30)
    stderr = (tmp_path / "serve.err").read_text()
    assert process.returncode == 2, stderr
    assert f"port 127.0.0.1:{port} is not available" in stderr
    assert "已被占用" in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "data" / "pgdata").exists(), "PostgreSQL was not started"
