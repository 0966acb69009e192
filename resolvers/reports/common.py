"""What every report use case shares: finding a report the caller may act on, who may act, audit."""

from __future__ import annotations

from typing import Any

from authz.enforcer import GrantRef
from authz.errors import Forbidden
from authz.recheck import ReviewDecision, may_review
from models.report import Report, ReportRevision, ReportStatus
from models.reporting_calendar import PERIOD_FORMATS, Cadence, ReportingRules, rules_of
from models.repos import reports as report_repo
from models.repos import school_calendar as calendar_repo
from models.repos import settings as settings_repo

from ..audit import record_change
from ..context import Context
from ..errors import BadInput
from ..paging import parse_id
from ..versioning import check_version

REPORT = "REPORT"


def not_found() -> BadInput:
    return BadInput("reportId", "NOT_FOUND", "没有这份报告", "no such report")


def locked(report: Report) -> BadInput:
    return BadInput(
        "reportId",
        "LOCKED",
        f"报告已{'审核通过' if report.status is ReportStatus.APPROVED else '报送'}，不能再修改（004 §4–§5）",
        f"the report is {report.status.value.lower()} and can no longer change (POLICY 004 §4–§5)",
    )


def bad_period(cadence: Cadence) -> BadInput:
    return BadInput(
        "period",
        "BAD_PERIOD",
        f"报告期格式应为 {PERIOD_FORMATS[cadence]}",
        f"the period must look like {PERIOD_FORMATS[cadence]}",
    )


def clean_text(field: str, value: str | None, limit: int) -> str | None:
    """Free text as stored: stripped, empty as None, refused (TOO_LONG) past its column's length."""
    text = (value or "").strip() or None
    if text is not None and len(text) > limit:
        raise BadInput(field, "TOO_LONG", f"不超过 {limit} 字", f"at most {limit} characters")
    return text


def lists_visible_at(ctx: Context, unit_path: str) -> bool:
    """Rows naming children in a unit's report (the lists, verdicts, findings) need the ledgers' read
    right over the unit: the ministry and other readers of figures see Table 1 only."""
    return ctx.access().allows("LEDGER", "READ", {"EDU": [unit_path], "GOV": [unit_path]}) is not None


def reasons_required(field: str) -> BadInput:
    return BadInput(field, "REASONS_REQUIRED", "退回须写明理由", "a return needs its reasons")


# Who works on a unit's drafts: its own staff and head, and the county government that countersigns.
DRAFT_ACTS = ("DRAFT", "SUBMIT", "COSIGN")


def may_read(ctx: Context, report: Report) -> bool:
    """REPORT:READ over the unit, and a draft only for those who work on it: the levels above (the
    ministry too) see a report once it has been submitted (POLICY 004 §4–§7: each level reports upward)."""
    if ctx.access().allows(REPORT, "READ", report_repo.report_scope_paths(report)) is None:
        return False
    return report.first_submitted_at is not None or report.unit_path in own_unit_paths(ctx)


def own_unit_paths(ctx: Context) -> set[str]:
    """The units whose drafts the caller works on: where it holds a drafting, submitting or
    countersigning grant."""
    access = ctx.access()
    return {path for act in DRAFT_ACTS for path in access.exact_granted_paths(REPORT, act)}


async def visible_report(ctx: Context, report_id: str, *, lock: bool = True) -> Report:
    """The report if the caller may read it, NOT_FOUND otherwise (like a missing one); locked for the
    transaction (after the check: a refused caller locks nothing) unless only read."""
    number = parse_id(report_id)
    found = (await report_repo.get_reports(ctx.session, [number])).get(number) if number is not None else None
    if found is None or number is None or not may_read(ctx, found):
        raise not_found()
    if not lock:
        return found
    report = await report_repo.lock_report(ctx.session, number)
    assert report is not None, "reports are never deleted"
    return report


def unit_grant(ctx: Context, path: str, *acts: str) -> GrantRef | None:
    """A grant for one of `acts` held at the unit itself: its own staff, not a bureau above it."""
    access = ctx.access()
    for act in acts:
        grant = access.allows(REPORT, act, {"EDU": [path]})
        if grant is not None and grant.scope_path == path:
            return grant
    return None


async def report_for_unit(ctx: Context, report_id: str, *acts: str, version: int | None) -> Report:
    """A report of the caller's own unit: NOT_FOUND outside its view, FORBIDDEN without one of `acts`
    held at the unit itself (a county bureau does not submit a school's report), CONFLICT when stale."""
    report = await visible_report(ctx, report_id)
    if unit_grant(ctx, report.unit_path, *acts) is None:
        raise Forbidden()
    check_version(report, version)
    return report


async def report_for_reviewer(ctx: Context, report_id: str, *, version: int | None) -> tuple[Report, ReportRevision]:
    """A report the caller re-checks (复核) with its current version: NOT_FOUND outside its view,
    FORBIDDEN without a reviewing role over it, then the re-check primitive (authz/recheck.py): only
    one reporting level up and never one's own submission (NOT_REVIEWER, OWN_SUBMISSION)."""
    report = await visible_report(ctx, report_id)
    access = ctx.access()
    if access.allows(REPORT, "REVIEW", report_repo.report_scope_paths(report)) is None:
        raise Forbidden()
    revision = await report_repo.revision_of(ctx.session, report)
    decision = may_review(access, submission_path=report.unit_path, submitted_by=revision.submitted_by or "")
    if decision.allowed and revision.generated_by == access.username:  # drafted it: as good as one's own
        decision = ReviewDecision(False, "OWN_SUBMISSION")
    if not decision.allowed:
        if decision.reason == "OWN_SUBMISSION":
            raise BadInput(
                "reportId", "OWN_SUBMISSION", "不能复核自己报送的报告", "nobody re-checks their own submission"
            )
        raise BadInput(
            "reportId",
            "NOT_REVIEWER",
            "只能由上一级（辖区内）复核：县复核学校，市调研县，省评估市（004 §5–§7）",
            "only the level directly above, inside its jurisdiction, re-checks a report (POLICY 004 §5–§7)",
        )
    check_version(report, version)
    return report, revision


async def rules_for(ctx: Context, province_code: str) -> ReportingRules:
    """The province's deadlines and switches (defaults where it sets none), with its recorded terms."""
    setting = await report_repo.province_setting(ctx.session, province_code)
    return rules_of(setting, await calendar_repo.province_terms(ctx.session, province_code))


def city_of(path: str) -> str:
    """The city code of a region path below a province (`53/5323/532329` → `5323`)."""
    return path.split("/")[1]


async def term_survey_kept(ctx: Context, county_path: str) -> bool:
    """Does the county's city keep Guyuan's term survey (POLICY 003 §2(二); a city's choice)?"""
    city = city_of(county_path)
    return city in await settings_repo.term_survey_cities(ctx.session, [city])


async def save_report(ctx: Context, report: Report, action: str, **summary: Any) -> Report:
    """Write the report with its version bumped and the change audited in the same transaction."""
    report.version += 1
    ctx.session.add(report)
    await ctx.session.flush()
    await record_change(
        ctx,
        action=action,
        target_type="Report",
        target_id=str(report.id),
        scope_path=report.unit_path,
        summary={"period": report.period, "unit": report.unit_code, "revision": report.revision}
        | {k: str(v) if v is not None else None for k, v in summary.items()},
    )
    return report
