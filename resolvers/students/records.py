"""Writing children's records: registration, corrections, enrolment history (学籍变动).

Checked on the child's paths before and after the change: nobody writes a child into or out of a
jurisdiction they do not hold.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import sqlalchemy as sa

from models.base import today
from models.child import Child, Gender, Guardian, SpecialGroup, home_path, national_id_problem
from models.enrolment import ENDS_ENROLMENT, EnrolmentChange, EnrolmentEvent
from models.region import RegionLevel, level_of_code
from models.repos import children as child_repo
from models.repos import ledger as ledger_repo
from models.repos import regions as region_repo
from models.repos import schools as school_repo
from models.school import School, SchoolStage, stages_teaching

from ..audit import record_change
from ..context import Context
from ..errors import BadInput, unknown_school
from ..paging import parse_id
from ..versioning import check_version
from .errors import StudentErrorCode

PLACE_LEVELS = (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE)


def _column_length(column: str) -> int:
    return int(getattr(sa.inspect(Child).columns[column].type, "length", 100))


# The longest reasons for a missing household registration or ID number: the columns' own bounds.
MAX_NO_HOUSEHOLD_REASON = _column_length("no_household_reason")
MAX_NO_ID_REASON = _column_length("no_id_reason")


@dataclass(frozen=True)
class GuardianData:
    name: str
    relation: str
    phone: str | None


@dataclass(frozen=True)
class StudentData:
    """What a registration or a correction says about a child; None leaves a field as it is."""

    name: str | None = None
    gender: Gender | None = None
    birth_date: date | None = None
    national_id: str | None = None
    household_region_code: str | None = None
    residence_region_code: str | None = None
    no_household_reason: str | None = None
    no_id_reason: str | None = None
    special_groups: list[SpecialGroup] | None = None
    disability_category: str | None = None
    disability_grade: int | None = None
    guardians: list[GuardianData] | None = None


async def create_student(
    ctx: Context, data: StudentData, *, school_code: str | None, grade: int | None, enrolled_on: date | None
) -> Child:
    """Register a child (enrolled or found out of school); a duplicate national ID is refused.

    A child found without a household registration or an ID number (POLICY 004 §2 无户籍、无学籍) is registered
    with the reason instead, and then needs a residence: the government line finds the child there.
    """
    for field, value in (("name", data.name), ("gender", data.gender), ("birthDate", data.birth_date)):
        if value is None or (isinstance(value, str) and not value.strip()):
            raise BadInput(field, "REQUIRED", "必填", "required")
    if data.residence_region_code is None:
        raise BadInput("residenceRegionCode", "REQUIRED", "必填", "required")
    if enrolled_on is not None and enrolled_on > today():
        raise BadInput("enrolledOn", "FUTURE_DATE", "日期不能晚于今天", "the date cannot be in the future")
    if enrolled_on is not None and data.birth_date is not None and enrolled_on < data.birth_date:
        raise BadInput("enrolledOn", "BEFORE_BIRTH", "日期早于出生日期", "the date is before the child's birth")
    child = Child(name="", gender=Gender.MALE, birth_date=date(2000, 1, 1), province_code="", version=0)
    await _apply(ctx, child, replace(data, national_id=None, no_id_reason=None))
    _require_reasons(child, national_id=data.national_id, no_id_reason=data.no_id_reason)
    if school_code is not None:
        school = await _school_for(ctx, school_code, grade)
        child.school_code, child.school_path, child.grade = school.code, school.path, grade
    elif grade is not None:
        raise BadInput("grade", "SCHOOL_REQUIRED", "有年级须有学校", "a grade needs a school")
    ctx.access().require("CHILD", "WRITE", child_repo.scope_paths(child))
    # Only now is the ID looked up among all children: a caller refused here learns nothing of who exists.
    await _apply(ctx, child, StudentData(national_id=data.national_id, no_id_reason=data.no_id_reason))
    child.registry_number = f"G{child.national_id}" if school_code and child.national_id else None
    child.version = 1
    ctx.session.add(child)
    await ctx.session.flush()
    await _write_guardians(ctx, child, data.guardians)
    if child.school_code and child.grade:
        await _record_event(ctx, child, EnrolmentChange.ENROL, child.school_code, child.grade, enrolled_on or today())
    await _audit(ctx, child, "student.create", enrolled=child.school_code is not None)
    return child


async def update_student(ctx: Context, *, student_id: str, data: StudentData, version: int) -> Child:
    """Correct a child's record; moving household or residence moves the child's ledger entries too."""
    child = await _child_for_write(ctx, student_id, version)
    moved = (data.household_region_code, data.residence_region_code) != (None, None)
    await _apply(ctx, child, data)
    _require_reasons(child, national_id=child.national_id, no_id_reason=child.no_id_reason)
    ctx.access().require("CHILD", "WRITE", child_repo.scope_paths(child))  # and still theirs afterwards
    if data.national_id is not None and child.registry_number is not None:
        child.registry_number = f"G{child.national_id}"  # the registry number is "G" + the ID
    child.version += 1
    ctx.session.add(child)
    await _write_guardians(ctx, child, data.guardians)
    if moved:
        await ledger_repo.move_child_paths(ctx.session, child)
    await _audit(ctx, child, "student.update", moved=moved)
    return child


async def record_enrolment(
    ctx: Context, *, student_id: str, change: EnrolmentChange, school_code: str, grade: int, on: date, version: int
) -> Child:
    """Enrol, transfer in or out, graduate, leave: the child's current school follows, the history is kept."""
    child = await _child_for_write(ctx, student_id, version, any_line_may_find=True)
    if on > today():
        raise BadInput("on", "FUTURE_DATE", "日期不能晚于今天", "the date cannot be in the future")
    await _check_order(ctx, child, on)
    if not 1 <= grade <= 9:
        raise BadInput("grade", "OUT_OF_RANGE", "年级为 1–9", "the grade is 1–9")
    if change in ENDS_ENROLMENT:
        if child.school_code != school_code:
            raise BadInput(
                "schoolCode", "NOT_ENROLLED_HERE", "该学生不在此学校就读", "the student is not enrolled here"
            )
        ctx.access().require("CHILD", "WRITE", {"EDU": [child.school_path]})
        child.school_code = child.school_path = child.grade = None
    else:
        if child.school_code is not None:
            raise BadInput(
                "studentId",
                "ALREADY_ENROLLED",
                "该学生已在其他学校就读，须先办理转出",
                "the student is enrolled elsewhere: record the transfer out first",
            )
        school = await _school_for(ctx, school_code, grade)
        ctx.access().require_at("CHILD", "WRITE", {"EDU": [school.path]}, unknown_school("schoolCode"))
        child.school_code, child.school_path, child.grade = school.code, school.path, grade
        if child.registry_number is None and child.national_id:
            child.registry_number = f"G{child.national_id}"
    child.version += 1
    ctx.session.add(child)
    await _record_event(ctx, child, change, school_code, grade, on)
    await _audit(ctx, child, f"student.{change.value.lower()}", school=school_code, grade=grade, on=on)
    return child


