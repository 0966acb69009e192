"""The six export datasets as SQL (issue 15 §1): their columns (GraphQL field names, Chinese headers), joins,
filters and order keys. The scope and personal-data predicates come from the caller (authz); the filters
reuse the GraphQL lists' own conditions (`children.region_condition`, `ledger.entry_conditions`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Text, case, func, literal, select, tuple_
from sqlalchemy.orm import aliased
from sqlmodel import col

from ..child import Child, mask_national_id_sql
from ..ledger import LedgerEntry
from ..persuasion import CasePlan, DeferralRequest, PersuasionVisit
from ..region import Region
from ..report import Report, ReportFigure, ReportRevision
from ..school import School
from . import ledger as ledger_repo
from .children import region_condition
from .exports import Column, Filters, Kind, Query, global_id, path_code
from .paths import within_path
from .reports import readable


def _since(column: Any, updated_after: datetime | None) -> list[ColumnElement[bool]]:
    return [cast(ColumnElement[bool], column > updated_after)] if updated_after is not None else []


def _school_year(column: Any, school_year: int | None) -> list[ColumnElement[bool]]:
    """Inside the school year starting 1 September `school_year` (report_tables.school_year_of)."""
    if school_year is None:
        return []
    return [col(column) >= date(school_year, 9, 1), col(column) < date(school_year + 1, 9, 1)]


def children(scope: ColumnElement[bool], pii: ColumnElement[bool], f: Filters) -> Query:
    """Children with their school and regions; national ID and registry number in full only where `pii`."""
    household, residence = aliased(Region), aliased(Region)
    c = Child
    columns = [
        Column("id", "学生ID", global_id("Student", col(c.id))),
        Column("name", "姓名", col(c.name)),
        Column("gender", "性别", col(c.gender)),
        Column("birthDate", "出生日期", col(c.birth_date)),
        Column("nationalId", "身份证号", _masked(col(c.national_id), pii)),
        Column("registryNumber", "学籍号", _masked(col(c.registry_number), pii)),
        Column("grade", "年级", col(c.grade)),
        Column("stage", "学段", case((col(c.grade) <= 6, "PRIMARY"), (col(c.grade) >= 7, "JUNIOR"))),
        Column("specialGroups", "重点群体", col(c.special_groups), Kind.ARRAY),
        Column("disabilityCategory", "残疾类别", col(c.disability_category)),
        Column("disabilityGrade", "残疾等级", col(c.disability_grade)),
        Column("schoolCode", "学校代码", col(c.school_code)),
        Column("schoolName", "学校", col(School.name)),
        Column("householdRegionCode", "户籍地代码", col(c.household_region_code)),
        Column("householdRegionName", "户籍地", household.name),
        Column("residenceRegionCode", "居住地代码", col(c.residence_region_code)),
        Column("residenceRegionName", "居住地", residence.name),
        Column("noHouseholdReason", "无户籍原因", col(c.no_household_reason)),
        Column("noIdReason", "无身份证号原因", col(c.no_id_reason)),
        Column("version", "版本", col(c.version)),
        Column("updatedAt", "更新时间", col(c.updated_at), Kind.TIME),
    ]
    where = [scope, *_since(c.updated_at, f.updated_after), *_after(col(c.id), f.after)]
    if f.region_path is not None:
        where.append(region_condition(f.region_path))
    base = (
        select(cast(Any, c.id))
        .select_from(c)
        .outerjoin(School, col(School.code) == col(c.school_code))
        .outerjoin(household, col(household.code) == col(c.household_region_code))
        .outerjoin(residence, col(residence.code) == col(c.residence_region_code))
        .where(*where)
    )
    return Query(columns, base, [col(c.id)])


def _masked(value: Any, pii: ColumnElement[bool]) -> ColumnElement[Any]:
    return case((pii, value), else_=mask_national_id_sql(value))


def _after(key: Any, after: tuple[Any, ...] | None) -> list[ColumnElement[bool]]:
    return [key > after[0]] if after is not None else []


def ledger_entries(scope: ColumnElement[bool], f: Filters) -> Query:
    e = LedgerEntry
    columns = [
        Column("id", "台账记录ID", global_id("LedgerEntry", col(e.id))),
        Column("studentId", "学生ID", global_id("Student", col(e.child_id))),
        Column("ledger", "台账", col(e.ledger)),
        Column("status", "状态", col(e.status)),
        Column("source", "来源", col(e.source)),
        Column("category", "辍学分类", col(e.category)),
        Column("stage", "学段", col(e.stage)),
        Column("grade", "年级", col(e.grade)),
        Column("schoolCode", "学校代码", col(e.school_code)),
        Column("openedOn", "登记日期", col(e.opened_on)),
        Column("openedAt", "登记时间", col(e.opened_at), Kind.TIME),
        Column("openedBy", "登记人", col(e.opened_by)),
        Column("note", "备注", col(e.note)),
        Column("isRelapse", "是否复辍", col(e.is_relapse), Kind.BOOL),
        Column("responsibleRegionCode", "责任地区代码", path_code(e.responsible_path)),
        Column("handoverRegionCode", "移交地区代码", path_code(e.handover_path)),
        Column("lastVisitOn", "最近劝返日期", col(e.last_visit_on)),
        Column("returnedOn", "返校日期", col(e.returned_on)),
        Column("placement", "安置方式", col(e.placement)),
        Column("placementSchoolCode", "安置学校代码", col(e.placement_school_code)),
        Column("placedOn", "安置日期", col(e.placed_on)),
        Column("closedAt", "销号时间", col(e.closed_at), Kind.TIME),
        Column("closedBy", "销号人", col(e.closed_by)),
        Column("closeReason", "销号原因", col(e.close_reason)),
        Column("version", "版本", col(e.version)),
        Column("updatedAt", "更新时间", col(e.updated_at), Kind.TIME),
    ]
    entry_filter = ledger_repo.EntryFilter(
        ledger=cast(Any, f.ledger), statuses=(cast(Any, f.status),) if f.status else (), region_path=f.region_path
    )
    where = [
        scope,
        *ledger_repo.entry_conditions(entry_filter),
        *_since(e.updated_at, f.updated_after),
        *_school_year(e.opened_on, f.school_year),
        *_after(col(e.id), f.after),
    ]
    return Query(columns, select(cast(Any, e.id)).select_from(e).where(*where), [col(e.id)])


def _entry_in_scope(entry_id: Any, scope: ColumnElement[bool], f: Filters) -> ColumnElement[bool]:
    """The row's ledger entry is one the caller may read (visits, deferrals and plans are read through it)."""
    entry_filter = ledger_repo.EntryFilter(ledger=cast(Any, f.ledger), region_path=f.region_path)
    conditions = [scope, *ledger_repo.entry_conditions(entry_filter)]
    return col(entry_id).in_(select(cast(Any, LedgerEntry.id)).where(*conditions))


