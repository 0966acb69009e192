"""COPY helpers for `baoxue seed synthetic`: one psycopg connection, one transaction, fast paths when allowed."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus
from sqlalchemy import make_url
from tqdm import tqdm

from models.change_feed import FEED_SETTING, FEED_TRIGGER
from models.child_counts import COUNT_TRIGGERS


def libpq(url: str) -> str:
    """psycopg's connection string for a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Loader:
    """The transaction's cursor, what it may skip, and the seconds each phase took."""

    def __init__(self, conn: psycopg.Connection[Any], progress: bool, *, change_feed: bool = False) -> None:
        self.conn = conn
        # The change feed's triggers (models/change_feed.py) count as the table's own only when the load is to
        # be in the feed; otherwise the session turns them off and tables without others load as before.
        self.change_feed = change_feed
        self.cur = conn.cursor()
        self.progress = progress
        self.timings: dict[str, float] = {}
        self.superuser = self.one("SHOW is_superuser") == "on"
        self.fresh = False  # the children's tables were empty and are truncated: COPY ... FREEZE
        self._replica: dict[str, bool] = {}
        if not change_feed:
            self.cur.execute("SELECT set_config(%s, 'off', false)", [FEED_SETTING])
        else:  # at each statement's end, not at commit: the indexes rebuilt after the COPY need no events pending
            self.cur.execute("SET CONSTRAINTS ALL IMMEDIATE")

    def one(self, query: str | sql.Composed, params: Any = None) -> Any:
        row = self.cur.execute(query, params).fetchone()
        return row[0] if row else None

    def bar(self, total: int, desc: str, unit: str, *, scale: bool = True) -> tqdm[Any]:
        """A progress bar with rate and ETA on standard error (only on a terminal)."""
        return tqdm(
            total=total, desc=desc, unit=unit, unit_scale=scale, file=sys.stderr,
            disable=None if self.progress else True, dynamic_ncols=True, mininterval=0.5, smoothing=0.05,
        )  # fmt: skip

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[phase] = round(self.timings.get(phase, 0.0) + time.perf_counter() - start, 2)

    def next_id(self, table: str) -> int:
        return int(self.one("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table]))

    def set_next_id(self, table: str, next_free: int) -> None:
        self.cur.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)", [table, next_free])

    def truncate_if_empty(self, tables: list[str]) -> bool:
        """TRUNCATE `tables` and every table referring to them when all are empty, so that COPY ... FREEZE writes
        rows frozen and all-visible, in exactly the order sent (a table emptied in this transaction gets no
        free-space-map reuse of earlier pages). False, and nothing done, when any of them holds rows."""
        closure = [
            name
            for (name,) in self.cur.execute(
                """
                WITH RECURSIVE refs(rel) AS (
                  SELECT unnest(%s::regclass[])
                  UNION SELECT c.conrelid FROM pg_constraint c JOIN refs ON c.confrelid = refs.rel WHERE c.contype = 'f'
                ) SELECT rel::regclass::text FROM refs ORDER BY 1
                """,
                [tables],
            ).fetchall()
        ]
        try:
            with self.conn.transaction():  # a savepoint: a role without the rights goes on without
                for name in closure:
                    if self.one(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.SQL(name))):
                        return False
                self.cur.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.SQL, closure))))
        except psycopg.errors.InsufficientPrivilege:
            return False
        return True

    def drop_indexes(self, table: str, adding: int | None) -> list[sql.Composed | sql.SQL]:
        """Drop the table's secondary indexes when it gains more rows than it has (always when `adding` is None);
        returns the statements that re-create them exactly (pg_get_indexdef, pg_get_constraintdef), [] if kept.
        Primary keys and indexes a foreign key relies on stay."""
        if adding is not None:
            limited = sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {} LIMIT %s) s").format(sql.Identifier(table))
            if self.one(limited, [adding]) >= adding:
                return []
        rows = self.cur.execute(
            """
            SELECT i.relname, pg_get_indexdef(x.indexrelid), c.conname, pg_get_constraintdef(c.oid)
              FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
              LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
             WHERE x.indrelid = %s::regclass AND NOT x.indisprimary
               AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = x.indexrelid)
             ORDER BY i.relname
            """,
            [table],
        ).fetchall()
        again: list[sql.Composed | sql.SQL] = []
        try:
            with self.conn.transaction():  # a savepoint: a role that does not own the table keeps its indexes
                for index, definition, constraint, constraint_definition in rows:
                    if constraint:
                        name = sql.Identifier(table), sql.Identifier(constraint)
                        self.cur.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(*name))
                        add = sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}")
                        again.append(add.format(*name, sql.SQL(constraint_definition)))
                    else:
                        self.cur.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(index)))
                        again.append(sql.SQL(definition))
        except psycopg.errors.InsufficientPrivilege:
            return []
        return again

    @contextmanager
    def copy(self, table: str, columns: tuple[str, ...] | str) -> Iterator[psycopg.Copy]:
        """COPY into `table`: frozen when it was emptied in this transaction, and as a superuser without the
        foreign-key triggers unless the table has triggers of its own (rows are valid by construction). The
        children's count triggers are not counted as its own: the seed rebuilds the counts after loading."""
        replica = self._replica.get(table)
        if replica is None:
            own = "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal"
            own += " AND tgname NOT IN (" + ", ".join(f"'{name}'" for name in COUNT_TRIGGERS) + ")"
            if not self.change_feed:
                own += f" AND tgname <> '{FEED_TRIGGER}'"
            replica = self._replica[table] = self.superuser and self.one(own, [table]) == 0
        names = columns if isinstance(columns, str) else ", ".join(columns)
        statement = sql.SQL("COPY {} ({}) FROM STDIN{}").format(
            sql.Identifier(table), sql.SQL(names), sql.SQL(" (FREEZE)" if self.fresh else "")
        )
        if replica:
            self.cur.execute("SET session_replication_role = replica")
        try:
            with self.cur.copy(statement) as copy:
                yield copy
        finally:  # not in a failed transaction (a Ctrl-C during COPY): that error would hide the first one
            if replica and self.conn.info.transaction_status == TransactionStatus.INTRANS:
                self.cur.execute("SET session_replication_role = DEFAULT")

    def copy_rows(self, table: str, columns: tuple[str, ...] | str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            with self.copy(table, columns) as copy:
                for row in rows:
                    copy.write_row(row)
