"""The page each compiled list reads: the same page query the normal path runs (issue 18 §1 split).

INTERIM: until the lead's `children_page_query` / `PageQuery` land on main, this builds the same
statements `models/repos/children.py::list_children` runs today (scope, filters, `ORDER BY id (+ 0)`);
the merge replaces it with the normal path's own page query, so no rule is kept twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Text, cast, func, select
from sqlmodel import col

from models.child import GRADES_OF_STAGE, Child, SpecialGroup, Stage
from models.repos import children as child_repo
from models.repos.regions import within_path

from ..context import Context
from ..geography.regions import filter_region_path, filter_school_path
from ..paging import decode_id_cursor, page_size
from ..students.reading import is_narrow


@dataclass(frozen=True)
class PageQuery:
    """`keys`: `id` and `cursor` (the key text before encode_cursor) in list order, limit + 1 rows."""

    keys: Select[Any]
    count: Select[Any]
    limit: int


async def children_page_query(
    ctx: Context,
    *,
    region_code: str | None = None,
    enrolled: bool | None = None,
    school_code: str | None = None,
    stage: Stage | None = None,
    special_group: SpecialGroup | None = None,
    first: int | None = None,
    after: str | None = None,
) -> PageQuery:
    access = ctx.access()
    region_path = await filter_region_path(ctx, region_code)
    school_path = await filter_school_path(ctx, school_code)
    if region_path is not None and access.scope_within("CHILD", "READ", region_path):
        region_path = None
    filtered = [p for p in (region_path, school_path) if p is not None]
    narrow = is_narrow(filtered or access.all_granted_paths("CHILD", "READ"))
    where = [access.list_scope("CHILD", "READ", child_repo.SCOPE_COLUMNS)]
    if school_path is not None:
        where.append(within_path(child_repo.SCHOOL_PATH, school_path))
    if stage is not None:
        where.append(col(Child.grade).between(*GRADES_OF_STAGE[stage]))
    if special_group is not None:
        where.append(col(Child.special_groups).contains([special_group.value]))
    if region_path is not None:
        where.append(child_repo.region_condition(region_path))
    if enrolled is not None:
        school: Any = Child.school_code
        where.append(school.is_not(None) if enrolled else school.is_(None))
    limit = page_size(first)
    after_key = decode_id_cursor(after)
    key = col(Child.id)
    keys = select(key.label("id"), cast(key, Text).label("cursor")).where(*where)
    if after_key is not None:
        keys = keys.where(key > int(after_key))
    keys = keys.order_by(key + 0 if narrow else key).limit(limit + 1)
    count = select(func.count()).select_from(Child).where(*where)
    return PageQuery(keys=keys, count=count, limit=limit)