async def _child_for_write(ctx: Context, student_id: str, version: int, *, any_line_may_find: bool = False) -> Child:
    number = parse_id(student_id)
    child = await child_repo.lock_child(ctx.session, number) if number is not None else None
    access = ctx.access()
    paths = child_repo.scope_paths(child) if child else {}
    visible = child is not None and (
        access.allows("CHILD", "READ", paths) is not None
        or (any_line_may_find and access.allows("LEDGER", "READ", paths) is not None)
    )
    if child is None or not visible:
        raise BadInput("studentId", "NOT_FOUND", "没有这个学生", "no such student")
    if not any_line_may_find:
        access.require("CHILD", "WRITE", paths)
    check_version(child, version)
    return child


async def _apply(ctx: Context, child: Child, data: StudentData) -> None:
    if data.name is not None:
        if not data.name.strip():
            raise BadInput("name", "REQUIRED", "姓名不能为空", "the name cannot be empty")
        child.name = data.name.strip()
    if data.gender is not None:
        child.gender = data.gender
    if data.birth_date is not None:
        child.birth_date = data.birth_date
    if data.national_id is not None:
        child.national_id = data.national_id.strip().upper()
        child.no_id_reason = None  # the number found: no reason for its absence any more
    if data.no_id_reason is not None:
        if child.national_id is not None:
            raise BadInput(
                "noIdReason", StudentErrorCode.REASON_NOT_NEEDED, "已有身份证号，无需原因", "the ID is given"
            )
        child.no_id_reason = _reason("noIdReason", data.no_id_reason, MAX_NO_ID_REASON)
    if child.national_id is not None and (data.national_id is not None or data.birth_date is not None):
        problem = national_id_problem(child.national_id, child.birth_date)
        if problem is not None:
            raise BadInput("nationalId", *problem)
        other = await child_repo.child_with_national_id(ctx.session, child.national_id)
        if other is not None and other != child.id:
            raise BadInput(
                "nationalId",
                "DUPLICATE_NATIONAL_ID",
                "该身份证号已登记给另一名学生",
                "this national ID is already registered",
            )
    for field, code in (
        ("householdRegionCode", data.household_region_code),
        ("residenceRegionCode", data.residence_region_code),
    ):
        if code is None:
            continue
        region = await region_repo.get_region(ctx.session, code)
        if region is None or level_of_code(code) not in PLACE_LEVELS:
            raise BadInput(field, "NOT_A_PLACE", "须为乡镇或村级区划代码", "give a township or village code")
        if field == "householdRegionCode":
            child.household_region_code, child.household_path = code, region.path
            child.no_household_reason = None  # registered now: no reason for its absence any more
        else:
            child.residence_region_code, child.residence_path = code, region.path
        child.province_code = home_path(child).split("/")[0]
    if data.no_household_reason is not None:
        if child.household_region_code is not None:
            raise BadInput(
                "noHouseholdReason",
                StudentErrorCode.REASON_NOT_NEEDED,
                "已有户籍地，无需原因",
                "the household registration is given",
            )
        child.no_household_reason = _reason("noHouseholdReason", data.no_household_reason, MAX_NO_HOUSEHOLD_REASON)
    if data.special_groups is not None:
        child.special_groups = sorted({g.value for g in data.special_groups})
    if data.disability_category is not None or data.disability_grade is not None:
        child.disability_category, child.disability_grade = data.disability_category, data.disability_grade
    disabled = SpecialGroup.DISABLED.value in child.special_groups
    if not disabled and (child.disability_category or child.disability_grade):
        raise BadInput(
            "specialGroups",
            "DISABILITY_WITHOUT_GROUP",
            "填写残疾类别须标记残疾儿童",
            "disability details need DISABLED",
        )
    if child.disability_grade is not None and not 1 <= child.disability_grade <= 4:
        raise BadInput("disabilityGrade", "OUT_OF_RANGE", "残疾等级为 1–4", "the disability grade is 1–4")


