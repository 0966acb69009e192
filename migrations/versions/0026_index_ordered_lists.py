"""index-ordered scoped lists: (path, id) indexes on child and ledger_entry

Issue 18 §1: a scoped list is read by (path, id) in one index range per jurisdiction, so the scan stops
after the page instead of reading the whole jurisdiction and sorting it. Each single-column path index
becomes a (path, id) index with the same name. The government line's second range (a child living
outside its household's region) reads a partial index over only the children whose two paths differ.

Revision ID: 0026
Revises: 0022
Create Date: 2026-12-04 17:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PATH_COLUMNS = {
    "child": ("school_path", "household_path", "residence_path"),
    "ledger_entry": ("school_path", "household_path", "residence_path", "responsible_path", "handover_path"),
}
ELSEWHERE = sa.text("residence_path IS DISTINCT FROM household_path")


def upgrade() -> None:
    for table, columns in PATH_COLUMNS.items():
        for column in columns:
            op.drop_index(f"ix_{table}_{column}", table_name=table)
            op.create_index(f"ix_{table}_{column}", table, [column, "id"])
    op.create_index("ix_child_residence_elsewhere", "child", ["residence_path", "id"], postgresql_where=ELSEWHERE)


def downgrade() -> None:
    op.drop_index("ix_child_residence_elsewhere", table_name="child")
    for table, columns in PATH_COLUMNS.items():
        for column in columns:
            op.drop_index(f"ix_{table}_{column}", table_name=table)
            op.create_index(f"ix_{table}_{column}", table, [column])
