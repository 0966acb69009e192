"""Two real server processes on one database: a grant or revocation made through one reaches the other.

Each process keeps its own in-memory enforcer; changes travel through PostgreSQL NOTIFY on
`baoxue_grants` (authz/state.py). Here process A changes a grant and process B must act on it
within a second.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_SECRET, Databases

pytestmark = pytest.mark.whole_app

DEMO_PASSWORD = "baoxue-demo"
COUNTY = "532329"  # 武定县
ADMIN = f"admin-county-{COUNTY}"
EDU = f"edu-county-{COUNTY}"
NEW_USER = "sync-probe-532329"
NEW_PASSWORD = "sync-probe-password-1"
SYNC_LIMIT = 1.0  # seconds
POLL_INTERVAL = 0.05

SCHOOLS = "query($region: String!) { schools(filter: {regionCode: $region}) { totalCount } }"
VIEWER = "{ viewer { username grants { role jurisdictionPath } } }"
CREATE_ACCOUNT = """
mutation($input: CreateAccountInput!) {
  createAccount(input: $input) { account { username } errors { field code message } }
}"""
GRANT = """
mutation($input: GrantRoleInput!) {
  grantRole(input: $input) { grant { id role jurisdictionCode status } errors { field code message } }
}"""
REVOKE = """
mutation($input: RevokeGrantInput!) {
  revokeGrant(input: $input) { grant { id status } errors { field code message } }
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _environment(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "DATABASE_URL")}
    env.update(
        DATABASE_URL=database_url,
        BAOXUE_ENV="development",
        BAOXUE_JWT_SECRET=TEST_SECRET,
        BAOXUE_DATA_DIR=str(data_dir),
        BAOXUE_LOG_LEVEL="WARNING",
    )
    return env


def _cli(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(  # noqa: S603  (our own CLI, fixed arguments)
        [sys.executable, "-m", "baoxue", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"baoxue {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


class Server:
    """One `python -m baoxue serve` process; its output goes to a log file read back on failure."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"serve-{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603  (our own CLI, fixed arguments)
            [sys.executable, "-m", "baoxue", "serve", "--port", str(self.port)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log_tail(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-3000:]

    def wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"server {self.name} exited early:\n{self.log_tail()}"
            try:
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server {self.name} was not ready in time:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


def _token(client: httpx.Client, server: Server, username: str, password: str) -> str:
    response = client.post(f"{server.base}/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, f"login of {username} on {server.name}: {response.text}"
    return str(response.json()["access_token"])


def _gql(
    client: httpx.Client, server: Server, token: str, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = client.post(
        f"{server.base}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, f"{server.name}: {response.status_code} {response.text}"
    return response.json()  # type: ignore[no-any-return]


def _visible_schools(client: httpx.Client, server: Server, token: str) -> int:
    """How many of the county's schools the caller sees; a refusal counts as none."""
    answer = _gql(client, server, token, SCHOOLS, {"region": COUNTY})
    if answer.get("errors"):
        return 0
    return int(answer["data"]["schools"]["totalCount"])


def _wait_until(condition: Callable[[], bool], since: float, limit: float = SYNC_LIMIT) -> tuple[bool, float, int]:
    """Poll every ~50 ms (a little past `limit` to report a late arrival); (met, delay since `since`, polls)."""
    polls = 0
    while True:
        polls += 1
        met = condition()
        delay = time.monotonic() - since
        if met or delay > limit + 1.0:
            return met, delay, polls
        time.sleep(POLL_INTERVAL)


def test_grant_and_revoke_reach_another_process_within_a_second(databases: Databases, tmp_path: Path) -> None:
    env = _environment(databases.create_demo("grant_sync"), tmp_path)

    a = Server("A", env, tmp_path)
    b = Server("B", env, tmp_path)
    try:
        deadline = time.monotonic() + 120  # a loaded CI machine (two passes side by side) starts slowly
        a.wait_ready(deadline)
        b.wait_ready(deadline)
        with httpx.Client(timeout=5) as client:
            # The county's schools, as its education bureau sees them on B: the number to wait for.
            expected = _visible_schools(client, b, _token(client, b, EDU, DEMO_PASSWORD))
            assert expected > 0, "the demo county should have schools"

            admin = _token(client, a, ADMIN, DEMO_PASSWORD)
            created = _gql(
                client,
                a,
                admin,
                CREATE_ACCOUNT,
                {
                    "input": {
                        "username": NEW_USER,
                        "displayName": "同步测试账号",
                        "jurisdictionCode": COUNTY,
                        "password": NEW_PASSWORD,
                    }
                },
            )
            assert "errors" not in created, created
            assert created["data"]["createAccount"] == {"account": {"username": NEW_USER}, "errors": []}

            probe = _token(client, b, NEW_USER, NEW_PASSWORD)
            before = _gql(client, b, probe, VIEWER)
            assert before.get("data", {}).get("viewer", {}).get("grants") == [], before
            assert _visible_schools(client, b, probe) == 0, "an account without grants sees schools on B"

            # Grant through A, then watch B.
            granted = _gql(
                client,
                a,
                admin,
                GRANT,
                {"input": {"username": NEW_USER, "role": "COUNTY_EDU", "jurisdictionCode": COUNTY, "reason": "sync"}},
            )
            granted_at = time.monotonic()
            assert "errors" not in granted, granted
            payload = granted["data"]["grantRole"]
            assert payload["errors"] == [], payload
            grant = payload["grant"]
            assert grant["role"] == "COUNTY_EDU"
            assert grant["jurisdictionCode"] == COUNTY
            assert grant["status"] == "ACTIVE"

            met, delay, polls = _wait_until(lambda: _visible_schools(client, b, probe) == expected, granted_at)
            assert met, f"B never served the county's {expected} schools ({polls} polls over {delay:.3f}s)"
            assert delay <= SYNC_LIMIT, f"the grant reached B after {delay:.3f}s ({polls} polls), over {SYNC_LIMIT}s"
            print(f"grant reached B after {delay * 1000:.0f} ms ({polls} polls)")
            grants_on_b = _gql(client, b, probe, VIEWER)["data"]["viewer"]["grants"]
            assert [g["role"] for g in grants_on_b] == ["COUNTY_EDU"], grants_on_b

            # Revoke through A, then watch B again.
            revoked = _gql(client, a, admin, REVOKE, {"input": {"grantId": grant["id"], "reason": "sync done"}})
            revoked_at = time.monotonic()
            assert "errors" not in revoked, revoked
            assert revoked["data"]["revokeGrant"]["errors"] == [], revoked
            assert revoked["data"]["revokeGrant"]["grant"]["status"] == "REVOKED", revoked

            met, delay, polls = _wait_until(lambda: _visible_schools(client, b, probe) == 0, revoked_at)
            assert met, f"B kept serving the county's schools ({polls} polls over {delay:.3f}s)"
            assert delay <= SYNC_LIMIT, (
                f"the revocation reached B after {delay:.3f}s ({polls} polls), over {SYNC_LIMIT}s"
            )
            print(f"revocation reached B after {delay * 1000:.0f} ms ({polls} polls)")
            assert _gql(client, b, probe, VIEWER)["data"]["viewer"]["grants"] == []
    finally:
        a.stop()
        b.stop()
    assert a.process.returncode == 0, f"A did not stop cleanly ({a.process.returncode}):\n{a.log_tail()}"
    assert b.process.returncode == 0, f"B did not stop cleanly ({b.process.returncode}):\n{b.log_tail()}"
