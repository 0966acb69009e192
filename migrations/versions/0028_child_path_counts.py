"""child_path_count: children counted per path, so an unfiltered scope's totalCount is a small sum

Issue 18 §1 ("totalCount is cheap at province scope"): `child_path_count` counts the children per
(school, household or residence path), the residence's rows split by how many path components the
residence shares with the household (models/child_counts.py says why). Statement-level AFTER triggers with
transition tables keep it current in the writing transaction: one change per (column, path, shared) and
statement, however many children the statement wrote. A writer changes a key's settled row (slot 0) only
while it holds the key's advisory lock, which it takes without waiting (`pg_try_advisory_xact_lock`); when
another transaction holds it, the writer adds to its own row (slot = its transaction id), which the next
lock holder folds in. No writer waits on a count, so none deadlocks. Under REPEATABLE READ or SERIALIZABLE
a writer always uses its own slot (its snapshot may predate the last fold). TRUNCATE empties the counts.

`ix_child_residence_elsewhere` gains INCLUDE (household_path): a government scope of several regions counts
its residence ranges (children living in one region and registered in none of the others) index-only.

Revision ID: 0028
Revises: 0026
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ELSEWHERE = sa.text("residence_path IS DISTINCT FROM household_path")

FUNCTIONS_SQL = """
CREATE FUNCTION child_paths_shared(a text, b text) RETURNS smallint LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  x text[] := string_to_array(a, '/');
  y text[] := string_to_array(b, '/');
  n int := 0;
BEGIN
  IF a IS NULL OR b IS NULL THEN RETURN 0; END IF;
  WHILE n < cardinality(x) AND n < cardinality(y) AND x[n + 1] = y[n + 1] LOOP
    n := n + 1;
  END LOOP;
  RETURN n;
END $$;

CREATE FUNCTION child_path_count_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ns text[]; nh text[]; nr text[];  -- the written rows' paths (INSERT, UPDATE)
  os text[]; oh text[]; orr text[];  -- the replaced rows' paths (UPDATE, DELETE)
  d record;
  settle boolean := current_setting('transaction_isolation') = 'read committed';
  own_slot bigint;
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    SELECT array_agg(school_path), array_agg(household_path), array_agg(residence_path) INTO ns, nh, nr
      FROM new_rows;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    SELECT array_agg(school_path), array_agg(household_path), array_agg(residence_path) INTO os, oh, orr
      FROM old_rows;
  END IF;
  FOR d IN
    WITH changed AS (
      SELECT 1 AS sign, c.* FROM unnest(ns, nh, nr) AS c(s, h, r)
      UNION ALL
      SELECT -1, c.* FROM unnest(os, oh, orr) AS c(s, h, r)
    ), keyed AS (
      SELECT 'school_path' AS column_name, coalesce(s, '') AS path, 0::smallint AS shared, sum(sign) AS n
        FROM changed GROUP BY 2
      UNION ALL
      SELECT 'household_path', coalesce(h, ''), 0::smallint, sum(sign) FROM changed GROUP BY 2
      UNION ALL
      SELECT 'residence_path', coalesce(r, ''), child_paths_shared(r, h), sum(n)
        FROM (SELECT r, h, sum(sign) AS n FROM changed GROUP BY 1, 2) pairs GROUP BY 2, 3
    )
    SELECT * FROM keyed WHERE n <> 0 ORDER BY 1, 2, 3
  LOOP
    IF settle AND pg_try_advisory_xact_lock(
         hashtextextended('child_path_count:' || d.column_name || ':' || d.path || ':' || d.shared, 0)) THEN
      WITH folded AS (
        DELETE FROM child_path_count
         WHERE column_name = d.column_name AND path = d.path AND shared = d.shared AND slot <> 0
        RETURNING children
      )
      INSERT INTO child_path_count AS c (column_name, path, shared, slot, children)
      SELECT d.column_name, d.path, d.shared, 0, d.n + coalesce(sum(children), 0) FROM folded
      ON CONFLICT (column_name, shared, path, slot) DO UPDATE SET children = c.children + excluded.children;
    ELSE
      own_slot := coalesce(own_slot, pg_current_xact_id()::text::bigint);
      INSERT INTO child_path_count AS c (column_name, path, shared, slot, children)
      VALUES (d.column_name, d.path, d.shared, own_slot, d.n)
      ON CONFLICT (column_name, shared, path, slot) DO UPDATE SET children = c.children + excluded.children;
    END IF;
  END LOOP;
  RETURN NULL;
END $$;

CREATE FUNCTION child_path_count_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM child_path_count;
  RETURN NULL;
END $$;

CREATE TRIGGER child_path_count_insert AFTER INSERT ON child REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION child_path_count_apply();
CREATE TRIGGER child_path_count_update AFTER UPDATE ON child REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION child_path_count_apply();
CREATE TRIGGER child_path_count_delete AFTER DELETE ON child REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION child_path_count_apply();
CREATE TRIGGER child_path_count_truncate AFTER TRUNCATE ON child
  FOR EACH STATEMENT EXECUTE FUNCTION child_path_count_clear();
"""

# As models/child_counts.py REBUILD_SQL (a migration keeps its own copy).
BUILD_SQL = """
INSERT INTO child_path_count (column_name, path, shared, slot, children)
SELECT 'school_path', coalesce(school_path, ''), 0, 0, count(*) FROM child GROUP BY 2
UNION ALL
SELECT 'household_path', coalesce(household_path, ''), 0, 0, count(*) FROM child GROUP BY 2
UNION ALL
SELECT 'residence_path', coalesce(r, ''), child_paths_shared(r, h), 0, sum(n)
  FROM (SELECT residence_path AS r, household_path AS h, count(*) AS n FROM child GROUP BY 1, 2) pairs
 GROUP BY 2, 3;
"""

DROP_SQL = """
DROP TRIGGER child_path_count_truncate ON child;
DROP TRIGGER child_path_count_delete ON child;
DROP TRIGGER child_path_count_update ON child;
DROP TRIGGER child_path_count_insert ON child;
DROP FUNCTION child_path_count_clear();
DROP FUNCTION child_path_count_apply();
DROP FUNCTION child_paths_shared(text, text);
"""


def upgrade() -> None:
    op.create_table(
        "child_path_count",
        sa.Column("column_name", sa.String(length=16), nullable=False),
        sa.Column("shared", sa.SmallInteger(), nullable=False),
        sa.Column("path", sa.Text(collation="C"), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("children", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("column_name", "shared", "path", "slot"),
    )
    op.execute("LOCK TABLE child IN SHARE MODE")  # no child written between the count and the triggers
    op.execute(FUNCTIONS_SQL)
    op.execute(BUILD_SQL)
    # Which (column, shared) pairs exist is far from independent (household rows all hold 0): without this
    # the planner reads a residence range at province scope as a third of the table and scans it all.
    op.execute("CREATE STATISTICS child_path_count_keys (mcv) ON column_name, shared FROM child_path_count")
    op.execute("ANALYZE child_path_count")
    op.drop_index("ix_child_residence_elsewhere", table_name="child")
    op.create_index(
        "ix_child_residence_elsewhere",
        "child",
        ["residence_path", "id"],
        postgresql_where=ELSEWHERE,
        postgresql_include=["household_path"],
    )


def downgrade() -> None:
    op.drop_index("ix_child_residence_elsewhere", table_name="child")
    op.create_index("ix_child_residence_elsewhere", "child", ["residence_path", "id"], postgresql_where=ELSEWHERE)
    op.execute(DROP_SQL)
    op.drop_table("child_path_count")
