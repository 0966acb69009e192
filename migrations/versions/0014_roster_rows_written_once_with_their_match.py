"""roster rows written once with their match

A batch's rows are now written once, their match found while they are inserted from a temporary table
(models/repos/roster_imports.stage_and_match), instead of COPY then an UPDATE of every row. So `roster_row`
no longer needs half of each page free for that update (fillfactor 100, for new pages), and its child
columns lose their foreign keys: PostgreSQL checked them row by row, each check locking the child's row
(FOR KEY SHARE, a write to the child table), about a quarter of the import's server time. The match is
taken from `child` in the same statement, and children are never deleted (ARCHITECTURE §5).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 19:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint("roster_row_child_id_fkey", "roster_row", type_="foreignkey")
    op.drop_constraint("roster_row_candidate_child_id_fkey", "roster_row", type_="foreignkey")
    op.execute("ALTER TABLE roster_row SET (fillfactor = 100)")


def downgrade() -> None:
    op.execute("ALTER TABLE roster_row SET (fillfactor = 50)")
    op.create_foreign_key("roster_row_candidate_child_id_fkey", "roster_row", "child", ["candidate_child_id"], ["id"])
    op.create_foreign_key("roster_row_child_id_fkey", "roster_row", "child", ["child_id"], ["id"])
