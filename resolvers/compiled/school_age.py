"""`schoolAgeChildren(filter, first, after)` compiled (issue 18 §2). SchoolAgeChild is no Node: no `node`.

The read decisions are the normal path's: the rows, order, cursors, count and cut-off day come from its
own page query (`ledgers.school_age.school_age_page_query`); each child's `student` is a Student as in
`students` (masked and audited per row, `currentEntry` where LEDGER:READ allows it); `entry` is the
child's entry not yet closed out, shown with no decision of its own, as `with_open_entries` reads it.
`age` and `schoolingStatus` are the SQL twins of `age_on` and `schooling_status`; `cutoffDate` the day
the page query chose. An entry's own `student` is left to strawberry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, cast, literal, or_, select

from authz.access import Access
from models.province import age_on_sql
from models.repos import ledger as ledger_repo

from ..context import Context
from ..ledgers.school_age import school_age_page_query
from .connection import CompiledAnswer, answer_connection, check_connection
from .jsonsql import Builder, Expr, select_object, typename
from .selection import Selected, only
from .students import AUDIT_COLUMNS, CHILD, ENTRY, ENTRY_FIELDS, StudentSql, check_student

SCHOOL_AGE_NAMES = frozenset({"__typename", "student", "age", "schoolingStatus", "entry"})
CONNECTION_EXTRA = frozenset({"cutoffDate"})


def check_school_age_child(selection: tuple[Selected, ...], where: str = "SchoolAgeChild") -> None:
    only(selection, SCHOOL_AGE_NAMES, where)
    for field in selection:
        if field.name == "student":
            check_student(field.children, f"{where}.student")
        elif field.name == "entry":
            only(field.children, frozenset(ENTRY_FIELDS), f"{where}.entry")


def check_school_age(selection: tuple[Selected, ...]) -> None:
    check_connection(selection, check_school_age_child, CONNECTION_EXTRA)


def open_entry(*columns: Any) -> Any:
    """The child's entry not yet closed out (at most one): a select of these columns of it."""
    return select(*columns).where(ENTRY.c.child_id == CHILD.c.id, ledger_repo.not_closed(ENTRY.c.status))


@dataclass
class SchoolAgeSql:
    """The SQL of a SchoolAgeChild for one caller, ages counted on `cutoff`."""

    access: Access
    cutoff: date

    def __post_init__(self) -> None:
        self.student = StudentSql(self.access)

    def fields(self) -> dict[str, Builder]:
        ledger, status = (open_entry(c).scalar_subquery() for c in (ENTRY.c.ledger, ENTRY.c.status))
        schooling = ledger_repo.schooling_status_sql(CHILD.c.school_code, ledger, status)
        return {
            "__typename": typename("SchoolAgeChild"),
            "student": lambda s: self.student.object(s.children),
            "age": lambda _s: age_on_sql(CHILD.c.birth_date, self.cutoff),
            "schoolingStatus": lambda _s: schooling,
            "entry": lambda s: open_entry(select_object(s.children, ENTRY_FIELDS)).scalar_subquery(),
        }

    def object(self, selection: tuple[Selected, ...]) -> Expr:
        return select_object(selection, self.fields())

    def audited(self, selection: tuple[Selected, ...]) -> ColumnElement[bool] | None:
        """The children whose `student` is read in full (the row's child itself)."""
        found = [c for s in selection if s.name == "student" if (c := self.student.audited(s.children)) is not None]
        return or_(*found) if found else None


async def school_age_children(
    ctx: Context, selection: tuple[Selected, ...], *, filter: Any, first: int | None, after: str | None
) -> CompiledAnswer:
    """`schoolAgeChildren`: the connection's JSON, and the children it read in full (audited)."""
    page, cutoff = await school_age_page_query(
        ctx,
        school_year=getattr(filter, "school_year", None),
        region_code=getattr(filter, "region_code", None),
        enrolled=getattr(filter, "enrolled", None),
        special_group=getattr(filter, "special_group", None),
        first=first,
        after=after,
    )
    access = ctx.access()
    return await answer_connection(
        ctx,
        page,
        selection,
        "SchoolAgeChild",
        CHILD,
        lambda: SchoolAgeSql(access, cutoff),
        grants=StudentSql.grants(access),
        has_previous=after is not None,
        extra={"cutoffDate": cast(literal(cutoff), Date)},
        extra_key=cutoff,
        audit_columns=AUDIT_COLUMNS,
    )
