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

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from .base import path_type

COUNTED_COLUMNS = ("school_path", "household_path", "residence_path")
# The triggers of migration 0028. A bulk load may bypass them (session_replication_role = replica) and run
# REBUILD_SQL after it, under a lock that keeps other writers of children out (`baoxue seed synthetic`).
COUNT_TRIGGERS = (
    "child_path_count_insert",
    "child_path_count_update",
    "child_path_count_delete",
    "child_path_count_truncate",
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


# Recount from the children. The caller holds a lock on `child` that keeps writers out (SHARE or stronger).
REBUILD_SQL = """
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
"""
REBUILD_STATEMENTS = [s.strip() for s in REBUILD_SQL.split(";") if s.strip()]
