"""Province and city settings through the API (issue 14 §6).

The domain's root fields: `schema/root.py` merges every domain's `Query` and `Mutation`."""

from __future__ import annotations

import strawberry

from . import types as setting_types


@strawberry.type
class Query:
    province_settings: setting_types.ProvinceSettings | None = strawberry.field(
        resolver=setting_types.province_settings,
        description="省级设置 / a province's settings (SETTING:READ over the province or inside it).",
    )
    city_settings: setting_types.CitySettings | None = strawberry.field(
        resolver=setting_types.city_settings,
        description="市级设置 / what a city sets for itself (SETTING:READ over the city or inside it).",
    )


@strawberry.type
class Mutation:
    update_province_settings: setting_types.UpdateProvinceSettingsPayload = strawberry.mutation(
        resolver=setting_types.update_province_settings,
        description="修改省级设置（本省教育厅、本省权限管理员）/ change a province's settings: by the province "
        "itself, with the version read (stale: CONFLICT); audited.",
    )
    update_city_settings: setting_types.UpdateCitySettingsPayload = strawberry.mutation(
        resolver=setting_types.update_city_settings,
        description="修改市级设置（本市教育局）/ change what a city sets for itself (Guyuan's term survey): by "
        "the city's own bureau, with the version read (stale: CONFLICT); audited.",
    )
