"""Shared steps for the reporting-chain tests: draft, submit, countersign, review and read reports
through the API, as the demo accounts of 武定县 (Wuding) and its neighbours."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import codes, gql, payload
from tests.ledger_support import COUNTY_EDU, NEIGHBOUR_EDU, STAFF, WUDING, WUDING_PRIMARY, YUANMOU

__all__ = ["COUNTY_EDU", "NEIGHBOUR_EDU", "STAFF", "codes", "payload"]  # the report tests' names, from one place

PRINCIPAL = f"edu-school-{WUDING_PRIMARY}"
COUNTY_GOV = f"gov-county-{WUDING}"
NEIGHBOUR_GOV = f"gov-county-{YUANMOU}"
CITY_EDU = "edu-city-5323"
CHUXIONG = "5323"  # 楚雄州, Wuding's city
PROVINCE_EDU = "edu-province-53"
OTHER_CITY_EDU = "edu-city-6404"  # 固原市, in another province
MINISTRY = "edu-nation-CN"

ERRORS = "errors { field code message }"
ROW = """seq ledger studentId name gender nationalId registryNumber homeAddress povertyRegistered reason
  schoolAfterReturn closedOut remarks note stage grade schoolCode openedOn"""
VERSION = """number status asOf submittedBy daysLate cosignedBy decision reviewReasons returnedBy returnReason
  unitsExpected sources { report { id unitCode period } versionNumber }"""
REPORT = f"""id level cadence period periodStart periodEnd dueOn unitCode unitName status version locked late daysLate
  submittedBy approvedBy approvedAt
  table1 {{ stage shouldAttend onLeave suspected dropouts byCategory {{ category count }} }}
  dropouts {{ {ROW} }} suspected {{ {ROW} }}
  verdicts {{ studentId verdict comment by }} findings {{ studentId note by }}
  assessments {{ subjectCode subjectName grade findings guidance by }}
  consolidation {{ cohort retained rate target meetsTarget }}
  current {{ {VERSION} }} versions {{ {VERSION} }}"""

DRAFT_SCHOOL = f"""mutation($input: DraftSchoolReportInput!) {{ draftSchoolReport(input: $input) {{
  report {{ {REPORT} }} {ERRORS} }} }}"""
DRAFT_COUNTY = f"""mutation($input: DraftCountyReportInput!) {{ draftCountyReport(input: $input) {{
  report {{ {REPORT} }} {ERRORS} }} }}"""
DRAFT_CITY = f"""mutation($input: DraftCityReportInput!) {{ draftCityReport(input: $input) {{
  report {{ {REPORT} }} {ERRORS} }} }}"""
DRAFT_PROVINCE = f"""mutation($input: DraftProvinceReportInput!) {{ draftProvinceReport(input: $input) {{
  report {{ {REPORT} }} {ERRORS} }} }}"""
DRAFT_SURVEY = f"""mutation($input: DraftTermSurveyInput!) {{ draftTermSurvey(input: $input) {{
  report {{ {REPORT} }} {ERRORS} }} }}"""
ASSESS = f"""mutation($input: AssessReportUnitsInput!) {{ assessReportUnits(input: $input) {{
  report {{ {REPORT} }} {ERRORS} }} }}"""
NOTE = (
    f"""mutation($input: SetReportNoteInput!) {{ setReportNote(input: $input) {{ report {{ {REPORT} }} {ERRORS} }} }}"""
)
SUBMIT = (
    f"""mutation($input: SubmitReportInput!) {{ submitReport(input: $input) {{ report {{ {REPORT} }} {ERRORS} }} }}"""
)
COSIGN = f"""mutation($input: CountersignReportInput!) {{ countersignReport(input: $input) {{
  report {{ {REPORT} }} {ERRORS} }} }}"""
REVIEW = (
    f"""mutation($input: ReviewReportInput!) {{ reviewReport(input: $input) {{ report {{ {REPORT} }} {ERRORS} }} }}"""
)
RETURN = (
    f"""mutation($input: ReturnReportInput!) {{ returnReport(input: $input) {{ report {{ {REPORT} }} {ERRORS} }} }}"""
)
READ = f"""query($id: ID!) {{ report(id: $id) {{ {REPORT} }} }}"""
NODE = f"""query($id: ID!) {{ node(id: $id) {{ ... on Report {{ {REPORT} }} }} }}"""
LIST = """query($f: ReportFilter) { reports(filter: $f, first: 100) { totalCount
  edges { node { id level period unitCode status } } } }"""


async def draft_school(
    client: httpx.AsyncClient,
    token: str,
    period: str = "2026-03",
    *,
    school: str = WUDING_PRIMARY,
    version: int | None = None,
) -> Any:
    variables = {"input": {"schoolCode": school, "period": period, "version": version}}
    return payload(await gql(client, DRAFT_SCHOOL, variables, token), "draftSchoolReport")


async def draft_county(
    client: httpx.AsyncClient, token: str, period: str = "2026-Q1", *, county: str = WUDING, version: int | None = None
) -> Any:
    variables = {"input": {"regionCode": county, "period": period, "version": version}}
    return payload(await gql(client, DRAFT_COUNTY, variables, token), "draftCountyReport")


async def draft_region(
    client: httpx.AsyncClient, token: str, level: str, region: str, period: str, *, version: int | None = None
) -> Any:
    """Draft a city's semester (level CITY), a province's school year (PROVINCE) or a term survey (SURVEY)."""
    query, name = {
        "CITY": (DRAFT_CITY, "draftCityReport"),
        "PROVINCE": (DRAFT_PROVINCE, "draftProvinceReport"),
        "SURVEY": (DRAFT_SURVEY, "draftTermSurvey"),
    }[level]
    variables = {"input": {"regionCode": region, "period": period, "version": version}}
    return payload(await gql(client, query, variables, token), name)


async def assess(client: httpx.AsyncClient, token: str, report: dict[str, Any], assessments: list[Any]) -> Any:
    variables = {"input": {"reportId": report["id"], "assessments": assessments, "version": report["version"]}}
    return payload(await gql(client, ASSESS, variables, token), "assessReportUnits")


async def submit(client: httpx.AsyncClient, token: str, report: dict[str, Any], version: int | None = None) -> Any:
    variables = {"input": {"reportId": report["id"], "version": report["version"] if version is None else version}}
    return payload(await gql(client, SUBMIT, variables, token), "submitReport")


async def countersign(client: httpx.AsyncClient, token: str, report: dict[str, Any], note: str = "同意") -> Any:
    variables = {"input": {"reportId": report["id"], "note": note, "version": report["version"]}}
    return payload(await gql(client, COSIGN, variables, token), "countersignReport")


def listed(report: dict[str, Any]) -> list[str]:
    """Every listed child's student id (Table 2 and the suspected list), once each."""
    return list(dict.fromkeys(r["studentId"] for r in [*report["dropouts"], *report["suspected"]]))


