"""`students(filter, first, after)` and `node` on Student, compiled (issue 18 §2).

Every read decision is the normal path's, as a SQL predicate from `authz/` per row:
- the list's rows, order, cursors and count: the normal path's own page query
  (`students.reading.children_page_query`), its keys joined in their `position` order;
- `school`: any school named on a child the caller may read (`geography.regions.schools_named`);
- `currentEntry`: the child's entry not yet closed out, where LEDGER:READ allows it
  (`ledgers.entries.current_entries`), as `Access.scope` over `ENTRY_SCOPE_COLUMNS`;
- `nationalId` / `registryNumber`: in full where CHILD:READ_PII allows the child, else masked by
  `mask_national_id_sql` (the twin of `mask_national_id`); each child read in full is audited once,
  as `students.reading.personal_data_visible` does.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, case, func, literal, or_, select

from authz.access import Access
from models.child import GRADES_OF_STAGE, Child, Gender, Stage, mask_national_id_sql
from models.ledger import DropoutCategory, EntrySource, EntryStatus, Ledger, LedgerEntry
from models.repos import children as child_repo
from models.repos import ledger as ledger_repo
from models.school import School, SchoolKind

from ..context import Context
from ..ledgers.common import LEDGER
from ..students.reading import children_page_query
from .connection import CompiledAnswer, answer_connection, audit_personal_reads, check_connection
from .jsonsql import Builder, Expr, enum_name, global_id, select_object, typename
from .selection import Selected, only

CHILD = Child.__table__  # type: ignore[attr-defined]
SCHOOL = School.__table__  # type: ignore[attr-defined]
ENTRY = LedgerEntry.__table__  # type: ignore[attr-defined]

# -- School (only what `schools_named` gives: no read decision beyond the child's) -------------------

SCHOOL_FIELDS: dict[str, Builder] = {
    "__typename": typename("School"),
    "id": lambda _s: global_id("School", SCHOOL.c.code),
    "code": lambda _s: SCHOOL.c.code,
    "name": lambda _s: SCHOOL.c.name,
    "kind": lambda _s: enum_name(SCHOOL.c.kind, SchoolKind),
    "stages": lambda _s: SCHOOL.c.stages,
}

# -- LedgerEntry (the scalar fields; nested objects fall back) ----------------------------------------

ENTRY_FIELDS: dict[str, Builder] = {
    "__typename": typename("LedgerEntry"),
    "id": lambda _s: global_id("LedgerEntry", ENTRY.c.id),
    "ledger": lambda _s: enum_name(ENTRY.c.ledger, Ledger),
    "status": lambda _s: enum_name(ENTRY.c.status, EntryStatus),
    "source": lambda _s: enum_name(ENTRY.c.source, EntrySource),
    "category": lambda _s: enum_name(ENTRY.c.category, DropoutCategory),
    "stage": lambda _s: enum_name(ENTRY.c.stage, Stage),
    "grade": lambda _s: ENTRY.c.grade,
    "schoolCode": lambda _s: ENTRY.c.school_code,
    "openedOn": lambda _s: ENTRY.c.opened_on,
    "openedBy": lambda _s: ENTRY.c.opened_by,
    "note": lambda _s: ENTRY.c.note,
    "isRelapse": lambda _s: ENTRY.c.is_relapse,
    "lastVisitOn": lambda _s: ENTRY.c.last_visit_on,
    "returnedOn": lambda _s: ENTRY.c.returned_on,
    "version": lambda _s: ENTRY.c.version,
}

# -- Student ---------------------------------------------------------------------------------------

PRIMARY_LAST_GRADE = GRADES_OF_STAGE[Stage.PRIMARY][1]


def stage_of_grade_sql(grade: Any) -> Expr:
    """`models.child.stage_of_grade` in SQL."""
    return case(
        (grade.is_(None), literal(None, Text)),
        (grade <= PRIMARY_LAST_GRADE, literal(Stage.PRIMARY.name, Text)),
        else_=literal(Stage.JUNIOR.name, Text),
    )


STUDENT_PLAIN: dict[str, Builder] = {
    "__typename": typename("Student"),
    "id": lambda _s: global_id("Student", CHILD.c.id),
    "name": lambda _s: CHILD.c.name,
    "gender": lambda _s: enum_name(CHILD.c.gender, Gender),
    "birthDate": lambda _s: CHILD.c.birth_date,
    "grade": lambda _s: CHILD.c.grade,
    "stage": lambda _s: stage_of_grade_sql(CHILD.c.grade),
    "specialGroups": lambda _s: CHILD.c.special_groups,
    "disabilityCategory": lambda _s: CHILD.c.disability_category,
    "disabilityGrade": lambda _s: CHILD.c.disability_grade,
    "version": lambda _s: CHILD.c.version,
    "noHouseholdReason": lambda _s: CHILD.c.no_household_reason,
    "noIdReason": lambda _s: CHILD.c.no_id_reason,
}
PERSONAL = {"nationalId": "national_id", "registryNumber": "registry_number"}
STUDENT_NAMES = frozenset({*STUDENT_PLAIN, *PERSONAL, "school", "currentEntry"})


def check_student(
    selection: tuple[Selected, ...], where: str = "Student", names: frozenset[str] = STUDENT_NAMES
) -> None:
    """NotCompiled unless every key of this Student selection compiles."""
    only(selection, names, where)
    for field in selection:
        if field.name == "school":
            only(field.children, frozenset(SCHOOL_FIELDS), f"{where}.school")
        elif field.name == "currentEntry":
            only(field.children, frozenset(ENTRY_FIELDS), f"{where}.currentEntry")


@dataclass
class StudentSql:
    """The SQL of a Student object for one caller: its read decisions, each a predicate per row."""

    access: Access

    def __post_init__(self) -> None:
        self.personal = self.access.scope("CHILD", "READ_PII", child_repo.SCOPE_COLUMNS)
        self.entry_scope = self.access.scope(LEDGER, "READ", ledger_repo.ENTRY_SCOPE_COLUMNS)

    @staticmethod
    def grants(access: Access) -> Hashable:
        """What this SQL inlines of the caller: equal for two callers, their Student SQL is the same."""
        return (access.scope_key("CHILD", "READ_PII"), access.scope_key(LEDGER, "READ"))

    def personal_field(self, column: str) -> Builder:
        """In full where CHILD:READ_PII allows the row, else masked: `Student.national_id`'s rule."""
        value = CHILD.c[column]
        return lambda _s: case((and_(value.is_not(None), self.personal), value), else_=mask_national_id_sql(value))

    def fields(self) -> dict[str, Builder]:
        out = dict(STUDENT_PLAIN)
        for name, column_name in PERSONAL.items():
            out[name] = self.personal_field(column_name)
        out["school"] = lambda s: (
            select(select_object(s.children, SCHOOL_FIELDS))
            .where(SCHOOL.c.code == CHILD.c.school_code)
            .scalar_subquery()
        )
        out["currentEntry"] = lambda s: (
            select(select_object(s.children, ENTRY_FIELDS))
            .where(ENTRY.c.child_id == CHILD.c.id, ledger_repo.not_closed(ENTRY.c.status), self.entry_scope)
            .scalar_subquery()
        )
        return out

    def object(self, selection: tuple[Selected, ...]) -> Expr:
        return select_object(selection, self.fields())

    def audited(self, selection: tuple[Selected, ...]) -> ColumnElement[bool] | None:
        """The rows `personal_data_visible` audits for this selection: a personal field selected and
        present (the normal path asks only then), and CHILD:READ_PII allowed; None when none can be."""
        present = [CHILD.c[PERSONAL[s.name]].is_not(None) for s in selection if s.name in PERSONAL]
        if not present:
            return None
        return and_(or_(*present), self.personal)


