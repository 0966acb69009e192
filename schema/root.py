"""The root schema and its production/development settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import ExecutionContext

from . import (
    admin,
    aggregates,
    geography,
    ledger_mutations,
    ledgers,
    report_mutations,
    report_queries,
    school_age,
    student_mutations,
    term_visits,
)
from . import nodes as node_fields
from . import reporting_status as status_types
from . import reports as report_types
from . import students as student_types
from . import viewer as viewer_types
from .extensions import ErrorPolicy, MaskingErrorPolicy, UnitOfWork, is_expected
from .limits import cost_limit


@strawberry.type(description="查询入口 / the root of all reads.")
class Query:
    node: relay.Node | None = strawberry.field(
        resolver=node_fields.node, description="按全局 ID 取对象 / fetch any object by its global ID (null if none)."
    )
    nodes: list[relay.Node | None] = strawberry.field(
        resolver=node_fields.nodes, description="按全局 ID 批量取对象 / fetch up to 100 objects by global IDs."
    )
    viewer: viewer_types.Viewer = strawberry.field(
        resolver=viewer_types.viewer,
        description="当前登录账号 / the signed-in account (UNAUTHENTICATED without a token).",
    )
    regions: geography.RegionConnection = strawberry.field(
        resolver=geography.regions, description="行政区划 / regions, ordered by code; `first` at most 100."
    )
    schools: geography.SchoolConnection = strawberry.field(
        resolver=geography.schools, description="学校 / schools, ordered by code; `first` at most 100."
    )
    students: student_types.StudentConnection = strawberry.field(
        resolver=student_types.students,
        description="学生（含未在校的适龄儿童）/ every child in my scope, enrolled or not: the education line by "
        "school, the government line by household or residence.",
    )
    ledger_entries: ledgers.LedgerEntryConnection = strawberry.field(
        resolver=ledgers.ledger_entries,
        description="疑似辍学与辍学台账 / entries of the suspected-dropout and dropout ledgers in my scope.",
    )
    school_age_children: school_age.SchoolAgeChildConnection = strawberry.field(
        resolver=school_age.school_age_children,
        description="适龄儿童台账（6–15 周岁，含随迁子女）/ every school-age child in my scope, migrants included.",
    )
    ledger_counts: list[aggregates.LedgerCountRow] = strawberry.field(
        resolver=aggregates.ledger_counts,
        description="台账汇总（无个人信息）/ open suspected and dropout cases counted by region, ledger, status, "
        "stage and category, inside my aggregate scope; no personal data.",
    )
    ledger_statistics: aggregates.LedgerStatistics = strawberry.field(
        resolver=aggregates.ledger_statistics,
        description="月末统计与比率（无个人信息）/ month-end counts and rates by region, month, stage, category and "
        "special group, inside my aggregate scope; no personal data.",
    )
    reports: report_queries.ReportConnection = strawberry.field(
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
    term_visit_coverage: term_visits.TermVisitCoverage = strawberry.field(
        resolver=term_visits.term_visit_coverage,
        description="开学时节进校入户调研覆盖（004 §5）/ term-start visit coverage of a county, or per county of a "
        "city or province (REPORT:READ over the region).",
    )
    accounts: admin.AccountConnection = strawberry.field(
        resolver=admin.accounts, description="账号 / accounts in my jurisdiction (permission admins, supervisors)."
    )
    grants: admin.GrantConnection = strawberry.field(
        resolver=admin.grants, description="授权 / grants in my jurisdiction (permission admins, supervisors)."
    )
    audit_log: admin.AuditConnection = strawberry.field(
        resolver=admin.audit_log, description="审计日志 / audit log of my jurisdiction (supervisors, admins)."
    )
    explain_access: admin.AccessExplanation = strawberry.field(
        resolver=admin.explain_access,
        description="访问判定说明 / may USERNAME do ACTION (e.g. CHILD:READ) on the object, and why.",
    )


@strawberry.type(description="变更入口 / the root of all changes.")
class Mutation:
    create_account: admin.CreateAccountPayload = strawberry.mutation(
        resolver=admin.create_account, description="新建账号 / create an account in my jurisdiction."
    )
    disable_account: admin.DisableAccountPayload = strawberry.mutation(
        resolver=admin.disable_account, description="停用账号 / disable an account (kept, never deleted)."
    )
    grant_role: admin.GrantRolePayload = strawberry.mutation(
        resolver=admin.grant_role, description="授予角色 / grant a role within my jurisdiction."
    )
    reveal_national_id: student_types.RevealNationalIdPayload = strawberry.mutation(
        resolver=student_types.reveal_national_id,
        description="查看完整身份证号（记入审计）/ a student's full national ID, with the reason audited.",
    )
    create_student: student_mutations.StudentPayload = strawberry.mutation(
        resolver=student_mutations.create_student, description="登记学生 / register a child, enrolled or out of school."
    )
    update_student: student_mutations.StudentPayload = strawberry.mutation(
        resolver=student_mutations.update_student, description="更正学生信息 / correct a child's record (versioned)."
    )
    record_enrolment_change: student_mutations.StudentPayload = strawberry.mutation(
        resolver=student_mutations.record_enrolment_change, description="学籍变动 / enrol, transfer, graduate, leave."
    )
    record_attendance: ledger_mutations.LedgerRulesPayload = strawberry.mutation(
        resolver=ledger_mutations.record_attendance,
        description="登记考勤并执行台账规则 / record absences, then run the ledger rules.",
    )
    run_ledger_rules: ledger_mutations.LedgerRulesPayload = strawberry.mutation(
        resolver=ledger_mutations.run_ledger_rules,
        description="执行台账规则（县级）/ run the ledger rules as of a date (county roles).",
    )
    open_ledger_entry: ledger_mutations.LedgerEntryPayload = strawberry.mutation(
        resolver=ledger_mutations.open_ledger_entry,
        description="纳入台账 / put a child found by a check or search on a ledger.",
    )
    set_ledger_category: ledger_mutations.LedgerEntryPayload = strawberry.mutation(
        resolver=ledger_mutations.set_ledger_category, description="确定辍学类别 / set the category A–T."
    )
    record_persuasion_visit: ledger_mutations.RecordPersuasionVisitPayload = strawberry.mutation(
        resolver=ledger_mutations.record_persuasion_visit, description="记录劝返 / record a persuasion attempt."
    )
    set_case_plan: ledger_mutations.SetCasePlanPayload = strawberry.mutation(
        resolver=ledger_mutations.set_case_plan, description="一人一案 / set the child's plan."
    )
    request_deferral: ledger_mutations.DeferralPayload = strawberry.mutation(
        resolver=ledger_mutations.request_deferral, description="申请延缓入学 / request deferral or suspension."
    )
    decide_deferral: ledger_mutations.DeferralPayload = strawberry.mutation(
        resolver=ledger_mutations.decide_deferral, description="审批延缓入学（县级）/ approve or reject a deferral."
    )
    mark_returned: ledger_mutations.LedgerEntryPayload = strawberry.mutation(
        resolver=ledger_mutations.mark_returned, description="标记返校 / the child is back at school."
    )
    record_placement: ledger_mutations.LedgerEntryPayload = strawberry.mutation(
        resolver=ledger_mutations.record_placement, description="分类安置 / place a returned child."
    )
    close_out_ledger_entry: ledger_mutations.LedgerEntryPayload = strawberry.mutation(
        resolver=ledger_mutations.close_out_ledger_entry, description="销号 / close an entry out with its reason."
    )
    hand_over_ledger_entry: ledger_mutations.HandoverPayload = strawberry.mutation(
        resolver=ledger_mutations.hand_over_ledger_entry, description="书面移交 / hand a case to another region."
    )
    acknowledge_handover: ledger_mutations.HandoverPayload = strawberry.mutation(
        resolver=ledger_mutations.acknowledge_handover, description="接收移交 / acknowledge a handover."
    )
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
    record_term_visit: term_visits.RecordTermVisitPayload = strawberry.mutation(
        resolver=term_visits.record_term_visit,
        description="登记开学时节进校入户调研（004 §5，县教育局）/ record or correct a school's term-start visit "
        "(the school's county bureau).",
    )
    revoke_grant: admin.RevokeGrantPayload = strawberry.mutation(
        resolver=admin.revoke_grant, description="撤销授权 / revoke a grant I could have made."
    )


@dataclass(frozen=True)
class Limits:
    max_depth: int = 10
    max_tokens: int = 2000
    max_aliases: int = 15
    max_cost: int = 10000


class SerialRootExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Resolve a query's root fields one after another, as GraphQL does for mutations.

    All fields of one operation share one database session (one transaction), and an async
    SQLAlchemy session must not be used by two coroutines at once. Below the root, DataLoaders
    batch the database work, so list items still resolve together.
    """

    def execute_root_grouped_field_set(
        self, root_type: Any, root_value: Any, grouped_field_set: Any, serially: bool, position_context: Any
    ) -> Any:
        return super().execute_root_grouped_field_set(root_type, root_value, grouped_field_set, True, position_context)


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Refusals and bad input are normal answers: log only the unexpected (ErrorPolicy logs those)."""
        unexpected = [e for e in errors if not is_expected(e)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def build_schema(*, production: bool, limits: Limits | None = None, extra_extensions: Sequence[Any] = ()) -> Schema:
    """The schema with its limits and caches; production masks errors and refuses introspection."""
    limits = limits or Limits()
    # The limits' validation rules are built once: a rule class made per request would make every
    # request's rules differ, and the validation cache (keyed by schema, document and rules) would never
    # hit (8.4 ms of validation per page request: bench/RESULTS.md).
    rules: list[Any] = [
        *QueryDepthLimiter(max_depth=limits.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules,
        cost_limit(limits.max_cost),
    ]
    if production:
        from graphql.validation import NoSchemaIntrospectionCustomRule

        rules.append(NoSchemaIntrospectionCustomRule)
    extensions: list[Any] = [
        UnitOfWork,
        MaskingErrorPolicy if production else ErrorPolicy,
        partial(MaxTokensLimiter, max_token_count=limits.max_tokens),
        partial(AddValidationRules, rules),
        ParserCache,
        ValidationCache,
        *extra_extensions,
    ]
    return Schema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=production),
        execution_context_class=SerialRootExecutionContext,
    )


# The development schema, for exporting the SDL.
schema = build_schema(production=False)