def persuasion_visits(scope: ColumnElement[bool], f: Filters) -> Query:
    v = PersuasionVisit
    columns = [
        Column("id", "劝返记录ID", global_id("PersuasionVisit", col(v.id))),
        Column("entryId", "台账记录ID", global_id("LedgerEntry", col(v.entry_id))),
        Column("studentId", "学生ID", global_id("Student", col(v.child_id))),
        Column("visitedOn", "劝返日期", col(v.visited_on)),
        Column("method", "方式", col(v.method)),
        Column("stage", "劝返步骤", col(v.stage)),
        Column("participants", "参与人员", col(v.participants), Kind.JSON),
        Column("outcome", "结果", col(v.outcome)),
        Column("nextStep", "下一步", col(v.next_step)),
        Column("nextOn", "下一步日期", col(v.next_on)),
        Column("recordedBy", "记录人", col(v.recorded_by)),
        Column("createdAt", "记录时间", col(v.created_at), Kind.TIME),
    ]
    where = [
        _entry_in_scope(v.entry_id, scope, f),
        *_since(v.created_at, f.updated_after),
        *_school_year(v.visited_on, f.school_year),
        *_after(col(v.id), f.after),
    ]
    return Query(columns, select(cast(Any, v.id)).select_from(v).where(*where), [col(v.id)])


def deferrals(scope: ColumnElement[bool], f: Filters) -> Query:
    d = DeferralRequest
    changed = func.greatest(col(d.requested_at), col(d.decided_at))
    columns = [
        Column("id", "延缓入学申请ID", global_id("DeferralRequest", col(d.id))),
        Column("entryId", "台账记录ID", global_id("LedgerEntry", col(d.entry_id))),
        Column("studentId", "学生ID", global_id("Student", col(d.child_id))),
        Column("basis", "依据", col(d.basis)),
        Column("grounds", "理由", col(d.grounds)),
        Column("documentRef", "证明材料", col(d.document_ref)),
        Column("status", "状态", col(d.status)),
        Column("requestedBy", "申请人", col(d.requested_by)),
        Column("requestedAt", "申请时间", col(d.requested_at), Kind.TIME),
        Column("decidedBy", "审批人", col(d.decided_by)),
        Column("decidedAt", "审批时间", col(d.decided_at), Kind.TIME),
        Column("decisionNote", "审批意见", col(d.decision_note)),
    ]
    where = [
        _entry_in_scope(d.entry_id, scope, f),
        *([col(d.status) == f.status] if f.status else []),
        *_since(changed, f.updated_after),
        *_school_year(func.date(col(d.requested_at)), f.school_year),
        *_after(col(d.id), f.after),
    ]
    return Query(columns, select(cast(Any, d.id)).select_from(d).where(*where), [col(d.id)])


