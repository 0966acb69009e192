"""change feed scopes

The grants each account read the change feed under, by the scope mark its cursors carry: a cursor taken
under grants since narrowed is followed with LEFT_SCOPE tombstones instead of being refused (README,
Integrators).

Revision ID: 0021
Revises: 0016
Create Date: 2026-12-04 13:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "change_feed_scope",
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("account.id"), nullable=False),
        sa.Column("mark", sa.String(length=16), nullable=False),
        sa.Column("grants", postgresql.JSONB(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "mark"),
    )


def downgrade() -> None:
    op.drop_table("change_feed_scope")
