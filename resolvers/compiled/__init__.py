"""The compiled path for the hot reads (issue 18 §2): one validated selection, one SQL statement.

A selection over the fields this package knows is turned into one statement that builds the
response's JSON in PostgreSQL (`json_build_object` / `json_agg`), as PostGraphile and Hasura do; the
hook in `schema/compiled.py` answers with it and lets strawberry resolve anything else. The rows,
their order, cursors and count come from the same page query the normal path runs; every read
decision is the same `authz/` scope, inlined as a SQL predicate per row.

- `students.py`: `students` and `node` on Student (and the Student, School and LedgerEntry objects).
- `entries.py`: `ledgerEntries` and `node` on LedgerEntry.
- `school_age.py`: `schoolAgeChildren` (its `cutoffDate`, and `age` and `schoolingStatus` through the
  SQL twins beside their Python rules).
- `reports.py`: `reports` and `node` on Report: a report's columns and its current version's; the
  rest (all versions, tables, lists) falls back.
- `connection.py`: any list's connection over its page query; `jsonsql.py`: the encodings (objects,
  global IDs, cursors, enums, instants); `selection.py`: what a selection is, and NotCompiled.
"""
