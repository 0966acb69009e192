"""Children counted per path, kept current by statement triggers on `child` (migration 0028, issue 18 §1).

`students { totalCount }` at province scope counted a million index entries (250 ms; 7× that at 7 million).
The unfiltered count of any scope is instead a sum over a few thousand of these rows.

A row counts the children whose `column_name` (school_path, household_path or residence_path) equals `path`
("" for none). For residence_path, `shared` is how many leading path components the residence shares with
the household path (0 without one): a child living in region P outside its household's region P is one
with residence in P and `shared` < the depth of P, which is what the government line's second range adds
to its first (ARCHITECTURE §3). For the other columns `shared` is 0.

`slot` keeps writers from ever waiting for each other: slot 0 holds the settled count, and only the
transaction holding the key's advisory lock (taken without waiting) changes it, folding in the other
slots; a writer that finds the key taken adds its change to its own slot, named by its transaction id.
No writer ever waits for another's count row, so none can deadlock or lose a count, whatever order it
writes children in. A count is the sum over every slot of a key.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import path_type

COUNTED_COLUMNS = ("school_path", "household_path", "residence_path")
# The triggers of migration 0028. A bulk load may bypass them (session_replication_role = replica) and run
# REBUILD_SQL after it, under a lock that keeps other writers of children out (`baoxue seed synthetic`).
COUNT_TRIGGERS = tuple(
    f"{table}_{op}"
    for table in ("child_path_count", "child_cohort_count")  # migrations 0028 and 0029
    for op in ("insert", "update", "delete", "truncate")
)
NO_PATH = ""


class ChildPathCount(SQLModel, table=True):
    __tablename__ = "child_path_count"

    # Keyed in this order so that one index range reads a scope's rows: a column, then (for residences
    # outside the household's region) the few `shared` values below the region's depth, then the paths.
    column_name: str = Field(primary_key=True, max_length=16)
    shared: int = Field(primary_key=True, sa_type=sa.SmallInteger)
    path: str = Field(primary_key=True, sa_type=path_type())
    slot: int = Field(primary_key=True, sa_type=sa.BigInteger)
    children: int = Field(sa_type=sa.BigInteger)


class ChildCohortCount(SQLModel, table=True):
    """Children by (line, path column, `shared`, county, birth month, enrolled), kept as `child_path_count` is
    (migration 0029): the school-age ledger's window is a sum over whole birth months, and
    `students(filter: {enrolled})` a sum over all of them (models/repos/kept_counts.py).

    `path` is the counted path's first three components (its county, or less); `shared` is as in
    `child_path_count` but capped at 3, the deepest scope the rows answer for."""

    __tablename__ = "child_cohort_count"

    line: str = Field(primary_key=True, max_length=4)
    column_name: str = Field(primary_key=True, max_length=16)
    shared: int = Field(primary_key=True, sa_type=sa.SmallInteger)
    path: str = Field(primary_key=True, sa_type=path_type())
    born_month: date = Field(primary_key=True)
    enrolled: bool = Field(primary_key=True)
    slot: int = Field(primary_key=True, sa_type=sa.BigInteger)
    children: int = Field(sa_type=sa.BigInteger)


def keys_sql(lines: dict[str, list[str]], extra: list[tuple[str, str]], rows: str, *, with_line: bool) -> str:
    """The kept keys of each row of `rows` (its columns and `sign`), as migration 0029 keeps them (which
    keeps its own copy): one SELECT per line and path column, the path cut to its county, `shared` the
    most components it shares with the line's earlier paths. A missing path counts under ""."""
    selects = []
    for line, columns in lines.items():
        for k, column in enumerate(columns):
            shared = ", ".join(f"kept_count_shared({e}, {column})" for e in columns[:k]) or "0"
            keys = [f"'{line}' AS line"] if with_line else []
            keys += [f"'{column}' AS column_name", f"greatest({shared})::smallint AS shared"]
            keys += [f"kept_count_head({column}) AS path", *(f"{e} AS {name}" for e, name in extra)]
            selects.append(f"SELECT {', '.join(keys)}, sign FROM {rows}")  # noqa: S608 (fixed names, no input)
    return "\nUNION ALL ".join(selects)


# Each line's ranges in their order; BOTH is an account reading both lines (an education bureau's ledgers:
# the children at its schools, then those living in its region and schooled outside it).
COHORT_LINES = {
    "EDU": ["school_path"],
    "GOV": ["household_path", "residence_path"],
    "BOTH": ["school_path", "household_path", "residence_path"],
}
COHORT_EXTRA = [("date_trunc('month', birth_date)::date", "born_month"), ("school_code IS NOT NULL", "enrolled")]
ALL_CHILDREN = keys_sql(COHORT_LINES, COHORT_EXTRA, "(SELECT 1 AS sign, * FROM child) AS c", with_line=True)

# Recount from the children. The caller holds a lock on `child` that keeps writers out (SHARE or stronger).
REBUILD_SQL = f"""
DELETE FROM child_path_count;
INSERT INTO child_path_count (column_name, path, shared, slot, children)
SELECT 'school_path', coalesce(school_path, ''), 0, 0, count(*) FROM child GROUP BY 2
UNION ALL
SELECT 'household_path', coalesce(household_path, ''), 0, 0, count(*) FROM child GROUP BY 2
UNION ALL
SELECT 'residence_path', coalesce(r, ''), child_paths_shared(r, h), 0, sum(n)
  FROM (SELECT residence_path AS r, household_path AS h, count(*) AS n FROM child GROUP BY 1, 2) pairs
 GROUP BY 2, 3;
ANALYZE child_path_count;
DELETE FROM child_cohort_count;
INSERT INTO child_cohort_count (line, column_name, shared, path, born_month, enrolled, slot, children)
SELECT line, column_name, shared, path, born_month, enrolled, 0, sum(sign) FROM ({ALL_CHILDREN}) k
 GROUP BY 1, 2, 3, 4, 5, 6;
ANALYZE child_cohort_count;
"""  # noqa: S608 (fixed SQL, no input)
REBUILD_STATEMENTS = [s.strip() for s in REBUILD_SQL.split(";") if s.strip()]
