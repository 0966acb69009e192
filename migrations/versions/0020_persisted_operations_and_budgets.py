"""persisted operations and budgets

The documents clients may send by hash (`persisted_operation`), each account's query cost spent in
its current minute (`query_budget_window`), its export rows spent per day (`export_rows_spent`) and the
daily export allowance a permission admin set for it (`export_allowance`). The counters are one row
per account (per day for exports), changed by one atomic upsert, so every server process spends from
the same budget (README, Budgets).

Revision ID: 0020
Revises: 0015
Create Date: 2026-12-04 05:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "persisted_operation",
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), primary_key=True),
        sa.Column("document", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("operation_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("added_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "query_budget_window",
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("account.id"), primary_key=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("spent", sa.BigInteger(), nullable=False),
        sa.Column("allowance", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "export_rows_spent",
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("account.id"), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("allowance", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "export_allowance",
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("account.id"), primary_key=True),
        sa.Column("rows_per_day", sa.BigInteger(), nullable=False),
        sa.Column("set_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
    )


def downgrade() -> None:
    op.drop_table("export_allowance")
    op.drop_table("export_rows_spent")
    op.drop_table("query_budget_window")
    op.drop_table("persisted_operation")
