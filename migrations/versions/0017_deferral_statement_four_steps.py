"""deferral statement, the four steps' deadline and outcome, deferred cases reopened

Issue 14 §3–§4:
- `deferral_request.guardian_statement` and `statement_visit_id`: the guardian has met their legal duty but
  the child refuses (seed 001 二2), recorded with the visit it rests on.
- `persuasion_visit.correct_by`: step 2's time limit (责令限期改正); `liability_outcome`: step 4's outcome
  (seed 000 一2).
- Close-out reason `DEFERRAL_APPROVED` is gone: a deferred case stays open for persuasion
  (并继续做好劝返复学工作). Entries closed with it come back as `DEFERRED` (their child has no other entry
  not closed out); the few whose child has one since keep their close-out as `OTHER`, with the old reason
  in the note. The `ledger_count` trigger follows both changes.

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-04 05:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0017"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTCOMES = ("ADMONISHED", "ADMINISTRATIVE_PENALTY", "COURT_JUDGMENT", "CRIMINAL_LIABILITY", "NOT_PURSUED")


def upgrade() -> None:
    op.add_column("deferral_request", sa.Column("guardian_statement", sqlmodel.sql.sqltypes.AutoString(length=1000)))
    op.add_column("deferral_request", sa.Column("statement_visit_id", sa.BigInteger()))
    op.create_foreign_key(
        "deferral_request_statement_visit_id_fkey",
        "deferral_request",
        "persuasion_visit",
        ["statement_visit_id"],
        ["id"],
    )
    op.add_column("persuasion_visit", sa.Column("correct_by", sa.Date()))
    op.add_column(
        "persuasion_visit",
        sa.Column("liability_outcome", sa.Enum(*OUTCOMES, name="liabilityoutcome", native_enum=False, length=24)),
    )
    op.execute(
        """
        UPDATE ledger_entry e
           SET status = 'DEFERRED', close_reason = NULL, closed_at = NULL, closed_by = NULL,
               close_note = NULL, version = e.version + 1, updated_at = now()
         WHERE e.close_reason = 'DEFERRAL_APPROVED'
           AND NOT EXISTS (SELECT 1 FROM ledger_entry o WHERE o.child_id = e.child_id AND o.status <> 'CLOSED')
           AND e.id = (SELECT max(l.id) FROM ledger_entry l WHERE l.child_id = e.child_id
                        AND l.close_reason = 'DEFERRAL_APPROVED')
        """
    )
    op.execute(
        """
        UPDATE ledger_entry
           SET close_reason = 'OTHER',
               close_note = left('DEFERRAL_APPROVED（原销号原因，已停用）' || coalesce('：' || close_note, ''), 500),
               version = version + 1, updated_at = now()
         WHERE close_reason = 'DEFERRAL_APPROVED'
        """
    )
    # The change feed's deferred triggers (0019) fire now, not at commit: a later migration of the same
    # upgrade may ALTER ledger_entry, which PostgreSQL refuses while trigger events are pending.
    op.execute("SET CONSTRAINTS ALL IMMEDIATE")


def downgrade() -> None:
    op.drop_column("persuasion_visit", "liability_outcome")
    op.drop_column("persuasion_visit", "correct_by")
    op.drop_constraint("deferral_request_statement_visit_id_fkey", "deferral_request", type_="foreignkey")
    op.drop_column("deferral_request", "statement_visit_id")
    op.drop_column("deferral_request", "guardian_statement")
