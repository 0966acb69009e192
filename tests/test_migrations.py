"""Schema changes only through Alembic: round trip, and the models agree with the migrations."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

import models  # noqa: F401
from baoxue.database import (
    NotMigratedError,
    alembic_config,
    check_migrated,
    current_revision,
    downgrade,
    head_revision,
    migrate,
)


def test_the_revisions_read_without_alembic_are_alembics(databases):
    """The server reads the head from the files and the database's revision from its table, as alembic would."""
    url = databases.create("revisions")
    assert current_revision(url) is None
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head_revision() == head
    migrate(url, "0029")
    assert current_revision(url) == "0029"
    with pytest.raises(NotMigratedError, match="0029"):
        check_migrated(url)
    migrate(url)
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        assert current_revision(url) == MigrationContext.configure(conn).get_current_revision() == head
    engine.dispose()


def test_upgrade_downgrade_upgrade_round_trip(databases):
    url = databases.create("roundtrip")
    migrate(url)
    assert current_revision(url) == head_revision()
    downgrade(url, "base")
    assert current_revision(url) is None
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    migrate(url)
    with engine.connect() as conn:
        assert set(SQLModel.metadata.tables) <= set(inspect(conn).get_table_names())
    engine.dispose()
    check_migrated(url)


def test_models_match_migrations(database_url):
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    engine.dispose()
    assert diff == []


def test_unmigrated_database_is_named_with_the_command_to_run(databases):
    url = databases.create("empty")
    with pytest.raises(NotMigratedError, match="uv run baoxue migrate"):
        check_migrated(url)
