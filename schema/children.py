"""Children: scoped by school (education line) or household/residence (government line)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import strawberry
from strawberry import relay

from models.child import GENDER_LABELS, Gender
from models.child import Child as ChildRow
from resolvers import children as child_resolvers
from resolvers import regions as geo

from .connection import to_connection
from .context import Info, loader
from .enums import described
from .geography import Region, School

described(Gender, GENDER_LABELS, "性别 / gender")


@strawberry.type(description="适龄儿童少年 / a school-age child, enrolled or not.")
class Child(relay.Node):
    child_id: strawberry.Private[int]
    name: str = strawberry.field(description="姓名 / name.")
    gender: Gender = strawberry.field(description="性别 / gender.")
    birth_date: date = strawberry.field(description="出生日期 / date of birth.")
    grade: int | None = strawberry.field(description="年级 1–9；未在校为空 / grade 1–9, null when not enrolled.")
    school_code: strawberry.Private[str | None]
    household_region_code: strawberry.Private[str]
    residence_region_code: strawberry.Private[str]

    @classmethod
    def resolve_id(cls, root: Child, *, info: Info) -> str:
        return str(root.child_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Child | None]:
        wanted = list(node_ids)
        found = await child_resolvers.get_children(info.context, wanted)
        return [cls.from_row(found[i]) if i in found else None for i in wanted]

    @classmethod
    def from_row(cls, row: ChildRow) -> Child:
        return cls(
            child_id=row.id or 0,
            name=row.name,
            gender=row.gender,
            birth_date=row.birth_date,
            grade=row.grade,
            school_code=row.school_code,
            household_region_code=row.household_region_code,
            residence_region_code=row.residence_region_code,
        )

    @strawberry.field(description="就读学校；未在校为空 / the school attended, null when not enrolled.")  # type: ignore[untyped-decorator]
    async def school(self, info: Info) -> School | None:
        if self.school_code is None:
            return None
        row = await loader(info, "named-school", geo.schools_named).load(self.school_code)
        return School.from_row(row) if row else None

    @strawberry.field(description="户籍所在地 / household-registration region.")  # type: ignore[untyped-decorator]
    async def household_region(self, info: Info) -> Region | None:
        row = await loader(info, "place", geo.places_named).load(self.household_region_code)
        return Region.from_row(row) if row else None

    @strawberry.field(description="居住地 / residence region.")  # type: ignore[untyped-decorator]
    async def residence_region(self, info: Info) -> Region | None:
        row = await loader(info, "place", geo.places_named).load(self.residence_region_code)
        return Region.from_row(row) if row else None


@strawberry.type(description="儿童列表 / a page of children.")
class ChildConnection(relay.Connection[Child]):
    total_count: int = strawberry.field(description="符合条件的总数 / how many children match.")


@strawberry.input(description="儿童筛选 / filter for children.")
class ChildFilter:
    region_code: str | None = strawberry.field(
        default=None, description="区划：户籍、居住或学校在其中 / household, residence or school inside this region."
    )
    enrolled: bool | None = strawberry.field(default=None, description="是否在校 / enrolled in a school or not.")


async def children(
    info: Info,
    filter: ChildFilter | None = None,
    first: int | None = None,
    after: str | None = None,
) -> ChildConnection:
    f = filter or ChildFilter()
    page = await child_resolvers.list_children(
        info.context, region_code=f.region_code, enrolled=f.enrolled, first=first, after=after
    )
    return to_connection(ChildConnection, page, node=Child.from_row, key=lambda r: str(r.id), after=after)
