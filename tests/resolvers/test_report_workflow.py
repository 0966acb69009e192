"""The school report's draft, submission and re-check at the resolver level (resolvers/reports/), for
demo principals. The same chain through HTTP is tests/test_reports_chain.py and tests/test_reports_refusals.py.
"""

from __future__ import annotations

from datetime import date

import pytest

from authz.errors import Forbidden
from models.report import ReportStatus, ReviewDecision, Verdict
from resolvers.errors import BadInput
from resolvers.reports import drafting, reading, workflow
from tests.factories import make_entry
from tests.ledger_support import WUDING_PRIMARY
from tests.report_support import CITY_EDU, COUNTY_EDU, NEIGHBOUR_EDU, PRINCIPAL, STAFF
from tests.resolvers.conftest import refusal


async def draft_march(ctx, **overrides):
    return await drafting.draft_school_report(ctx, **({"school_code": WUDING_PRIMARY, "period": "2026-03"} | overrides))


async def submitted_march(context_for):
    draft = await draft_march(await context_for(STAFF), version=None)
    return await workflow.submit_report(await context_for(PRINCIPAL), report_id=str(draft.id), version=draft.version)


async def review(ctx, report, decision, *, reasons=None, verdicts=()):
    return await workflow.review_report(
        ctx,
        report_id=str(report.id),
        verdicts=list(verdicts),
        findings=[],
        decision=decision,
        reasons=reasons,
        version=report.version,
    )


async def test_the_school_staff_draft_and_the_principal_submits_the_monthly_report(context_for):
    draft = await draft_march(await context_for(STAFF), version=None)
    assert (draft.status, draft.unit_code, draft.created_by) == (ReportStatus.DRAFT, WUDING_PRIMARY, STAFF)
    submitted = await workflow.submit_report(
        await context_for(PRINCIPAL), report_id=str(draft.id), version=draft.version
    )
    assert submitted.status is ReportStatus.SUBMITTED
    with pytest.raises(BadInput) as refused:
        await draft_march(await context_for(STAFF), version=submitted.version)
    assert refusal(refused) == ("reportId", "LOCKED")


async def test_a_period_not_shaped_like_a_month_is_refused(context_for):
    with pytest.raises(BadInput) as refused:
        await draft_march(await context_for(STAFF), period="2026-Q1", version=None)
    assert refusal(refused) == ("period", "BAD_PERIOD")


async def test_the_county_reads_its_schools_reports_but_does_not_draft_them(context_for):
    with pytest.raises(Forbidden):
        await draft_march(await context_for(COUNTY_EDU), version=None)


async def test_the_county_returns_a_report_only_with_reasons(context_for):
    report = await submitted_march(context_for)
    county = await context_for(COUNTY_EDU)
    with pytest.raises(BadInput) as refused:
        await review(county, report, ReviewDecision.RETURN, reasons="  ")
    assert refusal(refused) == ("reasons", "REASONS_REQUIRED")
    returned = await review(county, report, ReviewDecision.RETURN, reasons="名单有误")
    assert returned.status is ReportStatus.RETURNED


async def test_the_county_approves_a_school_report_only_with_a_verdict_on_every_listed_child(session, context_for):
    entry = await make_entry(session, opened_on=date(2026, 3, 9))  # a pupil of the school on the suspected list
    report = await submitted_march(context_for)
    county = await context_for(COUNTY_EDU)
    with pytest.raises(BadInput) as refused:
        await review(county, report, ReviewDecision.APPROVE)
    assert refusal(refused) == ("verdicts", "VERDICTS_MISSING")
    verdict = workflow.VerdictInput(student_id=str(entry.child_id), verdict=Verdict.CONFIRMED, comment=None)
    approved = await review(county, report, ReviewDecision.APPROVE, verdicts=[verdict])
    assert approved.status is ReportStatus.APPROVED


async def test_the_school_does_not_approve_its_own_report(context_for):
    report = await submitted_march(context_for)
    for own in (PRINCIPAL, STAFF):
        with pytest.raises(Forbidden):
            await review(await context_for(own), report, ReviewDecision.APPROVE)


async def test_the_city_reads_the_school_report_but_is_not_its_reviewer(context_for):
    report = await submitted_march(context_for)
    city = await context_for(CITY_EDU)
    assert list(await reading.get_reports(city, [str(report.id)])) == [str(report.id)]
    with pytest.raises(BadInput) as refused:
        await review(city, report, ReviewDecision.APPROVE)
    assert refusal(refused) == ("reportId", "NOT_REVIEWER")


async def test_the_neighbouring_county_neither_sees_drafts_nor_reviews_the_report(context_for):
    report = await submitted_march(context_for)
    neighbour = await context_for(NEIGHBOUR_EDU)
    assert await reading.get_reports(neighbour, [str(report.id)]) == {}
    with pytest.raises(BadInput) as refused:
        await review(neighbour, report, ReviewDecision.APPROVE)
    assert refusal(refused) == ("reportId", "NOT_FOUND")
    with pytest.raises(BadInput) as refused:
        await draft_march(neighbour, version=None)
    assert refusal(refused) == ("schoolCode", "NOT_FOUND")
