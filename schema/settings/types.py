"""Province and city settings (issue 14 §6): the types, the inputs (each number bounded by
`models.province.BOUNDS`) and the payloads."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from authz.errors import AccessError
from models.province import BOUNDS
from resolvers.errors import BadInput
from resolvers.settings import settings as setting_resolvers

from ..context import Info
from ..errors import SettingError
from ..inputs import ints
from ..mutations import run_mutation


async def _nodes(info: Info, codes: Iterable[str], fetch: object) -> list[object | None]:
    """Each settings object by its place code; one the caller may not read is null, like a missing one."""
    found: list[object | None] = []
    for code in codes:
        value = None
        with contextlib.suppress(BadInput, AccessError):
            value = await fetch(info.context, code)  # type: ignore[operator]
        found.append(value)
    return found


@strawberry.type(
    description="省级设置 / a province's settings: the defaults until it changes one (version 0). Set by the "
    "province's education department or permission admin (SETTING:WRITE held at the province)."
)
class ProvinceSettings(relay.Node):
    province_code: str = strawberry.field(description="省级区划代码 / the province's code.")
    province_name: str = strawberry.field(description="省名 / the province's name.")
    age_cutoff_month: int = strawberry.field(description="入学年龄截止月（默认 8）/ school-age cut-off month.")
    age_cutoff_day: int = strawberry.field(
        description="入学年龄截止日（默认 31）：该日年满 6–15 周岁为适龄 / school-age cut-off day: aged 6–15 on it."
    )
    school_report_due_day: int = strawberry.field(
        description="学校月报截止日：次月第几日（默认 5）/ day of the next month a school's report is due (004 §4)."
    )
    county_report_due_days: int = strawberry.field(
        description="县季度复核截止：季末后天数（默认 15）/ days after the quarter a county's report is due (004 §5)."
    )
    city_report_due_days: int = strawberry.field(
        description="市学期调研截止：半年末后天数（默认 15）/ days after the half-year a city's report is due (004 §6)."
    )
    bimonth_report_due_day: int = strawberry.field(
        description="双月报截止日：两个月后的次月第几日（默认 10）/ day of the month after the two months a province's "
        "bimonthly report to the ministry is due (双月报, POLICY 004 §9)."
    )
    term_start_report_days: int = strawberry.field(
        description="开学报到期：开学后天数（默认 15，002 一(三)）/ days after the term start pupils report in; "
        "after them the unreported list is taken."
    )
    late_submission_allowed: bool = strawberry.field(
        description="是否接受逾期首次报送（默认是）/ a late first submission is accepted (flagged), else refused."
    )
    cosign_required: bool = strawberry.field(
        description="县季度复核须县级政府会签（默认是）/ the county government countersigns the county's quarter."
    )
    primary_leaver_days: int = strawberry.field(
        description="小升初：秋季开学后多少天仍未入初中即列入名单（默认 30）/ days after the autumn term start "
        "before a pupil who finished primary and holds no junior-school place is listed (小升初, default 30)."
    )
    verification_days: int = strawberry.field(
        description="下发名单核实期限：天数（默认 15）/ days a county has to verify a pushed-down child (004 §9)."
    )
    version: int = strawberry.field(
        description="版本（修改时提交，过期返回 CONFLICT；从未修改为 0）/ version to send back; 0 before any change."
    )
    updated_at: datetime | None = strawberry.field(description="最近修改时间 / last changed at (null: never).")

    @classmethod
    def resolve_id(cls, root: ProvinceSettings, *, info: Info) -> str:
        return root.province_code

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ProvinceSettings | None]:
        found = await _nodes(info, node_ids, setting_resolvers.get_province_settings)
        return [cls.from_row(f) if isinstance(f, setting_resolvers.ProvinceSettings) else None for f in found]

    @classmethod
    def from_row(cls, found: setting_resolvers.ProvinceSettings) -> ProvinceSettings:
        row = found.row
        return cls(
            province_code=found.region.code,
            province_name=found.region.name,
            age_cutoff_month=row.age_cutoff_month,
            age_cutoff_day=row.age_cutoff_day,
            school_report_due_day=row.school_report_due_day,
            county_report_due_days=row.county_report_due_days,
            city_report_due_days=row.city_report_due_days,
            bimonth_report_due_day=row.bimonth_report_due_day,
            term_start_report_days=row.term_start_report_days,
            late_submission_allowed=row.late_submission_allowed,
            cosign_required=row.cosign_required,
            primary_leaver_days=row.primary_leaver_days,
            verification_days=row.verification_days,
            version=row.version,
            updated_at=row.updated_at if row.version else None,
        )


@strawberry.type(
    description="市级设置 / what a city sets for itself (SETTING:WRITE_CITY held at the city: its education "
    "bureau): the defaults until it changes one (version 0)."
)
class CitySettings(relay.Node):
    city_code: str = strawberry.field(description="地市区划代码 / the city's code.")
    city_name: str = strawberry.field(description="市名 / the city's name.")
    province_code: str = strawberry.field(description="所属省 / its province.")
    term_survey_enabled: bool = strawberry.field(
        description="本市各县按固原学期摸排报表报送（003 §2(二)，默认否）/ the city's counties send Guyuan's term "
        "survey (the first week's Friday, end of April / October, end of June / December)."
    )
    version: int = strawberry.field(
        description="版本（修改时提交，过期返回 CONFLICT；从未修改为 0）/ version to send back; 0 before any change."
    )
    updated_at: datetime | None = strawberry.field(description="最近修改时间 / last changed at (null: never).")

    @classmethod
    def resolve_id(cls, root: CitySettings, *, info: Info) -> str:
        return root.city_code

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[CitySettings | None]:
        found = await _nodes(info, node_ids, setting_resolvers.get_city_settings)
        return [cls.from_row(f) if isinstance(f, setting_resolvers.CitySettings) else None for f in found]

    @classmethod
    def from_row(cls, found: setting_resolvers.CitySettings) -> CitySettings:
        row = found.row
        return cls(
            city_code=found.region.code,
            city_name=found.region.name,
            province_code=row.province_code,
            term_survey_enabled=row.term_survey_enabled,
            version=row.version,
            updated_at=row.updated_at if row.version else None,
        )


def _bounded(name: str, zh: str, en: str) -> Any:
    low, high = BOUNDS[name]
    return strawberry.field(default=None, metadata=ints(low, high), description=f"{zh}（{low}–{high}）/ {en}.")


@strawberry.input(description="修改省级设置（只给要改的项）/ change a province's settings: give only those to change.")
class UpdateProvinceSettingsInput:
    province_code: str = strawberry.field(description="省级区划代码 / the province's code.")
    version: int = strawberry.field(description="读取时的版本 / the version you read (0 before any change).")
    age_cutoff_month: int | None = _bounded("age_cutoff_month", "入学年龄截止月", "school-age cut-off month")
    age_cutoff_day: int | None = _bounded(
        "age_cutoff_day", "入学年龄截止日（须为该月每年都有的一天）", "cut-off day, a day of its month every year"
    )
    school_report_due_day: int | None = _bounded(
        "school_report_due_day", "学校月报截止：次月第几日", "a school's report is due on this day of the next month"
    )
    county_report_due_days: int | None = _bounded(
        "county_report_due_days", "县季度复核截止：季末后天数", "days after the quarter a county's report is due"
    )
    city_report_due_days: int | None = _bounded(
        "city_report_due_days", "市学期调研截止：半年末后天数", "days after the half-year a city's report is due"
    )
    bimonth_report_due_day: int | None = _bounded(
        "bimonth_report_due_day", "双月报截止：次月第几日", "the bimonthly report is due on this day of the next month"
    )
    term_start_report_days: int | None = _bounded(
        "term_start_report_days", "开学报到期：开学后天数（002 一(三)）", "days after the term start pupils report in"
    )
    late_submission_allowed: bool | None = strawberry.field(
        default=None, description="是否接受逾期首次报送 / accept a late first submission (flagged)."
    )
    cosign_required: bool | None = strawberry.field(
        default=None, description="县季度复核须县级政府会签 / the county government countersigns the quarter."
    )
    primary_leaver_days: int | None = _bounded(
        "primary_leaver_days",
        "小升初：秋季开学后天数",
        "days after the autumn term start before 小升初 pupils are listed",
    )
    verification_days: int | None = _bounded(
        "verification_days", "下发名单核实期限：天数", "days a county has to verify a pushed-down child"
    )


@strawberry.input(description="修改市级设置 / change what a city sets for itself.")
class UpdateCitySettingsInput:
    city_code: str = strawberry.field(description="地市区划代码 / the city's code.")
    version: int = strawberry.field(description="读取时的版本 / the version you read (0 before any change).")
    term_survey_enabled: bool | None = strawberry.field(
        default=None, description="本市各县报送固原学期摸排报表 / the city's counties send Guyuan's term survey."
    )


@strawberry.type(description="修改省级设置的结果 / result of changing a province's settings.")
class UpdateProvinceSettingsPayload:
    settings: ProvinceSettings | None = strawberry.field(default=None, description="修改后的设置 / as changed.")
    errors: list[SettingError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


@strawberry.type(description="修改市级设置的结果 / result of changing a city's settings.")
class UpdateCitySettingsPayload:
    settings: CitySettings | None = strawberry.field(default=None, description="修改后的设置 / as changed.")
    errors: list[SettingError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


async def province_settings(info: Info, province_code: str) -> ProvinceSettings | None:
    return ProvinceSettings.from_row(await setting_resolvers.get_province_settings(info.context, province_code))


async def city_settings(info: Info, city_code: str) -> CitySettings | None:
    return CitySettings.from_row(await setting_resolvers.get_city_settings(info.context, city_code))


async def update_province_settings(info: Info, input: UpdateProvinceSettingsInput) -> UpdateProvinceSettingsPayload:
    changes = setting_resolvers.ProvinceChanges(
        version=input.version,
        age_cutoff_month=input.age_cutoff_month,
        age_cutoff_day=input.age_cutoff_day,
        school_report_due_day=input.school_report_due_day,
        county_report_due_days=input.county_report_due_days,
        city_report_due_days=input.city_report_due_days,
        bimonth_report_due_day=input.bimonth_report_due_day,
        term_start_report_days=input.term_start_report_days,
        late_submission_allowed=input.late_submission_allowed,
        cosign_required=input.cosign_required,
        primary_leaver_days=input.primary_leaver_days,
        verification_days=input.verification_days,
    )
    return await run_mutation(
        info,
        UpdateProvinceSettingsPayload,
        lambda: setting_resolvers.update_province_settings(info.context, input.province_code, changes),
        lambda found: UpdateProvinceSettingsPayload(settings=ProvinceSettings.from_row(found)),
    )


async def update_city_settings(info: Info, input: UpdateCitySettingsInput) -> UpdateCitySettingsPayload:
    changes = setting_resolvers.CityChanges(version=input.version, term_survey_enabled=input.term_survey_enabled)
    return await run_mutation(
        info,
        UpdateCitySettingsPayload,
        lambda: setting_resolvers.update_city_settings(info.context, input.city_code, changes),
        lambda found: UpdateCitySettingsPayload(settings=CitySettings.from_row(found)),
    )
