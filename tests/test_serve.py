"""`baoxue serve` from nothing: embedded PostgreSQL, migrations, demo data, answers, clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _postmaster_running(pgdata: Path) -> bool:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        os.kill(int(pid_file.read_text().split()[0]), 0)
    except (ProcessLookupError, ValueError):
        return False
    return True


def test_serve_on_an_empty_data_dir_answers_demo_queries_and_stops_its_database(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BAOXUE_ENV", "BAOXUE_JWT_SECRET")}
    env["BAOXUE_DATA_DIR"] = str(tmp_path)
    process = subprocess.Popen(  # noqa: S603  (our own CLI, fixed arguments)
        [sys.executable, "-m", "baoxue", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        ready = False
        while time.monotonic() < deadline and not ready:
            try:
                ready = httpx.get(f"{base}/readyz").status_code == 200
            except httpx.TransportError:
                time.sleep(0.5)
        assert ready, "serve did not become ready within 60 seconds"
        token = httpx.post(f"{base}/auth/token", data={"username": "edu-province-53", "password": "baoxue-demo"})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        query = '{ viewer { username } regions(filter: {parentCode: "5323"}) { totalCount } }'
        answer = httpx.post(f"{base}/graphql", json={"query": query}, headers=headers).json()
        assert answer["data"] == {"viewer": {"username": "edu-province-53"}, "regions": {"totalCount": 10}}
        assert _postmaster_running(tmp_path / "pgdata")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert not _postmaster_running(tmp_path / "pgdata"), "the embedded PostgreSQL was left running"
