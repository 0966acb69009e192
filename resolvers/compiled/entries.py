"""`ledgerEntries(filter, first, after)` and `node` on LedgerEntry, compiled (issue 18 §2).

The read decisions are the normal path's: the page is `ledgers.entries.entries_page_query`'s; `node`
reads an entry where LEDGER:READ allows it (`get_entries`); an entry shows its student with no decision
of its own (`students_of_entries`), masked and audited per row as any Student. The student's own
`currentEntry` is left to strawberry (it would read the ledger inside a ledger row).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select

from authz.access import Access
from models.repos import ledger as ledger_repo

from ..context import Context
from ..ledgers.common import LEDGER
from ..ledgers.entries import entries_page_query
from .connection import CompiledAnswer, answer_connection, audit_personal_reads, check_connection
from .jsonsql import Builder, Expr, select_object
from .selection import Selected, only
from .students import AUDIT_COLUMNS, CHILD, ENTRY, ENTRY_FIELDS, STUDENT_NAMES, StudentSql, check_student

ENTRY_NAMES = frozenset({*ENTRY_FIELDS, "student"})
ENTRY_STUDENT_NAMES = STUDENT_NAMES - {"currentEntry"}


def check_entry(selection: tuple[Selected, ...], where: str = "LedgerEntry") -> None:
    only(selection, ENTRY_NAMES, where)
    for field in selection:
        if field.name == "student":
            check_student(field.children, f"{where}.student", ENTRY_STUDENT_NAMES)


def check_entries(selection: tuple[Selected, ...]) -> None:
    check_connection(selection, check_entry)


@dataclass
class EntrySql:
    """The SQL of a LedgerEntry object for one caller."""

    access: Access

    def __post_init__(self) -> None:
        self.student = StudentSql(self.access)

    def fields(self) -> dict[str, Builder]:
        out = dict(ENTRY_FIELDS)
        out["student"] = lambda s: (
            select(self.student.object(s.children)).where(CHILD.c.id == ENTRY.c.child_id).scalar_subquery()
        )
        return out

    def object(self, selection: tuple[Selected, ...]) -> Expr:
        return select_object(selection, self.fields())

    def audited(self, selection: tuple[Selected, ...]) -> ColumnElement[bool] | None:
        """The entries whose student is read in full (over the entry's row joined to its child)."""
        found = [c for s in selection if s.name == "student" if (c := self.student.audited(s.children)) is not None]
        return or_(*found) if found else None


def with_child(rows: Any) -> Any:
    return rows.join(CHILD, CHILD.c.id == ENTRY.c.child_id)


async def ledger_entries(
    ctx: Context,
    selection: tuple[Selected, ...],
    *,
    first: int | None,
    after: str | None,
    **arguments: Any,
) -> CompiledAnswer:
    """`ledgerEntries`: the connection's JSON, and the children it read in full (audited)."""
    page = await entries_page_query(ctx, first=first, after=after, **arguments)
    access = ctx.access()
    return await answer_connection(
        ctx,
        page,
        selection,
        "LedgerEntry",
        ENTRY,
        lambda: EntrySql(access),
        grants=StudentSql.grants(access),
        has_previous=after is not None,
        audit_columns=AUDIT_COLUMNS,
        audit_join=with_child,
    )


async def entry_node(ctx: Context, selection: tuple[Selected, ...], *, node_id: int) -> CompiledAnswer:
    """`node(id:)` for a LedgerEntry: where LEDGER:READ allows it (`get_entries`), else null."""
    access = ctx.access()
    entry = EntrySql(access)
    readable = access.scope(LEDGER, "READ", ledger_repo.ENTRY_SCOPE_COLUMNS)
    found = ENTRY.c.id == node_id
    columns: list[Any] = [select(entry.object(selection)).where(found, readable).scalar_subquery().label("data")]
    audited = entry.audited(selection)
    if audited is not None:
        rows = with_child(ENTRY)
        agg = func.json_agg(func.json_build_array(*AUDIT_COLUMNS))
        columns.append(select(agg).select_from(rows).where(found, readable, audited).scalar_subquery().label("audit"))
    row = (await ctx.session.execute(select(*columns))).one()
    read = list(row.audit or []) if audited is not None else []
    await audit_personal_reads(ctx, read)
    return CompiledAnswer(data=row.data, audited=read)
