"""Regions and schools: the jurisdictions everything else is scoped by.

The domain's root fields: `schema/root.py` merges every domain's `Query` and `Mutation`."""

from __future__ import annotations

import strawberry

from ..connection import Connection
from . import regions as region_types


@strawberry.type
class Query:
    regions: Connection[region_types.Region] = strawberry.field(
        resolver=region_types.regions, description="行政区划 / regions, ordered by code; `first` at most 100."
    )
    schools: Connection[region_types.School] = strawberry.field(
        resolver=region_types.schools, description="学校 / schools, ordered by code; `first` at most 100."
    )
