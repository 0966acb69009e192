"""races: one live grant per account, role and jurisdiction; one county's counts written at a time

- `ux_role_grant_live` (ARCHITECTURE §12): at most one grant not revoked per (account, role, scope
  path), so two admins granting the same role at once make one grant (`grantRole` inserts with
  ON CONFLICT DO NOTHING and answers DUPLICATE). An expired grant that nobody revoked is ended by the
  next grant of the same role (resolvers/admin/grants.py); duplicates already stored are ended here,
  the newest kept, the same way.
- The ledger-count trigger of migration 0005 takes a transaction-scoped advisory lock per county
  (key `ledger_count:<county path>`, taken in key order, as `models/repos/ledger_counts.lock_counties`
  takes them) before it changes that county's counts, and skips a change that leaves the entry
  counted where it was. Two writers of one county's counts then wait for each other instead of
  locking count rows in opposite orders and deadlocking.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 19:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

END_DUPLICATE_GRANTS_SQL = """
UPDATE role_grant g
   SET revoked_at = now(), revoked_by = 'migration-0013',
       revoke_reason = '重复授权，保留最新一条 / a duplicate grant; the newest one is kept'
  FROM (SELECT id, row_number() OVER (PARTITION BY account_id, role, scope_path ORDER BY id DESC) AS n
          FROM role_grant WHERE revoked_at IS NULL) d
 WHERE g.id = d.id AND d.n > 1;
"""

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION ledger_count_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_counts boolean := TG_OP IN ('UPDATE', 'DELETE') AND OLD.status <> 'CLOSED';
  new_counts boolean := TG_OP IN ('INSERT', 'UPDATE') AND NEW.status <> 'CLOSED';
  counties text[] := '{}';
BEGIN
  IF old_counts AND new_counts
     AND (OLD.responsible_path, OLD.ledger, OLD.status, OLD.stage, coalesce(OLD.category, ''))
         IS NOT DISTINCT FROM
         (NEW.responsible_path, NEW.ledger, NEW.status, NEW.stage, coalesce(NEW.category, '')) THEN
    RETURN NULL;  -- still counted where it was
  END IF;
  IF old_counts THEN counties := counties || OLD.responsible_path::text; END IF;
  IF new_counts THEN counties := counties || NEW.responsible_path::text; END IF;
  PERFORM pg_advisory_xact_lock(k)
     FROM (SELECT DISTINCT hashtextextended('ledger_count:' || c, 0) AS k FROM unnest(counties) AS c
           ORDER BY 1) AS keys;
  IF old_counts THEN
    UPDATE ledger_count SET entries = entries - 1
     WHERE county_path = OLD.responsible_path AND ledger = OLD.ledger AND status = OLD.status
       AND stage = OLD.stage AND category = coalesce(OLD.category, '');
  END IF;
  IF new_counts THEN
    INSERT INTO ledger_count AS c (county_path, ledger, status, stage, category, province_code, entries)
    VALUES (NEW.responsible_path, NEW.ledger, NEW.status, NEW.stage, coalesce(NEW.category, ''),
            NEW.province_code, 1)
    ON CONFLICT (county_path, ledger, status, stage, category) DO UPDATE SET entries = c.entries + 1;
  END IF;
  RETURN NULL;
END $$;
"""

# Migration 0005's function, restored on downgrade.
TRIGGER_0005_SQL = """
CREATE OR REPLACE FUNCTION ledger_count_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status <> 'CLOSED' THEN
    UPDATE ledger_count SET entries = entries - 1
     WHERE county_path = OLD.responsible_path AND ledger = OLD.ledger AND status = OLD.status
       AND stage = OLD.stage AND category = coalesce(OLD.category, '');
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status <> 'CLOSED' THEN
    INSERT INTO ledger_count AS c (county_path, ledger, status, stage, category, province_code, entries)
    VALUES (NEW.responsible_path, NEW.ledger, NEW.status, NEW.stage, coalesce(NEW.category, ''),
            NEW.province_code, 1)
    ON CONFLICT (county_path, ledger, status, stage, category) DO UPDATE SET entries = c.entries + 1;
  END IF;
  RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.execute(END_DUPLICATE_GRANTS_SQL)
    op.create_index(
        "ux_role_grant_live",
        "role_grant",
        ["account_id", "role", "scope_path"],
        unique=True,
        postgresql_where="revoked_at IS NULL",
    )
    op.execute(TRIGGER_SQL)


def downgrade() -> None:
    op.execute(TRIGGER_0005_SQL)
    op.drop_index("ux_role_grant_live", table_name="role_grant", postgresql_where="revoked_at IS NULL")
