"""The compiled path for the hot reads (issue 18 §2): one validated selection, one SQL statement.

A selection over the fields this package knows is turned into one statement that builds the
response's JSON in PostgreSQL (`json_build_object` / `json_agg`), as PostGraphile and Hasura do; the
hook in `schema/compiled.py` answers with it and lets strawberry resolve anything else. The rows,
their order, cursors and count come from the same page query the normal path runs; every read
decision is the same `authz/` scope, inlined as a SQL predicate per row.
"""
