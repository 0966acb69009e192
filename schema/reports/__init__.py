"""The reporting chain (四个一): school months, county quarters, city semesters, province school years,
the term survey, term-start visits, and who still owes a report.

The domain's root fields: `schema/root.py` merges every domain's `Query` and `Mutation`."""

from __future__ import annotations

import strawberry

from ..connection import Connection
from . import mutations as report_mutations
from . import queries as report_queries
from . import status as status_types
from . import term_visits as term_visit_types
from . import types as report_types


@strawberry.type
class Query:
    reports: Connection[report_types.Report] = strawberry.field(
        resolver=report_queries.reports,
        description="报告（四个一）/ reports of the reporting chain whose unit lies in my REPORT:READ scope.",
    )
    report: report_types.Report | None = strawberry.field(
        resolver=report_queries.report, description="按 ID 取报告 / one report by global ID (null if none or not mine)."
    )
    reporting_status: status_types.ReportingStatus = strawberry.field(
        resolver=status_types.reporting_status,
        description="报送情况树（谁未报、逾期几天）/ who has not submitted for a period, at every level, and how many "
        "days late: the tree from a region down to the units of the period's cadence (REPORT:READ over it).",
    )
    term_visit_coverage: term_visit_types.TermVisitCoverage = strawberry.field(
        resolver=term_visit_types.term_visit_coverage,
        description="开学时节进校入户调研覆盖（004 §5）/ term-start visit coverage of a county, or per county of a "
        "city or province (REPORT:READ over the region).",
    )


@strawberry.type
class Mutation:
    draft_school_report: report_mutations.ReportPayload = strawberry.mutation(
        resolver=report_mutations.draft_school_report,
        description="生成学校月报（004 §4）/ generate a school's monthly report as of the month's end (school staff).",
    )
    draft_county_report: report_mutations.ReportPayload = strawberry.mutation(
        resolver=report_mutations.draft_county_report,
        description="生成县季度报告（004 §5）/ generate a county's quarter from its schools' approved months.",
    )
    draft_city_report: report_mutations.ReportPayload = strawberry.mutation(
        resolver=report_mutations.draft_city_report,
        description="生成地市学期调研报告（004 §6）/ generate a city's semester from its counties' approved quarters.",
    )
    draft_province_report: report_mutations.ReportPayload = strawberry.mutation(
        resolver=report_mutations.draft_province_report,
        description="生成省级学年评估（004 §7）/ generate a province's school year from its cities' approved "
        "semesters, with the consolidation rate.",
    )
    draft_bimonthly_report: report_mutations.ReportPayload = strawberry.mutation(
        resolver=report_mutations.draft_bimonthly_report,
        description="生成省级双月报（004 §9）/ generate a province's bimonthly report to the ministry from the "
        "month-end statistics of its two months (双月报); the ministry re-checks it like the school year.",
    )
    draft_term_survey: report_mutations.ReportPayload = strawberry.mutation(
        resolver=report_mutations.draft_term_survey,
        description="生成固原学期摸排报表（003 §2(二)）/ generate a county's term survey (Guyuan's calendar).",
    )
    assess_report_units: report_mutations.ReportPayload = strawberry.mutation(
        resolver=report_mutations.assess_report_units,
        description="调研、评估下级单位（004 §6–§7）/ the city's findings and guidance per county, the "
        "province's grade per city, on the draft.",
    )
    set_report_note: report_mutations.ReportPayload = strawberry.mutation(
        resolver=report_mutations.set_report_note, description="名单备注 / note on a listed child (drafts only)."
    )
    countersign_report: report_mutations.ReportPayload = strawberry.mutation(
        resolver=report_mutations.countersign_report,
        description="县级政府会签（报送前）/ the county government countersigns the county's draft, before submission.",
    )
    submit_report: report_mutations.ReportPayload = strawberry.mutation(
        resolver=report_mutations.submit_report,
        description="报送（学校由校长）/ submit: frozen from then on (a school's by its principal).",
    )
    review_report: report_mutations.ReportPayload = strawberry.mutation(
        resolver=report_mutations.review_report,
        description="复核（上一级）/ re-check one level down: verdicts, findings, approve or return.",
    )
    return_report: report_mutations.ReportPayload = strawberry.mutation(
        resolver=report_mutations.return_report,
        description="退回（可解除已通过的锁定）/ return a submitted or approved report with a reason.",
    )
    record_term_visit: term_visit_types.RecordTermVisitPayload = strawberry.mutation(
        resolver=term_visit_types.record_term_visit,
        description="登记开学时节进校入户调研（004 §5，县教育局）/ record or correct a school's term-start visit "
        "(the school's county bureau).",
    )