def _reason(field: str, text: str, limit: int) -> str:
    """A reason as stored: trimmed, not empty, within the column's bound, without NUL (PostgreSQL refuses it)."""
    if "\x00" in text:
        raise BadInput(field, StudentErrorCode.INVALID_TEXT)
    reason = text.strip()
    if not reason:
        raise BadInput(field, StudentErrorCode.REQUIRED, "原因不能为空", "the reason cannot be empty")
    if len(reason) > limit:
        raise BadInput(field, StudentErrorCode.TOO_LONG, f"不超过 {limit} 字", f"at most {limit} characters")
    return reason


def _require_reasons(child: Child, *, national_id: str | None, no_id_reason: str | None) -> None:
    """No household registration needs its reason; no ID number needs its reason. (Registration asks for a
    residence always, so a child without a household is still found where it lives.)"""
    if child.household_region_code is None and child.no_household_reason is None:
        raise BadInput(
            "noHouseholdReason",
            StudentErrorCode.REQUIRED,
            "无户籍地时须注明原因",
            "without a household registration, give the reason",
        )
    if national_id is None and no_id_reason is None:
        raise BadInput(
            "noIdReason", StudentErrorCode.REQUIRED, "无身份证号时须注明原因", "without a national ID, give the reason"
        )


async def _school_for(ctx: Context, school_code: str, grade: int | None) -> School:
    school = (await school_repo.get_schools(ctx.session, [school_code])).get(school_code)
    if school is None:
        raise unknown_school("schoolCode")
    if grade is None or not 1 <= grade <= 9:
        raise BadInput("grade", "OUT_OF_RANGE", "年级为 1–9", "the grade is 1–9")
    stage = SchoolStage.PRIMARY if grade <= 6 else SchoolStage.JUNIOR
    taught = set(school.stages)
    if SchoolStage.SPECIAL.value not in taught and not taught & set(stages_teaching(stage)):
        raise BadInput("grade", "STAGE_NOT_TAUGHT", "该学校没有这个学段", "the school does not teach this stage")
    return school


