"""roster_row.raw as json: the original cells kept as written, not parsed into jsonb

A roster import writes every row's original cells (`raw`) once and reads them back only whole, for the
error-rows download: nothing queries inside them. Building them as jsonb cost about a third more per row than
as json (bench/RESULTS.md §f), and json keeps the file's column order.

Revision ID: 0027
Revises: 0028
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0027"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE roster_row ALTER COLUMN raw TYPE json USING raw::json")


def downgrade() -> None:
    op.execute("ALTER TABLE roster_row ALTER COLUMN raw TYPE jsonb USING raw::jsonb")
