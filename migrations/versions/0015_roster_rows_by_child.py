"""roster rows by child

The comparisons ask, for each child on one roster, whether the child is on another roster
(`NOT EXISTS (… roster_row WHERE import_id = ANY(…) AND child_id = …)`): without an index on the child,
PostgreSQL read a county's whole registry batch for every household row (over a minute for one county at
1,000,000 children, bench/rosters_1m.py). With it each question is one index probe.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 21:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_roster_row_child_import", "roster_row", ["child_id", "import_id"])


def downgrade() -> None:
    op.drop_index("ix_roster_row_child_import", table_name="roster_row")