async def _write_guardians(ctx: Context, child: Child, guardians: list[GuardianData] | None) -> None:
    if guardians is None:
        return
    rows = []
    for n, g in enumerate(guardians):
        if not g.name.strip() or not g.relation.strip():
            raise BadInput(f"guardians.{n}.name", "REQUIRED", "监护人姓名和关系必填", "a guardian's name and relation")
        if g.phone is not None and not (g.phone.isascii() and g.phone.isdigit() and 7 <= len(g.phone) <= 20):
            raise BadInput(
                f"guardians.{n}.phone", "INVALID_PHONE", "电话号码只能是数字", "a phone number is digits only"
            )
        rows.append(
            Guardian(
                child_id=child.id or 0,
                name=g.name.strip(),
                relation=g.relation.strip(),
                phone=g.phone,
                province_code=child.province_code,
            )
        )
    await child_repo.replace_guardians(ctx.session, child, rows)


async def _check_order(ctx: Context, child: Child, on: date) -> None:
    """A change happens after the child's birth and not before the last change recorded: the history reads
    in order, and the reports count enrolment from it as of a day."""
    if on < child.birth_date:
        raise BadInput("on", "BEFORE_BIRTH", "日期早于出生日期", "the date is before the child's birth")
    history = (await child_repo.enrolment_events_of(ctx.session, [child.id or 0])).get(child.id or 0, [])
    if history and on < history[-1].on:
        last = history[-1].on.isoformat()
        raise BadInput(
            "on",
            "BEFORE_LAST_CHANGE",
            f"日期早于上一次学籍变动（{last}）",
            f"the date is before the last enrolment change ({last})",
        )


async def _record_event(ctx: Context, child: Child, change: EnrolmentChange, school: str, grade: int, on: date) -> None:
    ctx.session.add(
        EnrolmentEvent(
            child_id=child.id or 0,
            change=change,
            on=on,
            school_code=school,
            grade=grade,
            recorded_by=ctx.actor,
            province_code=child.province_code,
        )
    )
    await ctx.session.flush()


async def _audit(ctx: Context, child: Child, action: str, **summary: object) -> None:
    await record_change(
        ctx,
        action=action,
        target_type="Student",
        target_id=str(child.id),
        scope_path=child.school_path or home_path(child),
        summary={k: str(v) for k, v in summary.items()} | {"version": child.version},
    )