def case_plans(scope: ColumnElement[bool], f: Filters) -> Query:
    """Plans (一人一案) of children with a ledger entry the caller may read."""
    p = CasePlan
    columns = [
        Column("id", "一人一案ID", global_id("CasePlan", col(p.id))),
        Column("studentId", "学生ID", global_id("Student", col(p.child_id))),
        Column("goal", "目标", col(p.goal)),
        Column("responsibleEdu", "教育部门责任人", col(p.responsible_edu)),
        Column("responsibleGov", "政府责任人", col(p.responsible_gov)),
        Column("steps", "措施", col(p.steps), Kind.JSON),
        Column("updatedBy", "更新人", col(p.updated_by)),
        Column("version", "版本", col(p.version)),
        Column("updatedAt", "更新时间", col(p.updated_at), Kind.TIME),
    ]
    entry_filter = ledger_repo.EntryFilter(ledger=cast(Any, f.ledger), region_path=f.region_path)
    readable_children = select(cast(Any, LedgerEntry.child_id)).where(
        scope, *ledger_repo.entry_conditions(entry_filter)
    )
    where = [
        col(p.child_id).in_(readable_children),
        *_since(p.updated_at, f.updated_after),
        *_after(col(p.id), f.after),
    ]
    return Query(columns, select(cast(Any, p.id)).select_from(p).where(*where), [col(p.id)])


STAGE_KEYS = ("JUNIOR", "PRIMARY")  # the order of a report's two rows (text order of the stage)


def report_tables(scope: ColumnElement[bool], f: Filters) -> Query:
    """Table 1 (摸底排查统计报表) of each submitted report: its latest submitted version's rows."""
    r, v, t = Report, ReportRevision, ReportFigure
    other = aliased(ReportRevision)
    latest = (
        select(func.max(other.number))
        .where(col(other.report_id) == col(r.id), col(other.submitted_at).is_not(None))
        .scalar_subquery()
    )
    categories = [
        Column(f"dropouts{x.upper()}", f"辍学{x.upper()}类", getattr(t, f"dropouts_{x}"))
        for x in "abcdefghijklmnopqrst"
    ]
    columns = [
        Column("id", "行ID", global_id("Table1Row", cast(Any, r.id).cast(Text) + ":" + cast(Any, t.stage).cast(Text))),
        Column("reportId", "报表ID", global_id("Report", col(r.id))),
        Column("level", "层级", col(r.level)),
        Column("cadence", "周期类型", col(r.cadence)),
        Column("period", "期间", col(r.period)),
        Column("unitCode", "单位代码", col(r.unit_code)),
        Column("unitName", "单位", col(r.unit_name)),
        Column("status", "状态", col(r.status)),
        Column("revision", "版本号", col(v.number)),
        Column("submittedAt", "报送时间", col(v.submitted_at), Kind.TIME),
        Column("stage", "学段", col(t.stage)),
        Column("shouldAttend", "应到校人数", col(t.should_attend)),
        Column("onLeave", "请假未到校人数", col(t.on_leave)),
        Column("suspected", "疑似辍学人数", col(t.suspected)),
        Column("dropouts", "辍学人数", col(t.dropouts)),
        *categories,
    ]
    where = [
        readable(scope, drafts_of=()),  # submitted reports, as `reports` lists them to a non-author
        col(v.number) == latest,
        *([col(r.status) == f.status] if f.status else []),
        *_since(v.submitted_at, f.updated_after),
        *_school_year(r.period_start, f.school_year),
    ]
    if f.region_path is not None:
        where.append(within_path(col(r.unit_path), f.region_path))
    if f.after is not None:
        row_key = tuple_(col(r.id), cast(Any, t.stage).cast(Text))
        where.append(row_key > tuple_(literal(f.after[0]), literal(f.after[1])))
    base = (
        select(cast(Any, r.id))
        .select_from(r)
        .join(v, col(v.report_id) == col(r.id))
        .join(t, col(t.revision_id) == col(v.id))
        .where(*where)
    )
    return Query(columns, base, [col(r.id), cast(Any, t.stage).cast(Text)])
