"""Regions (行政区划): division codes, levels and materialized jurisdiction paths (ARCHITECTURE §3)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlmodel import Field, SQLModel

from .base import created_at_field, enum_type, path_type, updated_at_field


class RegionLevel(enum.StrEnum):
    PROVINCE = "PROVINCE"
    CITY = "CITY"
    COUNTY = "COUNTY"
    TOWNSHIP = "TOWNSHIP"
    VILLAGE = "VILLAGE"


LEVEL_LABELS: dict[RegionLevel, str] = {
    RegionLevel.PROVINCE: "省级 / province",
    RegionLevel.CITY: "地市级 / city or prefecture",
    RegionLevel.COUNTY: "县区级 / county or district",
    RegionLevel.TOWNSHIP: "乡镇街道 / township or subdistrict",
    RegionLevel.VILLAGE: "村（居）委会 / village or community",
}

CODE_LENGTH: dict[RegionLevel, int] = {
    RegionLevel.PROVINCE: 2,
    RegionLevel.CITY: 4,
    RegionLevel.COUNTY: 6,
    RegionLevel.TOWNSHIP: 9,
    RegionLevel.VILLAGE: 12,
}
LEVEL_BY_LENGTH = {length: level for level, length in CODE_LENGTH.items()}

# The nation as a jurisdiction: the ministry's and national admins' grants (the path contains all).
NATION_CODE = "CN"
NATION_PATH = ""


def level_of_code(code: str) -> RegionLevel:
    """The level a division code denotes by its length (GB/T 2260 style: 2/4/6/9/12 digits)."""
    if not code.isdigit() or len(code) not in LEVEL_BY_LENGTH:
        raise ValueError(f"not a division code: {code!r}")
    return LEVEL_BY_LENGTH[len(code)]


def parent_code_of(code: str) -> str | None:
    """The code of the region directly above (None for a province)."""
    lengths = sorted(LEVEL_BY_LENGTH)
    index = lengths.index(len(code))
    return code[: lengths[index - 1]] if index else None


def path_of_code(code: str) -> str:
    """`532328101` → `53/5323/532328/532328101`: every ancestor's code, top down."""
    return "/".join(code[:n] for n in sorted(LEVEL_BY_LENGTH) if n <= len(code))


class Region(SQLModel, table=True):
    """A province, city, county, township or village, identified by its division code."""

    __tablename__ = "region"

    code: str = Field(primary_key=True, max_length=12)
    name: str = Field(max_length=100)
    level: RegionLevel = Field(sa_type=enum_type(RegionLevel))
    parent_code: str | None = Field(default=None, foreign_key="region.code", index=True, max_length=12)
    path: str = Field(sa_type=path_type(), unique=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
