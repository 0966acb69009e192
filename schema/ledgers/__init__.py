"""The three ledgers (三本台账): entries, attendance and the rules, persuasion, deferral, placement,
close-out, handover, and their counts.

The domain's root fields: `schema/root.py` merges every domain's `Query` and `Mutation`."""

from __future__ import annotations

import strawberry

from ..connection import SCOPED_ORDER, Connection
from . import attendance as attendance_mutations
from . import attendance_reads
from . import calendar as calendar_types
from . import counts as count_types
from . import entries as entry_types
from . import mutations as entry_mutations
from . import school_age as school_age_types


@strawberry.type
class Query:
    ledger_entries: Connection[entry_types.LedgerEntry] = strawberry.field(
        resolver=entry_types.ledger_entries,
        description="疑似辍学与辍学台账 / entries of the suspected-dropout and dropout ledgers in my scope."
        + SCOPED_ORDER,
    )
    school_age_children: school_age_types.SchoolAgeChildConnection = strawberry.field(
        resolver=school_age_types.school_age_children,
        description="适龄儿童台账（6–15 周岁，含随迁子女）/ every school-age child in my scope, migrants included."
        + SCOPED_ORDER,
    )
    ledger_counts: list[count_types.LedgerCountRow] = strawberry.field(
        resolver=count_types.ledger_counts,
        description="台账汇总（无个人信息）/ open suspected and dropout cases counted by region, ledger, status, "
        "stage and category, inside my aggregate scope; no personal data.",
    )
    class_attendance: attendance_reads.ClassAttendance = strawberry.field(
        resolver=attendance_reads.class_attendance,
        description="各班考勤汇总 / a class's monthly attendance summary (month YYYY-MM), for readers of its pupils.",
    )
    school_calendar: calendar_types.SchoolCalendar = strawberry.field(
        resolver=calendar_types.school_calendar,
        description="校历 / a province's or county's school calendar of a year (CALENDAR:READ).",
    )
    ledger_statistics: count_types.LedgerStatistics = strawberry.field(
        resolver=count_types.ledger_statistics,
        description="月末统计与比率（无个人信息）/ month-end counts and rates by region, month, stage, category and "
        "special group, inside my aggregate scope; no personal data.",
    )


@strawberry.type
class Mutation:
    record_attendance: attendance_mutations.LedgerRulesPayload = strawberry.mutation(
        resolver=attendance_mutations.record_attendance,
        description="登记考勤并执行台账规则 / record absences, then run the ledger rules.",
    )
    run_ledger_rules: attendance_mutations.LedgerRulesPayload = strawberry.mutation(
        resolver=attendance_mutations.run_ledger_rules,
        description="执行台账规则（县级）/ run the ledger rules as of a date (county roles).",
    )
    set_school_calendar: calendar_types.SchoolCalendarPayload = strawberry.mutation(
        resolver=calendar_types.set_school_calendar,
        description="设定校历：省设学期、放假和调课日，县设本地放假日 / keep a year's school calendar: a province its "
        "terms, days off and make-up days, a county its local days off (CALENDAR:WRITE).",
    )
    open_ledger_entry: entry_mutations.LedgerEntryPayload = strawberry.mutation(
        resolver=entry_mutations.open_ledger_entry,
        description="纳入台账 / put a child found by a check or search on a ledger.",
    )
    set_ledger_category: entry_mutations.LedgerEntryPayload = strawberry.mutation(
        resolver=entry_mutations.set_ledger_category, description="确定辍学类别 / set the category A–T."
    )
    record_persuasion_visit: entry_mutations.RecordPersuasionVisitPayload = strawberry.mutation(
        resolver=entry_mutations.record_persuasion_visit, description="记录劝返 / record a persuasion attempt."
    )
    set_case_plan: entry_mutations.SetCasePlanPayload = strawberry.mutation(
        resolver=entry_mutations.set_case_plan, description="一人一案 / set the child's plan."
    )
    request_deferral: entry_mutations.DeferralPayload = strawberry.mutation(
        resolver=entry_mutations.request_deferral,
        description="县教育局提出延缓入学或休学（001 二2）/ the county bureau proposes deferral or suspension.",
    )
    decide_deferral: entry_mutations.DeferralPayload = strawberry.mutation(
        resolver=entry_mutations.decide_deferral,
        description="县领导小组（县政府）审批延缓入学 / the county government approves or rejects a deferral.",
    )
    mark_returned: entry_mutations.LedgerEntryPayload = strawberry.mutation(
        resolver=entry_mutations.mark_returned, description="标记返校 / the child is back at school."
    )
    record_placement: entry_mutations.LedgerEntryPayload = strawberry.mutation(
        resolver=entry_mutations.record_placement, description="分类安置 / place a returned child."
    )
    close_out_ledger_entry: entry_mutations.LedgerEntryPayload = strawberry.mutation(
        resolver=entry_mutations.close_out_ledger_entry, description="销号 / close an entry out with its reason."
    )
    hand_over_ledger_entry: entry_mutations.HandoverPayload = strawberry.mutation(
        resolver=entry_mutations.hand_over_ledger_entry, description="书面移交 / hand a case to another region."
    )
    acknowledge_handover: entry_mutations.HandoverPayload = strawberry.mutation(
        resolver=entry_mutations.acknowledge_handover, description="接收移交 / acknowledge a handover."
    )
