"""The role catalogue: roles, their line and jurisdiction level, and what each may delegate.

What each role may *do* is in `policy.csv` (Casbin); this module says *where* a role can be held.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from models.region import NATION_PATH, level_of_code
from models.school import is_school_path


class Level(enum.IntEnum):
    """Jurisdiction levels, top down. A school hangs below its county or township."""

    NATION = 0
    PROVINCE = 1
    CITY = 2
    COUNTY = 3
    TOWNSHIP = 4
    VILLAGE = 5
    SCHOOL = 6


class Line(enum.StrEnum):
    EDUCATION = "EDUCATION"
    GOVERNMENT = "GOVERNMENT"
    CROSS = "CROSS"


class Role(enum.StrEnum):
    SCHOOL_STAFF = "SCHOOL_STAFF"
    SCHOOL_PRINCIPAL = "SCHOOL_PRINCIPAL"
    COUNTY_EDU = "COUNTY_EDU"
    CITY_EDU = "CITY_EDU"
    PROVINCE_EDU = "PROVINCE_EDU"
    MINISTRY = "MINISTRY"
    VILLAGE = "VILLAGE"
    TOWNSHIP = "TOWNSHIP"
    COUNTY_GOV = "COUNTY_GOV"
    CITY_GOV = "CITY_GOV"
    PROVINCE_GOV = "PROVINCE_GOV"
    PERMISSION_ADMIN = "PERMISSION_ADMIN"
    INTEGRATOR = "INTEGRATOR"
    SUPERVISOR = "SUPERVISOR"


@dataclass(frozen=True)
class RoleSpec:
    line: Line
    levels: frozenset[Level]
    label: str


def _spec(line: Line, label: str, *levels: Level) -> RoleSpec:
    return RoleSpec(line=line, levels=frozenset(levels), label=label)


E, G, X = Line.EDUCATION, Line.GOVERNMENT, Line.CROSS
ROLES: dict[Role, RoleSpec] = {
    Role.SCHOOL_STAFF: _spec(E, "学校工作人员（班主任、台账管理员）/ school staff: own school", Level.SCHOOL),
    Role.SCHOOL_PRINCIPAL: _spec(E, "校长：另可报送学校月报 / principal: also submits school reports", Level.SCHOOL),
    Role.COUNTY_EDU: _spec(E, "县级教育局：台账、缓学审批、季度复核 / county bureau", Level.COUNTY),
    Role.CITY_EDU: _spec(E, "市级教育局：学期调研 / city bureau: semester research", Level.CITY),
    Role.PROVINCE_EDU: _spec(E, "省教育厅：学年评估 / provincial department: assessment", Level.PROVINCE),
    Role.MINISTRY: _spec(E, "教育部：全国汇总，无个人信息 / ministry: aggregates only", Level.NATION),
    Role.VILLAGE: _spec(G, "村（居）委会 / village committee", Level.VILLAGE),
    Role.TOWNSHIP: _spec(G, "乡镇政府（街道）/ township government", Level.TOWNSHIP),
    Role.COUNTY_GOV: _spec(G, "县级政府：会签县级复核 / county government: co-signs", Level.COUNTY),
    Role.CITY_GOV: _spec(G, "市级政府 / city government", Level.CITY),
    Role.PROVINCE_GOV: _spec(G, "省级政府 / provincial government", Level.PROVINCE),
    Role.PERMISSION_ADMIN: _spec(
        X, "权限管理员：辖区内账号与授权 / permission admin", Level.NATION, Level.PROVINCE, Level.CITY, Level.COUNTY
    ),
    Role.INTEGRATOR: _spec(
        X, "数据对接：辖区内读取、汇总、批量导出 / integrator", Level.PROVINCE, Level.CITY, Level.COUNTY
    ),
    Role.SUPERVISOR: _spec(
        X, "督导：辖区内只读，含审计日志 / supervisor: reads all", Level.PROVINCE, Level.CITY, Level.COUNTY
    ),
}


def level_of_path(path: str) -> Level:
    """A jurisdiction path's level: the nation, a school, or its last division code's level."""
    if path == NATION_PATH:
        return Level.NATION
    if is_school_path(path):
        return Level.SCHOOL
    return Level[level_of_code(path.rsplit("/", 1)[-1]).value]


def ancestors(path: str) -> list[str]:
    """`53/5323/532329` → the path itself, then each ancestor up to the nation (""), nearest first."""
    parts = path.split("/") if path else []
    return ["/".join(parts[:n]) for n in range(len(parts), -1, -1)]


def within(path: str, scope: str) -> bool:
    """Is `path` inside the jurisdiction `scope` (the nation contains everything)?"""
    return scope == NATION_PATH or path == scope or path.startswith(scope + "/")


def role_fits_level(role: Role, level: Level) -> bool:
    """May `role` be held at a jurisdiction of this level?"""
    return level in ROLES[role].levels


def delegable_roles(admin_level: Level) -> set[Role]:
    """Roles a permission admin at `admin_level` may grant: those held at its level or below.

    PERMISSION_ADMIN at the admin's own level is only delegable by a province (or national) admin;
    the caller checks the grant's level for that rule.
    """
    return {role for role, spec in ROLES.items() if any(level >= admin_level for level in spec.levels)}


REPORTING_PARENT: dict[Level, Level] = {
    Level.SCHOOL: Level.COUNTY,
    Level.COUNTY: Level.CITY,
    Level.CITY: Level.PROVINCE,
    Level.PROVINCE: Level.NATION,
}
