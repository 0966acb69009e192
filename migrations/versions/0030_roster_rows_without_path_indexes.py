"""roster_row without its three path indexes

Issue 12 §4 (imports at ≥ 50,000 rows/s). Every read of roster rows is within one batch (its key's index,
`(import_id, line)`, in file order), and a batch is a county's file or less: the scoped pages filter a
batch's rows by path as they read them in order, which the three `(import_id, <path>)` indexes did not
change, while each cost about 2.3 µs of PostgreSQL's CPU a row written (COPY of a county's file: 20.8 µs a
row with them, 11.1 with the key alone; bench/RESULTS.md §f). Also deletes the rows of batches that never
committed, which the import's former second connection could leave (it is gone, and its sweep with it).

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PATHS = ("school_path", "household_path", "residence_path")


def upgrade() -> None:
    for path in PATHS:
        op.drop_index(f"ix_roster_row_import_{path}", table_name="roster_row")
    # Rows the import's former second connection committed for a batch that never did (a crash between the
    # two commits): nothing reads them, and the sweep that deleted them at start is gone with that path.
    op.execute("DELETE FROM roster_row r WHERE NOT EXISTS (SELECT FROM roster_import b WHERE b.id = r.import_id)")


def downgrade() -> None:
    for path in PATHS:
        op.create_index(f"ix_roster_row_import_{path}", "roster_row", ["import_id", path], unique=False)