def confirm_all(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"studentId": s, "verdict": "CONFIRMED"} for s in listed(report)]


async def review(
    client: httpx.AsyncClient,
    token: str,
    report: dict[str, Any],
    decision: str,
    *,
    verdicts: list[dict[str, Any]] | None = None,
    findings: list[dict[str, Any]] | None = None,
    reasons: str | None = None,
    version: int | None = None,
) -> Any:
    variables = {
        "input": {
            "reportId": report["id"],
            "decision": decision,
            "verdicts": verdicts if verdicts is not None else confirm_all(report),
            "findings": findings or [],
            "reasons": reasons,
            "version": report["version"] if version is None else version,
        }
    }
    return payload(await gql(client, REVIEW, variables, token), "reviewReport")


async def return_report(client: httpx.AsyncClient, token: str, report: dict[str, Any], reason: str) -> Any:
    variables = {"input": {"reportId": report["id"], "reason": reason, "version": report["version"]}}
    return payload(await gql(client, RETURN, variables, token), "returnReport")


async def read(client: httpx.AsyncClient, token: str, report_id: str) -> Any:
    return (await gql(client, READ, {"id": report_id}, token))["data"]["report"]


async def submitted_march(
    client: httpx.AsyncClient, staff: str, principal: str, *, version: int | None = None
) -> dict[str, Any]:
    """The school's March report, drafted (again, with the version of the draft there is) by its staff and
    submitted by its principal."""
    drafted = await draft_school(client, staff, version=version)
    assert drafted["errors"] == [], drafted["errors"]
    submitted = await submit(client, principal, drafted["report"])
    assert submitted["errors"] == [], submitted["errors"]
    return submitted["report"]  # type: ignore[no-any-return]
