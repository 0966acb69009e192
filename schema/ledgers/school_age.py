"""The school-age children ledger (适龄儿童台账, POLICY 004 §2) as the schema shows it: derived, never copied."""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry
from strawberry import relay

from models.child import SpecialGroup
from models.province import age_on
from models.repos import ledger as ledger_repo
from models.repos.ledger import SchoolAgeRow
from resolvers.ledgers import school_age as school_age_resolvers
from resolvers.paging import encode_cursor

from ..connection import page_info, selects
from ..context import Info
from ..students.types import Student
from .entries import LedgerEntry


@strawberry.enum(description="在学状态 / schooling status of a school-age child")
class SchoolingStatus(Enum):
    ENROLLED = strawberry.enum_value("ENROLLED", description="在校 / at school")
    OUT_OF_SCHOOL = strawberry.enum_value(
        "OUT_OF_SCHOOL", description="未入学，未在台账 / not enrolled, not on a ledger"
    )
    SUSPECTED = strawberry.enum_value("SUSPECTED", description="疑似辍学（含失学）/ on the suspected ledger")
    DROPOUT = strawberry.enum_value("DROPOUT", description="辍学 / on the dropout ledger")
    RETURNED = strawberry.enum_value("RETURNED", description="已返校待安置 / returned, awaiting placement")
    DEFERRED = strawberry.enum_value("DEFERRED", description="延缓入学 / deferred")
    TRANSFERRED = strawberry.enum_value("TRANSFERRED", description="移交中 / being handed over")


@strawberry.type(description="适龄儿童台账的一行 / one child on the school-age children ledger.")
class SchoolAgeChild:
    student: Student = strawberry.field(description="学生 / the child.")
    age: int = strawberry.field(description="截止日年龄 / age on the cut-off day.")
    schooling_status: SchoolingStatus = strawberry.field(description="在学状态 / schooling status.")
    entry: LedgerEntry | None = strawberry.field(description="未销号的台账记录 / the entry not yet closed, if any.")


@strawberry.type(description="适龄儿童台账的一条边 / an edge of the school-age ledger.")
class SchoolAgeChildEdge:
    cursor: str = strawberry.field(description="游标 / cursor.")
    node: SchoolAgeChild = strawberry.field(description="适龄儿童 / the child.")


@strawberry.type(description="适龄儿童台账 / the school-age children ledger (derived, never copied).")
class SchoolAgeChildConnection:
    edges: list[SchoolAgeChildEdge] = strawberry.field(description="本页 / this page.")
    page_info: relay.PageInfo = strawberry.field(description="分页 / paging.")
    total_count: int = strawberry.field(description="适龄儿童数 / how many school-age children match.")
    cutoff_date: date = strawberry.field(description="年龄截止日 / the day ages are counted on.")


@strawberry.input(description="适龄儿童筛选 / filter for the school-age ledger.")
class SchoolAgeFilter:
    school_year: int | None = strawberry.field(
        default=None, description="学年（起始年，默认当前学年）/ school year by its starting year; default the current."
    )
    region_code: str | None = strawberry.field(default=None, description="区划子树 / region subtree.")
    enrolled: bool | None = strawberry.field(default=None, description="是否在校 / enrolled or not.")
    special_group: SpecialGroup | None = strawberry.field(default=None, description="重点群体 / special group.")


def schooling_status(row: SchoolAgeRow) -> SchoolingStatus:
    return SchoolingStatus(ledger_repo.schooling_status(row))


async def school_age_children(
    info: Info, filter: SchoolAgeFilter | None = None, first: int | None = None, after: str | None = None
) -> SchoolAgeChildConnection:
    f = filter or SchoolAgeFilter()
    page, cutoff = await school_age_resolvers.list_school_age(
        info.context,
        count=selects(info, "totalCount"),
        school_year=f.school_year,
        region_code=f.region_code,
        enrolled=f.enrolled,
        special_group=f.special_group,
        first=first,
        after=after,
    )
    edges = [
        SchoolAgeChildEdge(
            cursor=encode_cursor(key),
            node=SchoolAgeChild(
                student=Student.from_row(row.child),
                age=age_on(row.child.birth_date, cutoff),
                schooling_status=schooling_status(row),
                entry=LedgerEntry.from_row(row.entry) if row.entry else None,
            ),
        )
        for key, row in zip(page.cursors or [], page.rows, strict=True)
    ]
    return SchoolAgeChildConnection(
        edges=edges,
        page_info=page_info(page, edges, after),
        total_count=page.total,
        cutoff_date=cutoff,
    )
