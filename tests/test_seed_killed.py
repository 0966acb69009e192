"""`baoxue seed synthetic` killed while its generator worker runs: the worker goes with it, and PostgreSQL,
seeing the seed's connection close, rolls its transaction back and releases its locks. Nothing is half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from baoxue.database import migrate
from datagen.synthetic.seed import APPLICATION_NAME

pytestmark = [pytest.mark.whole_app, pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")]

# The seed is always killed first: this many keeps it copying far longer than the test waits, however fast the machine.
CHILDREN = 3_000_000


def _foreground() -> None:
    """Ctrl-C as it reaches a seed run from a terminal: the default action, which Python turns into
    KeyboardInterrupt. A test run in the background of a script (as .ci/run runs both passes) inherits
    SIGINT ignored, as every background job of a non-interactive shell does, and the seed would keep it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[-1].split()[1]) == pid:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _rows(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        conn.execute(text("SET lock_timeout = '2s'"))  # a lock left behind fails this, it does not hang the test
        rows = [tuple(r) for r in conn.execute(text(sql), params)]
    engine.dispose()
    return rows


def _until(condition: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {seconds} s"
        time.sleep(0.1)


def _seed_activity(url: str) -> list[tuple[object, ...]]:
    query = "SELECT pid, state, left(query, 40) FROM pg_stat_activity WHERE application_name = :name"
    return _rows(url, query, name=APPLICATION_NAME)


def _other_locks(url: str) -> list[tuple[object, ...]]:
    return _rows(
        url,
        "SELECT l.pid, l.mode, l.relation::regclass::text FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
        "WHERE d.datname = current_database() AND l.pid <> pg_backend_pid()",
    )


@pytest.fixture(scope="module")
def migrated(databases):
    """One migrated database for every kill below: a killed seed commits nothing, so each starts from empty."""
    url = databases.create("seed_killed")
    migrate(url)
    return url


@pytest.mark.parametrize(
    ("when", "signum"),
    [("the worker has just started", signal.SIGKILL), ("rows are being copied", signal.SIGINT)],
)
def test_a_killed_seed_takes_its_worker_with_it_and_leaves_no_lock(migrated, tmp_path, when, signum):
    url = migrated
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    env["DATABASE_URL"] = url
    with (tmp_path / "seed.err").open("wb") as err:
        seed = subprocess.Popen(  # noqa: S603  (our own CLI, fixed arguments)
            [sys.executable, "-m", "baoxue", "seed", "synthetic", "--children", str(CHILDREN)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,  # a process group of its own, as a terminal's Ctrl-C reaches it
            preexec_fn=_foreground,
        )
    try:
        _until(lambda: _children_of(seed.pid), 60, "the generator worker starts")
        [worker] = _children_of(seed.pid)
        if when == "rows are being copied":
            _until(lambda: any(str(q).startswith("COPY") for *_, q in _seed_activity(url)), 60, "COPY starts")
        assert _seed_activity(url), "the seed holds its transaction open"
        assert seed.poll() is None
        if signum == signal.SIGINT:
            os.killpg(seed.pid, signum)  # Ctrl-C: to the seed and its worker alike
        else:
            seed.send_signal(signum)
        seed.wait(timeout=90)  # two test passes side by side on 2 cores slow it down
    finally:
        if seed.poll() is None:
            seed.kill()
            seed.wait()

    if signum == signal.SIGINT:
        assert seed.returncode == 130
        assert (tmp_path / "seed.err").read_text().strip() == "已中断 / interrupted"  # no traceback, no worker's
    _until(lambda: not _alive(worker), 10, "the worker ends with the seed")
    _until(lambda: not _seed_activity(url), 10, "PostgreSQL closes the seed's connection")
    assert _other_locks(url) == []
    assert _rows(url, "SELECT (SELECT count(*) FROM child), (SELECT count(*) FROM region WHERE code = '41')") == [
        (0, 0)
    ]
