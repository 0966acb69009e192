"""Regions and schools: types, filters and connections."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry import relay

from models.region import Region as RegionRow
from models.school import School as SchoolRow
from resolvers.geography import regions as geo

from ..connection import Connection, to_connection
from ..context import Info, loader
from ..enums import RegionLevel, SchoolKind, SchoolStage


async def _resolve_nodes(info: Info, node_ids: Iterable[str], fetch: Any, convert: Any, required: bool) -> list[Any]:
    wanted = list(node_ids)
    found = await fetch(info.context, wanted)
    return [convert(found[i]) if i in found else None for i in wanted]


@strawberry.type(description="行政区划 / an administrative region (province, city, county, township, village).")
class Region(relay.Node):
    code: str = strawberry.field(description="行政区划代码 / division code (GB/T 2260 style: 2/4/6/9/12 digits).")
    name: str = strawberry.field(description="名称 / official name.")
    level: RegionLevel = strawberry.field(description="级别 / level.")
    path: str = strawberry.field(description="辖区路径 / jurisdiction path of ancestor codes, e.g. 53/5323/532328.")
    parent_code: strawberry.Private[str | None]

    @classmethod
    def resolve_id(cls, root: Region, *, info: Info) -> str:
        return root.code

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Region | None]:
        return await _resolve_nodes(info, node_ids, geo.get_regions, cls.from_row, required)

    @classmethod
    def from_row(cls, row: RegionRow) -> Region:
        return cls(code=row.code, name=row.name, level=row.level, path=row.path, parent_code=row.parent_code)

    @strawberry.field(description="上级区划 / the region directly above (null for a province).")  # type: ignore[untyped-decorator]
    async def parent(self, info: Info) -> Region | None:
        if self.parent_code is None:
            return None
        row = await loader(info, "place", geo.places_named).load(self.parent_code)
        return Region.from_row(row) if row else None


@strawberry.type(description="学校 / a school or teaching point.")
class School(relay.Node):
    code: str = strawberry.field(description="学校标识码 / 10-digit national school identifier.")
    name: str = strawberry.field(description="学校名称 / school name.")
    kind: SchoolKind = strawberry.field(description="办学类型 / kind.")
    stages: list[SchoolStage] = strawberry.field(description="学段 / stages taught.")
    region_code: strawberry.Private[str]

    @classmethod
    def resolve_id(cls, root: School, *, info: Info) -> str:
        return root.code

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[School | None]:
        return await _resolve_nodes(info, node_ids, geo.get_schools, cls.from_row, required)

    @classmethod
    def from_row(cls, row: SchoolRow) -> School:
        return cls(
            code=row.code,
            name=row.name,
            kind=row.kind,
            stages=[SchoolStage(s) for s in row.stages],
            region_code=row.region_code,
        )

    @strawberry.field(description="所在区划 / the county or township the school is in.")  # type: ignore[untyped-decorator]
    async def region(self, info: Info) -> Region:
        row = await loader(info, "place", geo.places_named).load(self.region_code)
        return Region.from_row(row)


@strawberry.input(description="行政区划筛选 / filter for regions.")
class RegionFilter:
    parent_code: str | None = strawberry.field(default=None, description="上级区划代码 / direct children of.")
    level: RegionLevel | None = strawberry.field(default=None, description="级别 / level.")


@strawberry.input(description="学校筛选 / filter for schools.")
class SchoolFilter:
    region_code: str | None = strawberry.field(
        default=None, description="区划代码：含其下全部 / schools anywhere inside this region."
    )
    stage: SchoolStage | None = strawberry.field(
        default=None,
        description="学段：九年一贯制学校计入小学和初中 / stage taught (nine-year schools count for both).",
    )
    kind: SchoolKind | None = strawberry.field(default=None, description="办学类型 / kind.")


async def regions(
    info: Info,
    filter: RegionFilter | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Connection[Region]:
    f = filter or RegionFilter()
    page = await geo.list_regions(info.context, parent_code=f.parent_code, level=f.level, first=first, after=after)
    return to_connection(page, node=Region.from_row, key=lambda r: r.code, after=after)


async def schools(
    info: Info,
    filter: SchoolFilter | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Connection[School]:
    f = filter or SchoolFilter()
    page = await geo.list_schools(
        info.context, region_code=f.region_code, stage=f.stage, kind=f.kind, first=first, after=after
    )
    return to_connection(page, node=School.from_row, key=lambda r: r.code, after=after)
