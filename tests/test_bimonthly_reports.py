"""The ministry's bimonthly dispatch (双月报, issue 16 §3; seed 004 §9: 教育部通过基础教育重点任务"双月报"加强对各地
控辍保学工作调度): periods `YYYY-B1` … `YYYY-B6`, due on a province-set day of the month after (default 10), each
province's report drafted from the month-end statistics, sent to the ministry and seen in its reportingStatus."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from models.reporting_calendar import Cadence, ReportingRules, parse_period, period_containing, periods_within
from tests.conftest import codes, error_codes, gql, payload, token_for
from tests.report_support import ERRORS, MINISTRY, PROVINCE_EDU, REPORT, review, submit
from tests.test_reporting_status import tree
from tests.test_settings import UPDATE_PROVINCE

DRAFT = f"""mutation($input: DraftBimonthlyReportInput!) {{ draftBimonthlyReport(input: $input) {{
  report {{ {REPORT} }} {ERRORS} }} }}"""
STATS = """query($p: [String!]) { ledgerStatistics(regionCode: "53", by: PROVINCE, periods: $p) {
  rows { regionCode period suspected dropouts population } } }"""


@pytest.mark.parametrize(
    ("code", "start", "end", "due"),
    [
        ("2026-B1", date(2026, 1, 1), date(2026, 2, 28), date(2026, 3, 10)),
        ("2028-B1", date(2028, 1, 1), date(2028, 2, 29), date(2028, 3, 10)),
        ("2026-B3", date(2026, 5, 1), date(2026, 6, 30), date(2026, 7, 10)),
        ("2026-B6", date(2026, 11, 1), date(2026, 12, 31), date(2027, 1, 10)),
    ],
)
def test_bimonthly_periods_and_their_default_due_day(code: str, start: date, end: date, due: date):
    span = parse_period(Cadence.BIMONTH, code)
    assert span is not None
    assert (span.start, span.end, span.due) == (start, end, due)
    assert period_containing(Cadence.BIMONTH, start) == span
    assert period_containing(Cadence.BIMONTH, end) == span


@pytest.mark.parametrize("code", ["2026-B0", "2026-B7", "2026-b1", "2026-B12", "1999-B1", "2026-03", "2026-Q1"])
def test_not_a_bimonthly_period(code: str):
    assert parse_period(Cadence.BIMONTH, code) is None


def test_a_province_sets_its_own_due_day_and_a_year_has_six_periods():
    span = parse_period(Cadence.BIMONTH, "2026-B1", ReportingRules(bimonth_due_day=20))
    assert span is not None
    assert span.due == date(2026, 3, 20)
    year = parse_period(Cadence.SCHOOL_YEAR, "2025-2026")
    assert year is not None
    assert [p.code for p in periods_within(Cadence.BIMONTH, year)] == [
        "2025-B5",
        "2025-B6",
        "2026-B1",
        "2026-B2",
        "2026-B3",
        "2026-B4",
    ]


def _provinces(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {u["code"]: u for u in status["root"]["units"]}


async def _draft(client: httpx.AsyncClient, token: str, province: str, period: str, version: int | None = None) -> Any:
    variables = {"input": {"regionCode": province, "period": period, "version": version}}
    return payload(await gql(client, DRAFT, variables, token), "draftBimonthlyReport")


async def test_the_ministry_sees_each_provinces_bimonthly_report(client: httpx.AsyncClient):
    ministry, province = await token_for(client, MINISTRY), await token_for(client, PROVINCE_EDU)
    before = await tree(client, ministry, "CN", "2026-B5")
    assert (before["cadence"], before["unitLevel"]) == ("BIMONTH", "PROVINCE")
    units = _provinces(before)
    assert set(units) == {"22", "53", "64"}
    assert {u["status"] for u in units.values()} == {"NOT_STARTED"}
    assert {u["dueOn"] for u in units.values()} == {"2026-11-10"}

    drafted = await _draft(client, province, "53", "2026-B5")
    assert drafted["errors"] == []
    report = drafted["report"]
    assert (report["level"], report["cadence"], report["period"], report["dueOn"]) == (
        "PROVINCE",
        "BIMONTH",
        "2026-B5",
        "2026-11-10",
    )
    # Table 1 is the month-end statistics of October, the period's second month, for the whole province.
    stats = (await gql(client, STATS, {"p": ["2026-10"]}, province))["data"]["ledgerStatistics"]["rows"]
    (october,) = stats
    table = {row["stage"]: row for row in report["table1"]}
    total = table.get("TOTAL") or {
        key: sum(row[key] for row in report["table1"] if row["stage"] != "TOTAL")
        for key in ("shouldAttend", "suspected", "dropouts")
    }
    assert (total["shouldAttend"], total["suspected"], total["dropouts"]) == (
        october["population"],
        october["suspected"],
        october["dropouts"],
    )
    assert october["suspected"] + october["dropouts"] > 0
    assert report["assessments"] == []
    assert _provinces(await tree(client, ministry, "CN", "2026-B5"))["53"]["status"] == "NOT_STARTED"  # a draft

    sent = await submit(client, province, report)
    assert sent["errors"] == []
    assert sent["report"]["status"] == "SUBMITTED"
    seen = _provinces(await tree(client, ministry, "CN", "2026-B5"))
    assert seen["53"]["status"] == "SUBMITTED"
    assert seen["22"]["status"] == "NOT_STARTED"

    # The ministry's file of it: Table 1 only (no children are listed in a bimonthly report).
    file = await client.get(
        f"/reports/{sent['report']['id']}/download?format=csv", headers={"Authorization": f"Bearer {ministry}"}
    )
    assert file.status_code == 200
    assert "2026-B5" in file.content.decode("utf-8-sig")

    approved = await review(client, ministry, sent["report"], "APPROVE", verdicts=[])
    assert approved["errors"] == []
    assert approved["report"]["status"] == "APPROVED"
    assert _provinces(await tree(client, ministry, "CN", "2026-B5"))["53"]["status"] == "APPROVED"


async def test_the_due_day_is_the_provinces_setting(client: httpx.AsyncClient):
    province, ministry = await token_for(client, PROVINCE_EDU), await token_for(client, MINISTRY)
    changed = payload(
        await gql(
            client,
            UPDATE_PROVINCE,
            {"input": {"provinceCode": "53", "version": 0, "bimonthReportDueDay": 20}},
            province,
        ),
        "updateProvinceSettings",
    )
    assert changed["errors"] == []
    units = _provinces(await tree(client, ministry, "CN", "2026-B5"))
    assert (units["53"]["dueOn"], units["22"]["dueOn"]) == ("2026-11-20", "2026-11-10")
    out_of_range = await gql(
        client, UPDATE_PROVINCE, {"input": {"provinceCode": "53", "version": 1, "bimonthReportDueDay": 29}}, province
    )
    assert error_codes(out_of_range) == ["BAD_USER_INPUT"]


async def test_only_the_province_itself_drafts_and_only_over_periods_past(client: httpx.AsyncClient):
    province = await token_for(client, PROVINCE_EDU)
    assert codes(await _draft(client, province, "53", "2026-B7")) == ["BAD_PERIOD"]
    assert codes(await _draft(client, province, "53", "2027-B1")) == ["PERIOD_NOT_OVER"]
    assert codes(await _draft(client, province, "5323", "2026-B5")) == ["NOT_A_PROVINCE"]
    assert codes(await _draft(client, province, "22", "2026-B5")) == ["NOT_FOUND"]  # another province's
    for account in ("edu-city-5323", MINISTRY, "edu-province-22"):
        refused = await _draft(client, await token_for(client, account), "53", "2026-B5")
        assert error_codes(refused) == ["FORBIDDEN"] or codes(refused) == ["NOT_FOUND"], account
    county = await token_for(client, "edu-county-532329")
    result = await gql(client, 'query { reportingStatus(regionCode: "CN", period: "2026-B5") { period } }', {}, county)
    assert result["data"] is None or result["data"]["reportingStatus"] is None
    assert error_codes(result)  # refused: a county does not read the nation


async def test_a_month_not_taken_is_refused(client: httpx.AsyncClient):
    """The figures come from the month-end statistics: a period whose second month was never taken is not drafted
    from anything else."""
    province = await token_for(client, PROVINCE_EDU)
    assert codes(await _draft(client, province, "53", "2020-B1")) == ["STATISTICS_MISSING"]
