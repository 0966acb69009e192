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

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Text,
    and_,
    case,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

from authz.access import Access
from models.child import GRADES_OF_STAGE, Child, Gender, Stage, mask_national_id_sql
from models.ledger import DropoutCategory, EntrySource, EntryStatus, Ledger, LedgerEntry
from models.repos import children as child_repo
from models.repos import ledger as ledger_repo
from models.repos.driver import fetch_one
from models.repos.paging import AFTER_ID, AFTER_PATH, PageQuery
from models.school import School, SchoolKind

from ..context import Context
from ..ledgers.common import LEDGER
from ..students.reading import children_page_query, record_personal_data_read
from . import jsonsql
from .jsonsql import Expr, RawJSON, enum_name, global_id, select_object
from .selection import Selected, only

CHILD = Child.__table__  # type: ignore[attr-defined]
SCHOOL = School.__table__  # type: ignore[attr-defined]
ENTRY = LedgerEntry.__table__  # type: ignore[attr-defined]

Builder = Callable[[Selected], Any]
V = TypeVar("V")


def typename(name: str) -> Builder:
    return lambda _s: literal_column(f"'{name}'")


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


# -- the connection ------------------------------------------------------------------------------

CONNECTION_NAMES = frozenset({"__typename", "totalCount", "edges", "pageInfo"})
EDGE_NAMES = frozenset({"__typename", "cursor", "node"})
PAGE_INFO_NAMES = frozenset({"__typename", "hasNextPage", "hasPreviousPage", "startCursor", "endCursor"})


def check_connection(selection: tuple[Selected, ...], node_check: Callable[[tuple[Selected, ...], str], None]) -> None:
    only(selection, CONNECTION_NAMES, "connection")
    for field in selection:
        if field.name == "edges":
            only(field.children, EDGE_NAMES, "edges")
            for edge_field in field.children:
                if edge_field.name == "node":
                    node_check(edge_field.children, "node")
        elif field.name == "pageInfo":
            only(field.children, PAGE_INFO_NAMES, "pageInfo")


def node_selections(selection: tuple[Selected, ...]) -> list[tuple[Selected, ...]]:
    """Every `edges { node { … } }` selection of a connection (aliases may ask for more than one)."""
    return [n.children for e in selection if e.name == "edges" for n in e.children if n.name == "node"]


@dataclass(frozen=True)
class CompiledAnswer:
    data: Any
    audited: list[list[Any]]


# The page's rows and total as the statement's CTEs name them: the SQL built over these stand-ins is the
# same for every page of one selection and caller's grants, so it is built and rendered once (`Projections`).
PAGE = table("page", column("id", BigInteger), column("cursor", Text), column("position", BigInteger))
TOTAL = table("total", column("n", BigInteger))
# Named parameters render a `%` once; the statement's own dialect escapes it where it embeds the text.
RENDERING = PGDialect_psycopg(paramstyle="named")  # type: ignore[no-untyped-call]


def rendered(expression: Any) -> str:
    """SQL text of an expression with its values inlined (paths, names, page sizes: never user text)."""
    return str(expression.compile(dialect=RENDERING, compile_kwargs={"literal_binds": True}))


@dataclass(frozen=True)
class Projection:
    """The SQL text of a connection's JSON (`data`) and of its rows read in full (`audit`), over the
    `page` and `total` CTEs; `counts`: whether it reads `total`."""

    data: str
    audit: str | None
    counts: bool


class Kept(Generic[V]):
    """What is built once and reused, by key, the least recently used dropped first: rendered projections
    by (selection, page size, has a previous page, the grants they inline), statements by projection and
    page shape."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self.known: OrderedDict[Hashable, V] = OrderedDict()

    def get(self, key: Hashable, build: Callable[[], V]) -> V:
        found = self.known.get(key)
        if found is not None:
            self.known.move_to_end(key)
            return found
        made = self.known[key] = build()
        if len(self.known) > self.size:
            self.known.popitem(last=False)
        return made


PROJECTIONS: Kept[Projection] = Kept()


def connection_projection(
    selection: tuple[Selected, ...],
    *,
    limit: int,
    type_name: str,
    table: Any,
    node_object: Callable[[tuple[Selected, ...]], Expr],
    has_previous: bool,
    audited: ColumnElement[bool] | None = None,
    audit_columns: tuple[Any, ...] = (),
    audit_join: Callable[[Any], Any] | None = None,
) -> Projection:
    """The connection's JSON over the page's keys joined to `table` by id, in the page's order; and, when
    `audited` is given, the JSON array of `audit_columns` of the page's rows it holds for (over the rows
    joined further by `audit_join`, when the audited columns are another table's)."""
    on_page = PAGE.c.position <= limit
    rows = PAGE.join(table, table.c.id == PAGE.c.id)
    counts = False

    def edges(s: Selected) -> Expr:
        def cursor(_s: Selected) -> Expr:
            return jsonsql.cursor(PAGE.c.cursor)

        def node(n: Selected) -> Expr:
            return node_object(n.children)

        edge = select_object(s.children, {"__typename": typename(f"{type_name}Edge"), "cursor": cursor, "node": node})
        agg = func.json_agg(aggregate_order_by(edge, PAGE.c.position))
        return (
            select(func.coalesce(agg, literal_column("'[]'::json"))).select_from(rows).where(on_page).scalar_subquery()
        )

    def page_info(s: Selected) -> Expr:
        fields: dict[str, Builder] = {
            "__typename": typename("PageInfo"),
            "hasNextPage": lambda _s: select(func.count()).select_from(PAGE).scalar_subquery() > limit,
            "hasPreviousPage": lambda _s: literal(has_previous),
            "startCursor": lambda _s: (
                select(jsonsql.cursor(PAGE.c.cursor)).where(PAGE.c.position == 1, on_page).scalar_subquery()
            ),
            "endCursor": lambda _s: (
                select(jsonsql.cursor(PAGE.c.cursor))
                .where(on_page)
                .order_by(PAGE.c.position.desc())
                .limit(1)
                .scalar_subquery()
            ),
        }
        return select_object(s.children, fields)

    def total(_s: Selected) -> Expr:
        nonlocal counts
        counts = True
        return select(TOTAL.c.n).scalar_subquery()

    connection: dict[str, Builder] = {
        "__typename": typename(f"{type_name}Connection"),
        "totalCount": total,
        "edges": edges,
        "pageInfo": page_info,
    }
    data = rendered(select_object(selection, connection))
    audit = None
    if audited is not None:
        agg = func.json_agg(aggregate_order_by(func.json_build_array(*audit_columns), PAGE.c.position))
        audited_rows = audit_join(rows) if audit_join is not None else rows
        audit = rendered(select(agg).select_from(audited_rows).where(on_page, audited).scalar_subquery())
    return Projection(data, audit, counts)


