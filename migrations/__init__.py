"""Alembic migrations: the only way the schema changes (DESIGN §1)."""
