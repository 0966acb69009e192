"""child_cohort_count, ledger_entry_path_count: the other scoped lists' totalCount from kept counts

Issue 18 §1 ("totalCount is cheap at province scope"), after 0028 did it for `students` without a filter.
Both tables count at a county's grain: a row's `path` is the first three components of the counted path
(a county, or less), so a province's sum reads a few thousand rows; a scope below a county counts its own
rows, which are few. `shared` is how many path components the counted path shares with the paths the
scope reads before it (capped at 3): a row is in a region's later range and in none of its earlier ones
when `shared` is below the region's depth (models/repos/kept_counts.py says why).

- `child_cohort_count`: children by (line: EDU, GOV or BOTH; school, household or residence path; birth
  month; enrolled): the
  school-age ledger's window (whole months, the cut-off's partial months counted from `ix_child_birth_date`)
  and `students(filter: {enrolled})`.
- `ledger_entry_path_count`: entries by (line, school / household / residence / responsible / handover
  path; ledger; status): `ledgerEntries` unfiltered or by ledger and status.

Kept as `child_path_count` is (0028): statement-level AFTER triggers with transition tables, one change
per key and statement; slot 0 changed only under the key's advisory lock taken without waiting, else the
writer's own slot (its transaction id), folded in by the next lock holder; under REPEATABLE READ or
SERIALIZABLE always the own slot. No writer waits on a count. TRUNCATE empties the counts.

Revision ID: 0029
Revises: 0027
Create Date: 2026-12-04 20:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Which path columns each line reads, in its ranges' order (models/repos/children.SCOPE_COLUMNS and
# models/repos/ledger.ENTRY_SCOPE_COLUMNS), and what else each table keys on.
# BOTH: an account reading both lines (an education bureau's ledgers: the children at its schools or
# living in its region) reads the school range first, then the homes outside it.
CHILD_LINES = {
    "EDU": ["school_path"],
    "GOV": ["household_path", "residence_path"],
    "BOTH": ["school_path", "household_path", "residence_path"],
}
ENTRY_LINES = {
    "EDU": ["school_path", "responsible_path", "handover_path"],
    "GOV": ["household_path", "residence_path", "responsible_path", "handover_path"],
}
CHILD_EXTRA = [("date_trunc('month', birth_date)::date", "born_month"), ("school_code IS NOT NULL", "enrolled")]
ENTRY_EXTRA = [("ledger", "ledger"), ("status", "status")]


def keys_sql(lines: dict[str, list[str]], extra: list[tuple[str, str]], rows: str, *, with_line: bool) -> str:
    """The keys of each row of `rows` (its columns and `sign`): one SELECT per line and path column, the
    path cut to its county, `shared` the most components it shares with the line's earlier paths. A
    missing path counts under "" (no range holds it). (As models/child_counts.keys_sql: a migration keeps
    its own copy.)"""
    selects = []
    for line, columns in lines.items():
        for k, column in enumerate(columns):
            shared = ", ".join(f"kept_count_shared({e}, {column})" for e in columns[:k]) or "0"
            keys = [f"'{line}' AS line"] if with_line else []
            keys += [f"'{column}' AS column_name", f"greatest({shared})::smallint AS shared"]
            keys += [f"kept_count_head({column}) AS path", *(f"{e} AS {name}" for e, name in extra)]
            selects.append(f"SELECT {', '.join(keys)}, sign FROM {rows}")  # noqa: S608 (fixed names, no input)
    return "\nUNION ALL ".join(selects)


# A path's first three components, and how many of their first three two paths share (child_paths_shared
# of 0028 capped at 3): immutable SQL expressions, inlined into the statements that call them (a stable
# function such as array_to_string inside would stop the inlining, and triple a trigger's cost).
FUNCTIONS_SQL = """
CREATE FUNCTION kept_count_head(p text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(CASE WHEN split_part(p, '/', 4) = '' THEN p
                       ELSE split_part(p, '/', 1) || '/' || split_part(p, '/', 2) || '/' || split_part(p, '/', 3) END, '')
$$;
CREATE FUNCTION kept_count_shared(a text, b text) RETURNS smallint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (CASE
    WHEN a IS NULL OR b IS NULL OR split_part(a, '/', 1) <> split_part(b, '/', 1) THEN 0
    WHEN split_part(a, '/', 2) = '' OR split_part(a, '/', 2) <> split_part(b, '/', 2) THEN 1
    WHEN split_part(a, '/', 3) = '' OR split_part(a, '/', 3) <> split_part(b, '/', 3) THEN 2
    ELSE 3 END)::smallint
$$;
"""


# A statement settles at most this many keys under their advisory locks and adds the rest to its own slot:
# a bulk write (a seed, a roster applied) would otherwise hold a lock per key, past the server's lock table.
LOCKS_A_STATEMENT = 64


def apply_function(table: str, key_columns: list[str], counted: str, keys: str, columns: list[str]) -> str:
    """The trigger function of one kept table: the keys (`keys` over the changed rows `c`) of the
    statement's rows, netted, added slot-wise. An UPDATE reads only the rows whose counted `columns`
    changed (most updates change none). Without sorts the netting hashes: the planner cannot know how few
    keys the rows share and would sort them all."""
    new, old = (", ".join(f"{side}.{c}" for c in columns) for side in ("n", "o"))
    named = ", ".join(columns)
    keyed = ", ".join(key_columns)
    positions = ", ".join(str(n) for n in range(1, len(key_columns) + 1))  # names would clash with the row's
    match = " AND ".join(f"{c} = d.{c}" for c in key_columns)
    values = ", ".join(f"d.{c}" for c in key_columns)
    # The transition tables are named in dynamic SQL, so one function serves INSERT, UPDATE and DELETE.
    keys_sql = keys.replace("'", "''")
    return f"""
CREATE FUNCTION {table}_apply() RETURNS trigger LANGUAGE plpgsql SET enable_sort = off AS $$
DECLARE
  d record;
  settle boolean := current_setting('transaction_isolation') = 'read committed';
  locks integer := 0;
  own_slot bigint;
  changed text := CASE TG_OP
    WHEN 'INSERT' THEN 'SELECT 1 AS sign, {named} FROM new_rows'
    WHEN 'DELETE' THEN 'SELECT -1 AS sign, {named} FROM old_rows'
    ELSE 'SELECT s.* FROM new_rows n JOIN old_rows o ON o.id = n.id'
      || ' CROSS JOIN LATERAL (VALUES (1, {new}), (-1, {old})) AS s(sign, {named})'
      || ' WHERE ({new}) IS DISTINCT FROM ({old})' END;
BEGIN
  FOR d IN EXECUTE
    'WITH c AS MATERIALIZED (' || changed || ') SELECT {keyed}, sum(sign) AS n FROM ({keys_sql}) k'
    || ' GROUP BY {positions} HAVING sum(sign) <> 0'
  LOOP
    IF settle AND locks < {LOCKS_A_STATEMENT}
       AND pg_try_advisory_xact_lock(hashtextextended('{table}:' || concat_ws(':', {values}), 0)) THEN
      locks := locks + 1;
      WITH folded AS (
        DELETE FROM {table} WHERE {match} AND slot <> 0 RETURNING {counted}
      )
      INSERT INTO {table} AS t ({keyed}, slot, {counted})
      SELECT {values}, 0, d.n + coalesce(sum({counted}), 0) FROM folded
      ON CONFLICT ({keyed}, slot) DO UPDATE SET {counted} = t.{counted} + excluded.{counted};
    ELSE
      own_slot := coalesce(own_slot, pg_current_xact_id()::text::bigint);
      INSERT INTO {table} AS t ({keyed}, slot, {counted})
      VALUES ({values}, own_slot, d.n)
      ON CONFLICT ({keyed}, slot) DO UPDATE SET {counted} = t.{counted} + excluded.{counted};
    END IF;
  END LOOP;
  RETURN NULL;
END $$;

CREATE FUNCTION {table}_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM {table};
  RETURN NULL;
END $$;
"""  # noqa: S608 (fixed names and SQL, no input)


def triggers(table: str, on: str) -> str:
    return f"""
CREATE TRIGGER {table}_insert AFTER INSERT ON {on} REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION {table}_apply();
CREATE TRIGGER {table}_update AFTER UPDATE ON {on} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION {table}_apply();
CREATE TRIGGER {table}_delete AFTER DELETE ON {on} REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION {table}_apply();
CREATE TRIGGER {table}_truncate AFTER TRUNCATE ON {on} FOR EACH STATEMENT EXECUTE FUNCTION {table}_clear();
"""


def drop(table: str, on: str) -> str:
    return "".join(f"DROP TRIGGER {table}_{op_} ON {on};\n" for op_ in ("insert", "update", "delete", "truncate")) + (
        f"DROP FUNCTION {table}_apply();\nDROP FUNCTION {table}_clear();\n"
    )


COHORT = ["line", "column_name", "shared", "path", "born_month", "enrolled"]
ENTRY = ["line", "column_name", "shared", "path", "ledger", "status"]
PATHS = ["school_path", "household_path", "residence_path"]
CHILD_COLUMNS = ["birth_date", "school_code", *PATHS]
ENTRY_COLUMNS = [*PATHS, "responsible_path", "handover_path", "ledger", "status"]

COHORT_KEYS = keys_sql(CHILD_LINES, CHILD_EXTRA, "c", with_line=True)
ENTRY_KEYS = keys_sql(ENTRY_LINES, ENTRY_EXTRA, "c", with_line=True)
ALL_CHILDREN = keys_sql(CHILD_LINES, CHILD_EXTRA, "(SELECT 1 AS sign, * FROM child) AS c", with_line=True)
ALL_ENTRIES = keys_sql(ENTRY_LINES, ENTRY_EXTRA, "(SELECT 1 AS sign, * FROM ledger_entry) AS c", with_line=True)

# As models/child_counts.py and models/entry_counts.py REBUILD_SQL (a migration keeps its own copy).
BUILD_SQL = f"""
INSERT INTO child_cohort_count ({", ".join(COHORT)}, slot, children)
SELECT {", ".join(COHORT)}, 0, sum(sign) FROM ({ALL_CHILDREN}) k GROUP BY 1, 2, 3, 4, 5, 6;
INSERT INTO ledger_entry_path_count ({", ".join(ENTRY)}, slot, entries)
SELECT {", ".join(ENTRY)}, 0, sum(sign) FROM ({ALL_ENTRIES}) k GROUP BY 1, 2, 3, 4, 5, 6;
"""  # noqa: S608 (fixed SQL, no input)


def upgrade() -> None:
    op.create_table(
        "child_cohort_count",
        sa.Column("line", sa.String(length=4), nullable=False),
        sa.Column("column_name", sa.String(length=16), nullable=False),
        sa.Column("shared", sa.SmallInteger(), nullable=False),
        sa.Column("path", sa.Text(collation="C"), nullable=False),
        sa.Column("born_month", sa.Date(), nullable=False),
        sa.Column("enrolled", sa.Boolean(), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("children", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*COHORT, "slot"),
    )
    op.create_table(
        "ledger_entry_path_count",
        sa.Column("line", sa.String(length=3), nullable=False),
        sa.Column("column_name", sa.String(length=16), nullable=False),
        sa.Column("shared", sa.SmallInteger(), nullable=False),
        sa.Column("path", sa.Text(collation="C"), nullable=False),
        sa.Column("ledger", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("slot", sa.BigInteger(), nullable=False),
        sa.Column("entries", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*ENTRY, "slot"),
    )
    op.execute("LOCK TABLE child, ledger_entry IN SHARE MODE")  # nothing written between counts and triggers
    op.execute(FUNCTIONS_SQL)
    op.execute(apply_function("child_cohort_count", COHORT, "children", COHORT_KEYS, CHILD_COLUMNS))
    op.execute(apply_function("ledger_entry_path_count", ENTRY, "entries", ENTRY_KEYS, ENTRY_COLUMNS))
    op.execute(triggers("child_cohort_count", "child"))
    op.execute(triggers("ledger_entry_path_count", "ledger_entry"))
    op.execute(BUILD_SQL)
    op.execute("ANALYZE child_cohort_count, ledger_entry_path_count")
    # The school-age window's partial months (a cut-off that is not a month's last day): a bounded range.
    op.create_index("ix_child_birth_date", "child", ["birth_date"])


def downgrade() -> None:
    op.drop_index("ix_child_birth_date", table_name="child")
    op.execute(drop("ledger_entry_path_count", "ledger_entry"))
    op.execute(drop("child_cohort_count", "child"))
    op.execute("DROP FUNCTION kept_count_shared(text, text)")
    op.execute("DROP FUNCTION kept_count_head(text)")
    op.drop_table("ledger_entry_path_count")
    op.drop_table("child_cohort_count")