AUDIT_COLUMNS = (CHILD.c.id, CHILD.c.school_path, CHILD.c.household_path, CHILD.c.residence_path)


# -- the list ------------------------------------------------------------------------------------


def check_students(selection: tuple[Selected, ...]) -> None:
    check_connection(selection, check_student)


async def students(
    ctx: Context, selection: tuple[Selected, ...], *, filter: Any, first: int | None, after: str | None
) -> CompiledAnswer:
    """`students(filter, first, after)`: the connection's JSON, and the children it read in full (audited)."""
    page = await children_page_query(
        ctx,
        region_code=getattr(filter, "region_code", None),
        enrolled=getattr(filter, "enrolled", None),
        school_code=getattr(filter, "school_code", None),
        stage=getattr(filter, "stage", None),
        special_group=getattr(filter, "special_group", None),
        first=first,
        after=after,
    )
    access = ctx.access()
    return await answer_connection(
        ctx,
        page,
        selection,
        "Student",
        CHILD,
        lambda: StudentSql(access),
        grants=StudentSql.grants(access),
        has_previous=after is not None,
        audit_columns=AUDIT_COLUMNS,
    )


async def student_node(ctx: Context, selection: tuple[Selected, ...], *, node_id: int) -> CompiledAnswer:
    """`node(id:)` for a Student: the child where CHILD:READ allows it (`students.reading.get_children`),
    else null, as the normal path answers a child out of scope like a missing one."""
    student = StudentSql(ctx.access())
    readable = ctx.access().scope("CHILD", "READ", child_repo.SCOPE_COLUMNS)
    found = CHILD.c.id == node_id
    json = select(student.object(selection)).where(found, readable).scalar_subquery()
    audited = student.audited(selection)
    columns = [json.label("data")]
    if audited is not None:
        columns.append(
            select(func.json_agg(func.json_build_array(*AUDIT_COLUMNS)))
            .where(found, readable, audited)
            .scalar_subquery()
            .label("audit")
        )
    row = (await ctx.session.execute(select(*columns))).one()
    rows = list(row.audit or []) if audited is not None else []
    await audit_personal_reads(ctx, rows)
    return CompiledAnswer(data=row.data, audited=rows)
