"""Students: every child the system knows, enrolled or not (学生 / 适龄儿童少年).

Scoped by school (education line) or household/residence (government line); personal data
is masked unless the role may see it, and every full read is audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from models.child import (
    GENDER_LABELS,
    SPECIAL_GROUP_LABELS,
    Gender,
    SpecialGroup,
    Stage,
    mask_national_id,
    mask_phone,
    stage_of_grade,
)
from models.child import Child as ChildRow
from models.enrolment import ENROLMENT_CHANGE_LABELS, EnrolmentChange
from resolvers.geography import regions as geo
from resolvers.ledgers.entries import current_entries
from resolvers.students import reading as child_resolvers

from ..connection import Connection, selects, to_connection
from ..context import Info, loader
from ..enums import described
from ..geography.regions import Region, School
from ..ledgers.attendance_reads import student_attendance

if TYPE_CHECKING:
    from ..ledgers.attendance_reads import StudentAttendance
    from ..ledgers.entries import LedgerEntry

described(Gender, GENDER_LABELS, "性别 / gender")
described(SpecialGroup, SPECIAL_GROUP_LABELS, "重点群体 / special groups (POLICY 004 §3)")
described(EnrolmentChange, ENROLMENT_CHANGE_LABELS, "学籍变动 / enrolment change")


@strawberry.type(description="监护人 / a guardian.")
class GuardianInfo:
    name: str = strawberry.field(description="姓名 / name.")
    relation: str = strawberry.field(description="关系 / relation to the student.")
    phone: str | None = strawberry.field(description="电话（无权限时遮蔽）/ phone, masked unless your role may see it.")


@strawberry.type(description="学籍变动 / one change of enrolment.")
class EnrolmentEventInfo:
    change: EnrolmentChange = strawberry.field(description="变动 / the change.")
    on: date = strawberry.field(description="日期 / date.")
    school_code: str = strawberry.field(description="学校代码 / school.")
    grade: int = strawberry.field(description="年级 / grade.")


@strawberry.type(description="学生（适龄儿童少年）/ a school-age child, enrolled or not.")
class Student(relay.Node):
    child_id: strawberry.Private[int]
    name: str = strawberry.field(description="姓名 / name.")
    gender: Gender = strawberry.field(description="性别 / gender.")
    birth_date: date = strawberry.field(description="出生日期 / date of birth.")
    grade: int | None = strawberry.field(description="年级 1–9；未在校为空 / grade 1–9, null when not enrolled.")
    stage: Stage | None = strawberry.field(description="学段（由年级得出）/ stage, from the grade.")
    special_groups: list[SpecialGroup] = strawberry.field(description="重点群体 / special groups to monitor.")
    disability_category: str | None = strawberry.field(description="残疾类别 / disability category.")
    disability_grade: int | None = strawberry.field(description="残疾等级 1–4 / disability grade.")
    version: int = strawberry.field(description="版本（修改时提交，过期返回 CONFLICT）/ version for optimistic writes.")
    full_national_id: strawberry.Private[str | None]
    full_registry_number: strawberry.Private[str | None]
    school_code: strawberry.Private[str | None]
    no_household_reason: str | None = strawberry.field(
        description="无户籍原因（无户籍登记时）/ why the child has no household registration, when it has none."
    )
    no_id_reason: str | None = strawberry.field(
        description="无身份证号原因（无身份证号时）/ why the child has no national ID number, when it has none."
    )
    household_region_code: strawberry.Private[str | None]
    residence_region_code: strawberry.Private[str | None]

    @classmethod
    def resolve_id(cls, root: Student, *, info: Info) -> str:
        return str(root.child_id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Student | None]:
        wanted = list(node_ids)
        found = await child_resolvers.get_children(info.context, wanted)
        return [cls.from_row(found[i]) if i in found else None for i in wanted]

    @classmethod
    def from_row(cls, row: ChildRow) -> Student:
        return cls(
            child_id=row.id or 0,
            name=row.name,
            gender=row.gender,
            birth_date=row.birth_date,
            grade=row.grade,
            stage=stage_of_grade(row.grade),
            special_groups=[SpecialGroup(g) for g in row.special_groups],
            disability_category=row.disability_category,
            disability_grade=row.disability_grade,
            version=row.version,
            full_national_id=row.national_id,
            full_registry_number=row.registry_number,
            school_code=row.school_code,
            no_household_reason=row.no_household_reason,
            no_id_reason=row.no_id_reason,
            household_region_code=row.household_region_code,
            residence_region_code=row.residence_region_code,
        )

    async def _personal_data_visible(self, info: Info) -> bool:
        return bool(await loader(info, "personal-data", child_resolvers.personal_data_visible).load(str(self.child_id)))

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="身份证号：无权限时显示前 6 后 4 位，完整读取记入审计 / national ID, masked (first 6, last 4) "
        "unless your role may see it; full reads are audited."
    )
    async def national_id(self, info: Info) -> str | None:
        if self.full_national_id is not None and await self._personal_data_visible(info):
            return self.full_national_id
        return mask_national_id(self.full_national_id)

    @strawberry.field(description="学籍号（同身份证号规则遮蔽）/ student registry number, masked like the ID.")  # type: ignore[untyped-decorator]
    async def registry_number(self, info: Info) -> str | None:
        if self.full_registry_number is not None and await self._personal_data_visible(info):
            return self.full_registry_number
        return mask_national_id(self.full_registry_number)

    @strawberry.field(description="监护人 / guardians (phones masked unless your role may see them).")  # type: ignore[untyped-decorator]
    async def guardians(self, info: Info) -> list[GuardianInfo]:
        rows = await loader(info, "guardians", child_resolvers.guardians_of).load(str(self.child_id))
        full = bool(rows) and await self._personal_data_visible(info)
        return [
            GuardianInfo(name=g.name, relation=g.relation, phone=g.phone if full else mask_phone(g.phone))
            for g in rows or []
        ]

    @strawberry.field(description="就读学校；未在校为空 / the school attended, null when not enrolled.")  # type: ignore[untyped-decorator]
    async def school(self, info: Info) -> School | None:
        if self.school_code is None:
            return None
        row = await loader(info, "named-school", geo.schools_named).load(self.school_code)
        return School.from_row(row) if row else None

    @strawberry.field(description="学籍变动（按日期）/ enrolment history, by date.")  # type: ignore[untyped-decorator]
    async def enrolment_history(self, info: Info) -> list[EnrolmentEventInfo]:
        rows = await loader(info, "enrolment-history", child_resolvers.enrolment_history).load(str(self.child_id))
        return [
            EnrolmentEventInfo(change=r.change, on=r.on, school_code=r.school_code, grade=r.grade) for r in rows or []
        ]

    attendance: Annotated[StudentAttendance, strawberry.lazy("schema.ledgers.attendance_reads")] = strawberry.field(
        resolver=student_attendance,
        description="月考勤：每个上课日到校、缺勤、请假或无记录 / the month's school days: present, absent, on leave "
        "or unknown (issue 14 §1); month YYYY-MM.",
    )

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="未销号的台账记录（疑似辍学或辍学），无则为空 / the ledger entry not yet closed out, if any."
    )
    async def current_entry(
        self, info: Info
    ) -> Annotated[LedgerEntry, strawberry.lazy("schema.ledgers.entries")] | None:
        from ..ledgers.entries import LedgerEntry  # the ledgers module imports this one

        row = await loader(info, "current-entry", current_entries).load(str(self.child_id))
        return LedgerEntry.from_row(row) if row else None

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="户籍所在地；无户籍儿童为空（见 noHouseholdReason）/ household-registration region; null for a "
        "child without a household registration (see noHouseholdReason, POLICY 004 §2)."
    )
    async def household_region(self, info: Info) -> Region | None:
        if self.household_region_code is None:
            return None
        row = await loader(info, "place", geo.places_named).load(self.household_region_code)
        return Region.from_row(row) if row else None

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="居住地；由学校名册得知、住址尚未查明的儿童为空 / residence region; null for a child known from "
        "a school's roster whose address is not known yet."
    )
    async def residence_region(self, info: Info) -> Region | None:
        if self.residence_region_code is None:
            return None
        row = await loader(info, "place", geo.places_named).load(self.residence_region_code)
        return Region.from_row(row) if row else None


@strawberry.input(description="学生筛选 / filter for students.")
class StudentFilter:
    region_code: str | None = strawberry.field(
        default=None, description="区划：户籍、居住或学校在其中 / household, residence or school inside this region."
    )
    enrolled: bool | None = strawberry.field(default=None, description="是否在校 / enrolled in a school or not.")
    school_code: str | None = strawberry.field(default=None, description="学校 / enrolled at this school.")
    stage: Stage | None = strawberry.field(default=None, description="学段（按年级）/ stage, by grade.")
    special_group: SpecialGroup | None = strawberry.field(default=None, description="重点群体 / in this special group.")


async def students(
    info: Info,
    filter: StudentFilter | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Connection[Student]:
    f = filter or StudentFilter()
    page = await child_resolvers.list_children(
        info.context,
        count=selects(info, "totalCount"),
        region_code=f.region_code,
        enrolled=f.enrolled,
        school_code=f.school_code,
        stage=f.stage,
        special_group=f.special_group,
        first=first,
        after=after,
    )
    return to_connection(page, node=Student.from_row, key=lambda r: str(r.id), after=after)