@dataclass(frozen=True)
class Statement:
    """A page's whole statement as the driver runs it: its SQL text and its parameters but the cursor's."""

    sql: str
    params: dict[str, Any]


STATEMENTS: Kept[Statement] = Kept()  # by projection and page shape: the same text for every page of a list


def statement(ctx: Context, page: PageQuery, projection: Projection) -> Statement:
    """One statement: the page's keys (and total, if asked) as CTEs, the projection's JSON over them as
    text (the response carries it as it is: `RawJSON`)."""
    columns: list[Any] = [literal_column(f"({projection.data})::text").label("data")]
    if projection.audit is not None:
        columns.append(literal_column(projection.audit).label("audit"))
    stmt = select(*columns).add_cte(page.keys.cte("page"))
    if projection.counts:
        stmt = stmt.add_cte(select(page.count.scalar_subquery().label("n")).cte("total"))
    compiled = stmt.compile(dialect=ctx.session.get_bind().dialect)
    expanded = compiled.construct_expanded_state(dict(page.params))  # IN lists as one parameter a value
    processors = expanded.processors  # what SQLAlchemy applies to each value it binds (enums, arrays…)
    params = {
        name: processors[name](value) if name in processors else value
        for name, value in expanded.parameters.items()
        if name not in (AFTER_ID, AFTER_PATH)
    }
    return Statement(expanded.statement, params)


async def run_projection(ctx: Context, page: PageQuery, projection: Projection) -> tuple[RawJSON, list[list[Any]]]:
    """The page's JSON text and the rows it read in full, by the driver itself: the statement is built and
    compiled once per projection and page shape (`PageQuery.shape`); only the cursor's values change."""
    found = STATEMENTS.get((projection, page.shape), lambda: statement(ctx, page, projection)) if page.shape else None
    stmt = found or statement(ctx, page, projection)
    row = await fetch_one(ctx.session, stmt.sql, {**stmt.params, **page.params})
    assert row is not None  # one row: the statement selects from no table
    return RawJSON(row[0]), list(row[1] or []) if projection.audit is not None else []


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
    return await answer_connection(ctx, page, selection, "Student", CHILD, StudentSql, has_previous=after is not None)


async def answer_connection(
    ctx: Context,
    page: PageQuery,
    selection: tuple[Selected, ...],
    type_name: str,
    table: Any,
    objects: Callable[[Access], Any],
    *,
    has_previous: bool,
    audit_join: Callable[[Any], Any] | None = None,
) -> CompiledAnswer:
    """A list's connection in one statement over its page, with the full personal-data reads it made
    audited; the projection is built once per selection, page size and the caller's grants."""
    access = ctx.access()

    def build() -> Projection:
        sql = objects(access)
        conditions = [c for n in node_selections(selection) if (c := sql.audited(n)) is not None]
        return connection_projection(
            selection,
            limit=page.limit,
            type_name=type_name,
            table=table,
            node_object=sql.object,
            has_previous=has_previous,
            audited=or_(*conditions) if conditions else None,
            audit_columns=AUDIT_COLUMNS,
            audit_join=audit_join,
        )

    key: Hashable = (type_name, selection, page.limit, has_previous, StudentSql.grants(access))
    data, audited = await run_projection(ctx, page, PROJECTIONS.get(key, build))
    await audit_personal_reads(ctx, audited)
    return CompiledAnswer(data=data, audited=audited)


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


async def audit_personal_reads(ctx: Context, rows: list[list[Any]]) -> None:
    """One audit row per child read in full, as `personal_data_visible` writes it (once per child and
    operation: its DataLoader asks once per child, however many entries show the child)."""
    seen: set[int] = set()
    for child_id, school_path, household_path, residence_path in rows:
        if child_id in seen:
            continue
        seen.add(child_id)
        await record_personal_data_read(ctx, child_id, school_path=school_path, home=(household_path, residence_path))
