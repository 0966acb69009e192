"""Rosters (名册) of the four checks (四查, POLICY 004 §2): their kinds, columns and parsed rows.

Pure rules that need only the data; reading files is `resolvers/rosters/files.py`, checking rows against
the geography and the importer's jurisdiction is `resolvers/rosters/rows.py`.

Which columns each kind must have (a file without one fails whole, naming it):

- every kind: 姓名 and 公民身份号码. A row may leave the ID empty for a child without one (004 §2 铁脚板摸排:
  无户籍、无学籍); that row then needs 出生日期, 性别 and 无身份证原因 (so those columns are optional in the
  file, and required in such a row). With an ID, the birth date and gender may be left out: the ID
  carries them, and when given they must agree with it.
- `HOUSEHOLD` 户籍: 户籍地区划代码 or 现住址区划代码 (at least one of the two columns, and one of the two
  values in each row): a township's door-to-door list knows where a child lives, not always where it
  is registered.
- `REGISTRY` 学籍: 学籍号, 学校标识码, 年级 (the registry export always has them); 学籍状态 optional (a blank
  cell, or no such column, is 在读: the export lists the students the registry holds; `REGISTRY_STATUSES`).
- `IN_SCHOOL` 在校: 学校标识码, 年级 (a school's roll need not carry registry numbers).
- `POVERTY` 脱贫户/低保: 户籍地区划代码 and 帮扶类型 (the poverty database is kept by household registration).
- `EXAM_REGISTRATION` 中考报名名册 (POLICY 003 二(二), README "Key transitions"): 学籍号, 学校标识码 and 报名号
  (the registration's number, kept in `raw`); imported by the county bureau for its county. It is evidence
  only: applying it registers no child (`EVIDENCE_ONLY`), its rows say who registered for 中考.
- `PUSHED` 下发名单: the ministry's (or a province's) list of suspected dropouts (POLICY 004 §9), with the
  platform's fields 学籍号, 学校标识码, 年级, 户籍地区划代码, 现住址区划代码, all optional: a row is routed
  to a county by the first place it names that lies in one (`models/verification.route`), and a row with
  no usable place is kept as unroutable and listed back to the sender, never refused for it.

So every row of the four checks has a place (a region or a school), which decides whether it lies in the importer's
jurisdiction. Any other column of the table may be present; unknown columns are kept in `raw` only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date

from .child import Child, Gender, SpecialGroup


class RosterKind(enum.StrEnum):
    HOUSEHOLD = "HOUSEHOLD"
    REGISTRY = "REGISTRY"
    IN_SCHOOL = "IN_SCHOOL"
    POVERTY = "POVERTY"
    EXAM_REGISTRATION = "EXAM_REGISTRATION"  # 中考报名名册 (POLICY 003 二(二))
    PUSHED = "PUSHED"  # 下发名单: suspected dropouts pushed down by the ministry or a province (004 §9)


ROSTER_KIND_LABELS = {
    RosterKind.HOUSEHOLD: "户籍名册 / household registration",
    RosterKind.REGISTRY: "学籍名册 / student registry",
    RosterKind.IN_SCHOOL: "在校名册 / at school",
    RosterKind.POVERTY: "脱贫户/低保名册 / poverty and minimum-allowance households",
    RosterKind.EXAM_REGISTRATION: "中考报名名册 / registrations for the junior-school leaving exam (中考)",
    RosterKind.PUSHED: "下发疑似辍学名单 / suspected dropouts pushed down for verification (004 §9)",
}

# Kinds whose rows are evidence only: applying the batch registers no child for its unknown rows (a 中考
# registration of a pupil baoxue does not know stays a row without a child, for a person to look into).
EVIDENCE_ONLY = frozenset({RosterKind.EXAM_REGISTRATION})


@dataclass(frozen=True)
class Column:
    """A roster column: the field it fills, its header and accepted aliases (the first is the template's)."""

    field: str
    headers: tuple[str, ...]
    required: bool = False

    @property
    def header(self) -> str:
        return self.headers[0]


NAME = Column("name", ("姓名", "学生姓名", "儿童姓名"))
GENDER = Column("gender", ("性别",))
NATIONAL_ID = Column("national_id", ("公民身份号码", "身份证号", "身份证号码", "身份证件号"))
BIRTH_DATE = Column("birth_date", ("出生日期", "出生年月日"))
HOUSEHOLD_REGION = Column("household_region_code", ("户籍地区划代码", "户籍区划代码", "户籍地代码"))
RESIDENCE_REGION = Column("residence_region_code", ("现住址区划代码", "现住址代码", "居住地区划代码"))
REGISTRY_NUMBER = Column("registry_number", ("学籍号", "全国学籍号", "学籍辅号"))
SCHOOL_CODE = Column("school_code", ("学校标识码", "学校代码"))
GRADE = Column("grade", ("年级",))
POVERTY_KIND = Column("poverty_kind", ("帮扶类型", "户类型", "救助类型"))
NO_ID_REASON = Column("no_id_reason", ("无身份证原因", "无身份证号原因"))
REGISTRY_STATUS = Column("registry_status", ("学籍状态", "学生状态"))
EXAM_NUMBER = Column("exam_number", ("报名号", "中考报名号", "考生号"))
EXAM_NUMBER_MAX = 32  # the longest 报名号 kept (in `raw`: the roster row has no column of its own for it)


def _required(column: Column) -> Column:
    return Column(column.field, column.headers, required=True)


_COMMON = (_required(NAME), GENDER, _required(NATIONAL_ID), BIRTH_DATE)

COLUMNS: dict[RosterKind, tuple[Column, ...]] = {
    RosterKind.HOUSEHOLD: (*_COMMON, HOUSEHOLD_REGION, RESIDENCE_REGION, NO_ID_REASON),
    RosterKind.REGISTRY: (
        *_COMMON,
        _required(REGISTRY_NUMBER),
        _required(SCHOOL_CODE),
        _required(GRADE),
        HOUSEHOLD_REGION,
        NO_ID_REASON,
        REGISTRY_STATUS,
    ),
    RosterKind.IN_SCHOOL: (*_COMMON, _required(SCHOOL_CODE), _required(GRADE), REGISTRY_NUMBER, NO_ID_REASON),
    RosterKind.POVERTY: (*_COMMON, _required(HOUSEHOLD_REGION), _required(POVERTY_KIND), NO_ID_REASON),
    RosterKind.EXAM_REGISTRATION: (
        *_COMMON,
        _required(REGISTRY_NUMBER),
        _required(SCHOOL_CODE),
        _required(EXAM_NUMBER),
        GRADE,
        NO_ID_REASON,
    ),
    RosterKind.PUSHED: (
        *_COMMON,
        REGISTRY_NUMBER,
        SCHOOL_CODE,
        GRADE,
        HOUSEHOLD_REGION,
        RESIDENCE_REGION,
        NO_ID_REASON,
    ),
}

# Fields of which a kind needs at least one column, and one value in each row.
ONE_OF: dict[RosterKind, tuple[Column, ...]] = {RosterKind.HOUSEHOLD: (HOUSEHOLD_REGION, RESIDENCE_REGION)}

# The longest reason for a missing ID kept: the bound of the child's own column, which it goes to.
NO_ID_REASON_MAX: int = Child.__table__.c.no_id_reason.type.length  # type: ignore[attr-defined]


def column_of_header(kind: RosterKind, header: str) -> Column | None:
    """The column a header (as written in the file, trimmed) stands for in a kind's roster."""
    return next((c for c in COLUMNS[kind] if header in c.headers), None)


def missing_columns(kind: RosterKind, headers: list[str]) -> list[str]:
    """The headers (Chinese) of the required columns a file lacks; '户籍地区划代码或现住址区划代码' for a group."""
    present = {c.field for h in headers if (c := column_of_header(kind, h)) is not None}
    missing = [c.header for c in COLUMNS[kind] if c.required and c.field not in present]
    group = ONE_OF.get(kind, ())
    if group and not any(c.field in present for c in group):
        missing.append("或".join(c.header for c in group))
    return missing


# 男/女, also 男性/女性 and the GB/T 2261.1 codes 1/2.
GENDERS = {
    "男": Gender.MALE,
    "男性": Gender.MALE,
    "1": Gender.MALE,
    "女": Gender.FEMALE,
    "女性": Gender.FEMALE,
    "2": Gender.FEMALE,
}

POVERTY_KINDS = {
    "脱贫户": SpecialGroup.POVERTY_REGISTERED,
    "监测户": SpecialGroup.POVERTY_REGISTERED,
    "建档立卡": SpecialGroup.POVERTY_REGISTERED,
    "建档立卡户": SpecialGroup.POVERTY_REGISTERED,
    "低保": SpecialGroup.LOW_INCOME,
    "低保户": SpecialGroup.LOW_INCOME,
    "农村低保": SpecialGroup.LOW_INCOME,
}


class RegistryStatus(enum.StrEnum):
    """A pupil's status in the student registry (学籍系统), as its export writes it. The registry marks
    dropouts (辍学) and "other leaving" (其他离校, which needs a stated reason), and a pupil found studying
    elsewhere has the registry transferred (转出) (POLICY 002 二(七))."""

    ENROLLED = "ENROLLED"  # 在读
    SUSPENDED = "SUSPENDED"  # 休学: approved leave, the registry place kept
    DROPPED_OUT = "DROPPED_OUT"  # 辍学 (标注)
    OTHER_LEAVING = "OTHER_LEAVING"  # 其他离校
    TRANSFERRED_OUT = "TRANSFERRED_OUT"  # 转出
    GRADUATED = "GRADUATED"  # 毕业 / 结业
    DECEASED = "DECEASED"  # 死亡


REGISTRY_STATUSES = {
    "在读": RegistryStatus.ENROLLED,
    "在籍": RegistryStatus.ENROLLED,
    "在校": RegistryStatus.ENROLLED,
    "正常": RegistryStatus.ENROLLED,
    "休学": RegistryStatus.SUSPENDED,
    "辍学": RegistryStatus.DROPPED_OUT,
    "其他离校": RegistryStatus.OTHER_LEAVING,
    "转出": RegistryStatus.TRANSFERRED_OUT,
    "转学": RegistryStatus.TRANSFERRED_OUT,
    "毕业": RegistryStatus.GRADUATED,
    "结业": RegistryStatus.GRADUATED,
    "死亡": RegistryStatus.DECEASED,
}

# What a registry row's status means (README "Comparisons", POLICY 002 二(七)). Any registry row, whatever its
# status, means the child was registered, so never out of school (失学, A/B: never enrolled), but one saying the
# pupil finished below the last junior grade (小升初, no junior registry: found, no category). The school's roll
# is expected to show a pupil the registry holds as studying, or marks as having left without a transfer
# (REGISTERED_NOT_ATTENDING, each verified one by one); a pupil on approved leave (休学), transferred out,
# finished or deceased is expected on none. A child first known from a registry row is enrolled at its school
# while the registry holds a place there (`HOLDS_PLACE`); one marked 辍学 or 其他离校 is registered at its
# household region, else at the school (its only place known, where the roll comparison finds it); one
# transferred out or finished only at its household region; a deceased one never (`REGISTER_SQL`).
HOLDS_PLACE = frozenset({RegistryStatus.ENROLLED, RegistryStatus.SUSPENDED})
JUNIOR_LAST_GRADE = 9  # a pupil who finished it has finished compulsory education; below it, 小升初 or earlier
EXPECTED_ON_ROLL = frozenset({RegistryStatus.ENROLLED, RegistryStatus.DROPPED_OUT, RegistryStatus.OTHER_LEAVING})

_NUMERALS = "一二三四五六七八九"
GRADES = {str(n): n for n in range(1, 10)}
GRADES.update({f"{_NUMERALS[n - 1]}年级": n for n in range(1, 10)})
GRADES.update({f"{n}年级": n for n in range(1, 10)})
GRADES.update({f"初{_NUMERALS[n - 7]}": n for n in range(7, 10)})
# How cells are read (dates, grades without spaces, IDs normalised and 15 → 18, gender and birth date from the
# ID) is written once, in SQL, by resolvers/rosters/rows.py, from these tables.


@dataclass(frozen=True)
class RosterRecord:
    """A valid roster row: `line` as the user sees it in the file (the header is line 1)."""

    line: int
    name: str
    gender: Gender
    birth_date: date
    national_id: str | None = None
    household_region_code: str | None = None
    residence_region_code: str | None = None
    registry_number: str | None = None
    school_code: str | None = None
    grade: int | None = None
    special_group: SpecialGroup | None = None
    no_id_reason: str | None = None
    registry_status: RegistryStatus | None = None  # None: the row did not say (在读)
    raw: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RowProblem:
    """Why a row is refused: its line, the column's header as in the file, the code and the message."""

    line: int
    column: str
    code: str
    zh: str
    en: str
