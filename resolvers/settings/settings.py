"""Province and city settings through the API (issue 14 §6), instead of SQL.

- A province's settings (`province_setting`: the school-age cut-off day, the reporting deadlines,
  `late_submission_allowed`, `cosign_required`, `verification_days`) are set by the province itself:
  `SETTING:WRITE` held at the province (its education department, its permission admin), not by a ministry
  or a city.
- What a city may set for itself (`city_setting`: Guyuan's term survey, 固原市, POLICY 003 §2(二)) is
  set by that city's bureau: `SETTING:WRITE_CITY` held at the city. The province does not decide it.
- Reading: `SETTING:READ` over the place, or inside it (a city reads the province rules it works under).
- Each write names the `version` it read: a stale one is refused (`CONFLICT`), never merged. The row
  is locked for the write, so two writers at once give one winner. Each change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from authz.errors import Forbidden
from models.province import CitySetting, ProvinceSetting, cutoff_day_fits
from models.region import Region, RegionLevel
from models.repos import regions as region_repo
from models.repos import settings as settings_repo

from ..audit import record_change
from ..context import Context
from ..errors import BadInput
from ..versioning import check_version
from .errors import SettingErrorCode

SETTING = "SETTING"


@dataclass(frozen=True)
class ProvinceSettings:
    """A province's settings as they apply now: its row, or the defaults (version 0) before any change."""

    region: Region
    row: ProvinceSetting


@dataclass(frozen=True)
class CitySettings:
    region: Region
    row: CitySetting


@dataclass(frozen=True)
class ProvinceChanges:
    """The settings to change (None: unchanged) and the version they were read at."""

    version: int
    age_cutoff_month: int | None = None
    age_cutoff_day: int | None = None
    school_report_due_day: int | None = None
    county_report_due_days: int | None = None
    city_report_due_days: int | None = None
    bimonth_report_due_day: int | None = None
    term_start_report_days: int | None = None
    late_submission_allowed: bool | None = None
    cosign_required: bool | None = None
    primary_leaver_days: int | None = None
    verification_days: int | None = None


@dataclass(frozen=True)
class CityChanges:
    version: int
    term_survey_enabled: bool | None = None


async def get_province_settings(ctx: Context, province_code: str) -> ProvinceSettings:
    region = await _place(ctx, province_code, RegionLevel.PROVINCE, "provinceCode")
    row = await settings_repo.province_setting(ctx.session, region.code)
    return ProvinceSettings(region, row or ProvinceSetting(province_code=region.code, version=0))


async def get_city_settings(ctx: Context, city_code: str) -> CitySettings:
    region = await _place(ctx, city_code, RegionLevel.CITY, "cityCode")
    row = await settings_repo.city_setting(ctx.session, region.code)
    return CitySettings(region, row or CitySetting(city_code=region.code, province_code=region.code[:2], version=0))


async def update_province_settings(ctx: Context, province_code: str, changes: ProvinceChanges) -> ProvinceSettings:
    """Change a province's settings: by the province itself (SETTING:WRITE held at the province)."""
    region = await _writable(ctx, province_code, RegionLevel.PROVINCE, "provinceCode", "WRITE")
    given = _given(changes)
    row = await settings_repo.lock_province_setting(ctx.session, region.code)
    check_version(row, changes.version)
    month, day = given.get("age_cutoff_month", row.age_cutoff_month), given.get("age_cutoff_day", row.age_cutoff_day)
    if not cutoff_day_fits(month, day):
        raise BadInput(
            "ageCutoffDay" if "age_cutoff_day" in given else "ageCutoffMonth",
            SettingErrorCode.INVALID_CUTOFF,
            f"截止日 {month} 月 {day} 日不是每年都有的日期",
            f"{month}/{day} (month/day) is not a day of every year",
        )
    await _apply(ctx, region, row, given, "settings.province.update")
    return ProvinceSettings(region, row)


async def update_city_settings(ctx: Context, city_code: str, changes: CityChanges) -> CitySettings:
    """Change what a city sets for itself: by that city's bureau (SETTING:WRITE_CITY held at the city)."""
    region = await _writable(ctx, city_code, RegionLevel.CITY, "cityCode", "WRITE_CITY")
    given = _given(changes)
    row = await settings_repo.lock_city_setting(ctx.session, region.code, region.code[:2])
    check_version(row, changes.version)
    await _apply(ctx, region, row, given, "settings.city.update")
    return CitySettings(region, row)


async def _place(ctx: Context, code: str, level: RegionLevel, field: str) -> Region:
    """The province or city whose settings are read: one the caller may read, else NOT_FOUND."""
    access = ctx.access()
    if not access.holds_anywhere(SETTING, "READ"):
        raise Forbidden()
    region = await region_repo.get_region(ctx.session, code)
    readable = region is not None and (
        access.allows(SETTING, "READ", {"PLACE": [region.path]}) is not None
        or access.sees_as_ancestor(SETTING, "READ", "PLACE", region.path)
    )
    if region is None or not readable:
        raise BadInput(field, SettingErrorCode.NOT_FOUND)
    if region.level is not level and level is RegionLevel.PROVINCE:
        raise BadInput(field, SettingErrorCode.NOT_A_PROVINCE)
    if region.level is not level:
        raise BadInput(field, SettingErrorCode.NOT_A_CITY)
    return region


async def _writable(ctx: Context, code: str, level: RegionLevel, field: str, act: str) -> Region:
    """The place, if the caller holds the write right at that place itself (a level sets its own)."""
    if not ctx.access().holds_anywhere(SETTING, act):
        raise Forbidden()
    region = await _place(ctx, code, level, field)
    if region.path not in ctx.access().exact_granted_paths(SETTING, act):
        raise BadInput(field, SettingErrorCode.OUT_OF_SCOPE)
    return region


def _given(changes: ProvinceChanges | CityChanges) -> dict[str, Any]:
    """The settings a change names (None leaves one as it is); at least one."""
    given = {f.name: getattr(changes, f.name) for f in fields(changes) if f.name != "version"}
    given = {name: value for name, value in given.items() if value is not None}
    if not given:
        raise BadInput("input", SettingErrorCode.NOTHING_TO_CHANGE)
    return given


async def _apply(
    ctx: Context, region: Region, row: ProvinceSetting | CitySetting, given: dict[str, Any], action: str
) -> None:
    """Write the given settings, bump the version and audit before → after, in this transaction."""
    before = {name: getattr(row, name) for name in given}
    for name, value in given.items():
        setattr(row, name, value)
    row.version += 1
    ctx.session.add(row)
    await ctx.session.flush()
    await record_change(
        ctx,
        action=action,
        target_type=type(row).__name__,
        target_id=region.code,
        scope_path=region.path,
        summary={"before": before, "after": given, "version": row.version},
    )
