"""Migration 0017 (issue 14 §3, seed 001 二2: 并继续做好劝返复学工作): entries closed out with the removed
reason DEFERRAL_APPROVED come back as DEFERRED, or stay closed as OTHER where the child has a newer case."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from baoxue.database import downgrade, migrate


def test_entries_closed_for_a_deferral_are_reopened_as_deferred(databases):
    url = databases.create_demo("deferral_reopen")
    downgrade(url, "0015")
    engine = create_engine(url, poolclass=NullPool)
    closed = """SELECT e.id FROM ledger_entry e WHERE e.status = 'CLOSED' AND {} EXISTS
                (SELECT 1 FROM ledger_entry o WHERE o.child_id = e.child_id AND o.status <> 'CLOSED')
                ORDER BY e.id LIMIT 1"""
    with engine.begin() as conn:
        alone = conn.execute(text(closed.format("NOT"))).scalar_one()
        relapsed = conn.execute(text(closed.format(""))).scalar_one()  # the child is on a ledger again
        conn.execute(
            text(
                "UPDATE ledger_entry SET close_reason = 'DEFERRAL_APPROVED', close_note = '批准休学' "
                "WHERE id IN (:a, :b)"
            ),
            {"a": alone, "b": relapsed},
        )
        counts_before = conn.execute(text("SELECT sum(entries) FROM ledger_count WHERE status = 'DEFERRED'")).scalar()
    migrate(url)
    with engine.connect() as conn:
        rows = {
            r.id: (r.status, r.close_reason, r.closed_at is None, r.close_note)
            for r in conn.execute(
                text("SELECT id, status, close_reason, closed_at, close_note FROM ledger_entry WHERE id IN (:a, :b)"),
                {"a": alone, "b": relapsed},
            )
        }
        counts_after = conn.execute(text("SELECT sum(entries) FROM ledger_count WHERE status = 'DEFERRED'")).scalar()
        left = conn.execute(text("SELECT count(*) FROM ledger_entry WHERE close_reason = 'DEFERRAL_APPROVED'")).scalar()
    engine.dispose()
    assert rows[alone] == ("DEFERRED", None, True, None)
    assert rows[relapsed] == ("CLOSED", "OTHER", False, "DEFERRAL_APPROVED（原销号原因，已停用）：批准休学")
    assert left == 0
    assert (counts_after or 0) == (counts_before or 0) + 1  # the ledger_count trigger followed the reopening
