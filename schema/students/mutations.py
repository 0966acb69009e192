"""Mutations of students' records: register, correct, and record enrolment changes (学籍变动)."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry import relay

from models.audit import AuditLog
from models.child import Child, Gender, Guardian, SpecialGroup
from models.child import Child as ChildRow
from models.enrolment import EnrolmentChange
from resolvers.students import reading as child_resolvers
from resolvers.students import records

from ..context import Info
from ..errors import StudentError
from ..inputs import stored_in
from ..mutations import run_mutation
from ..nodes import node_id_of
from .types import Student


@strawberry.input(description="监护人 / a guardian.")
class GuardianInput:
    name: str = strawberry.field(metadata=stored_in(Guardian, "name"), description="姓名 / name.")
    relation: str = strawberry.field(metadata=stored_in(Guardian, "relation"), description="关系 / relation.")
    phone: str | None = strawberry.field(
        metadata=stored_in(Guardian, "phone"), default=None, description="电话 / phone (digits)."
    )


@strawberry.input(description="登记学生 / register a child, enrolled or found out of school.")
class CreateStudentInput:
    name: str = strawberry.field(metadata=stored_in(Child, "name"), description="姓名 / name.")
    gender: Gender = strawberry.field(description="性别 / gender.")
    birth_date: date = strawberry.field(description="出生日期（须与身份证号一致）/ must agree with the ID.")
    national_id: str | None = strawberry.field(default=None, description="身份证号 / national ID (validated).")
    household_region_code: str | None = strawberry.field(
        default=None,
        description="户籍地（乡镇或村）；无户籍时不填，写明 noHouseholdReason / household registration (township or "
        "village); leave out for a child without one and give noHouseholdReason.",
    )
    no_household_reason: str | None = strawberry.field(
        metadata=stored_in(Child, "no_household_reason"),
        default=None,
        description="无户籍原因（无户籍地时必填，≤100 字）/ why there is no household registration.",
    )
    residence_region_code: str = strawberry.field(description="居住地（乡镇或村）/ residence.")
    no_id_reason: str | None = strawberry.field(
        metadata=stored_in(Child, "no_id_reason"),
        default=None,
        description="无身份证号原因（无身份证号时必填，≤100 字）/ why there is no national ID.",
    )
    school_code: str | None = strawberry.field(default=None, description="就读学校 / school, if enrolled.")
    grade: int | None = strawberry.field(default=None, description="年级 1–9 / grade.")
    enrolled_on: date | None = strawberry.field(default=None, description="入学日期 / enrolled on.")
    special_groups: list[SpecialGroup] = strawberry.field(default_factory=list, description="重点群体 / groups.")
    disability_category: str | None = strawberry.field(
        metadata=stored_in(Child, "disability_category"), default=None, description="残疾类别 / disability category."
    )
    disability_grade: int | None = strawberry.field(default=None, description="残疾等级 1–4 / disability grade.")
    guardians: list[GuardianInput] = strawberry.field(default_factory=list, description="监护人 / guardians.")


@strawberry.input(description="更正学生信息（未给出的字段不变）/ correct a record; fields left out stay as they are.")
class UpdateStudentInput:
    student_id: relay.GlobalID = strawberry.field(description="学生 ID / the student.")
    version: int = strawberry.field(description="读取时的版本 / the version you read.")
    name: str | None = strawberry.field(metadata=stored_in(Child, "name"), default=None, description="姓名 / name.")
    gender: Gender | None = strawberry.field(default=None, description="性别 / gender.")
    birth_date: date | None = strawberry.field(default=None, description="出生日期 / date of birth.")
    national_id: str | None = strawberry.field(default=None, description="身份证号 / national ID.")
    household_region_code: str | None = strawberry.field(default=None, description="户籍地 / household region.")
    residence_region_code: str | None = strawberry.field(default=None, description="居住地 / residence region.")
    no_household_reason: str | None = strawberry.field(
        metadata=stored_in(Child, "no_household_reason"),
        default=None,
        description="无户籍原因（仍无户籍地时）/ why there is no household registration.",
    )
    no_id_reason: str | None = strawberry.field(
        metadata=stored_in(Child, "no_id_reason"),
        default=None,
        description="无身份证号原因（仍无身份证号时）/ why there is no national ID.",
    )
    special_groups: list[SpecialGroup] | None = strawberry.field(default=None, description="重点群体 / groups.")
    disability_category: str | None = strawberry.field(
        metadata=stored_in(Child, "disability_category"), default=None, description="残疾类别 / disability category."
    )
    disability_grade: int | None = strawberry.field(default=None, description="残疾等级 / disability grade.")
    guardians: list[GuardianInput] | None = strawberry.field(default=None, description="监护人（整体替换）/ replace.")


@strawberry.input(description="学籍变动 / record an enrolment change.")
class RecordEnrolmentChangeInput:
    student_id: relay.GlobalID = strawberry.field(description="学生 ID / the student.")
    change: EnrolmentChange = strawberry.field(description="变动 / the change.")
    school_code: str = strawberry.field(description="学校（转出、毕业、离校为原校）/ school (the old one for leaving).")
    grade: int = strawberry.field(description="年级 / grade.")
    on: date = strawberry.field(description="日期 / date.")
    version: int = strawberry.field(description="读取时的版本 / the version you read.")


@strawberry.type(description="学生操作结果 / result of a change to a student's record.")
class StudentPayload:
    student: Student | None = strawberry.field(default=None, description="改后的学生 / the student after the change.")
    errors: list[StudentError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


def _data(input: CreateStudentInput | UpdateStudentInput) -> records.StudentData:
    guardians = (
        [records.GuardianData(name=g.name, relation=g.relation, phone=g.phone) for g in input.guardians]
        if input.guardians is not None
        else None
    )
    return records.StudentData(
        name=input.name,
        gender=input.gender,
        birth_date=input.birth_date,
        national_id=input.national_id,
        household_region_code=input.household_region_code,
        residence_region_code=input.residence_region_code,
        no_household_reason=input.no_household_reason,
        no_id_reason=input.no_id_reason,
        special_groups=input.special_groups,
        disability_category=input.disability_category,
        disability_grade=input.disability_grade,
        guardians=guardians,
    )


def _payload(row: ChildRow) -> StudentPayload:
    return StudentPayload(student=Student.from_row(row))


async def create_student(info: Info, input: CreateStudentInput) -> StudentPayload:
    return await run_mutation(
        info,
        StudentPayload,
        lambda: records.create_student(
            info.context, _data(input), school_code=input.school_code, grade=input.grade, enrolled_on=input.enrolled_on
        ),
        _payload,
    )


async def update_student(info: Info, input: UpdateStudentInput) -> StudentPayload:
    return await run_mutation(
        info,
        StudentPayload,
        lambda: records.update_student(
            info.context, student_id=node_id_of(input.student_id, "Student"), data=_data(input), version=input.version
        ),
        _payload,
    )


async def record_enrolment_change(info: Info, input: RecordEnrolmentChangeInput) -> StudentPayload:
    return await run_mutation(
        info,
        StudentPayload,
        lambda: records.record_enrolment(
            info.context,
            student_id=node_id_of(input.student_id, "Student"),
            change=input.change,
            school_code=input.school_code,
            grade=input.grade,
            on=input.on,
            version=input.version,
        ),
        _payload,
    )


@strawberry.input(description="查看完整身份证号 / reveal a student's full national ID.")
class RevealNationalIdInput:
    student_id: relay.GlobalID = strawberry.field(description="学生 ID / the student's global ID.")
    reason: str = strawberry.field(
        metadata=stored_in(AuditLog, "reason"), description="查看原因（记入审计）/ why, for the audit log."
    )


@strawberry.type(description="查看身份证号结果 / result of revealNationalId.")
class RevealNationalIdPayload:
    national_id: str | None = strawberry.field(default=None, description="完整身份证号 / the full national ID.")
    errors: list[StudentError] = strawberry.field(default_factory=list, description="错误 / typed errors.")


async def reveal_national_id(info: Info, input: RevealNationalIdInput) -> RevealNationalIdPayload:
    student_id = node_id_of(input.student_id, "Student")
    return await run_mutation(
        info,
        RevealNationalIdPayload,
        lambda: child_resolvers.reveal_national_id(info.context, student_id=student_id, reason=input.reason),
        lambda value: RevealNationalIdPayload(national_id=value),
    )
