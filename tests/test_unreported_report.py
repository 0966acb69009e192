"""The school's written report of its unreported list (POLICY 002 一(三): 学校要及时书面报告县级教育主管部门和
乡镇政府), in the reporting chain as a school report of cadence TERM_START: drafted by the school, submitted by
the principal once every listed pupil has a verified reason, re-checked by the county bureau as a school's
report is (a verdict on every listed pupil, authz/recheck.py), seen by the township on its pupils."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import codes, gql, payload, token_for
from tests.ledger_support import COUNTY_EDU, NEIGHBOUR_EDU, STAFF, WUDING_PRIMARY
from tests.report_support import CITY_EDU, PRINCIPAL, review, submit
from tests.term_start_support import TERM, TOWNSHIP, absent_in_window, enrolled_pupil, explain, unreported

REPORT = """id level cadence period periodStart periodEnd dueOn unitCode status version
  unreported { seq studentId name grade daysAbsent reason receivingSchoolCode note visits } dropouts { name }"""
DRAFT = f"""mutation($input: DraftTermStartReportInput!) {{ draftTermStartReport(input: $input) {{
  report {{ {REPORT} }} errors {{ field code message }} }} }}"""
READ = f"""query($id: ID!) {{ report(id: $id) {{ {REPORT} }} }}"""


async def draft(client: httpx.AsyncClient, token: str, version: int | None = None, term: str = TERM) -> Any:
    variables = {"input": {"schoolCode": WUDING_PRIMARY, "term": term, "version": version}}
    return payload(await gql(client, DRAFT, variables, token), "draftTermStartReport")


def with_verdicts(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"studentId": r["studentId"], "verdict": "CONFIRMED"} for r in report["unreported"]]


async def test_the_report_goes_up_only_when_every_listed_pupil_is_explained(client):
    staff = await token_for(client, STAFF)
    principal = await token_for(client, PRINCIPAL)
    county = await token_for(client, COUNTY_EDU)
    pupils = [await enrolled_pupil(client, staff) for _ in range(2)]
    for p in pupils:
        await absent_in_window(client, staff, p["id"])

    first = await draft(client, staff)
    assert first["errors"] == []
    report = first["report"]
    assert (report["cadence"], report["period"], report["level"]) == ("TERM_START", TERM, "SCHOOL")
    assert (report["periodStart"], report["periodEnd"], report["dueOn"]) == ("2026-09-01", "2026-09-15", "2026-09-20")
    mine = [r for r in report["unreported"] if r["studentId"] in {p["id"] for p in pupils}]
    assert [r["reason"] for r in mine] == [None, None]
    assert report["dropouts"] == []

    assert codes(await submit(client, principal, report)) == ["UNEXPLAINED"]
    listed = [r["studentId"] for r in report["unreported"]]
    for n, student in enumerate(listed):
        answer = await explain(client, staff, student, "UNREACHABLE", note=f"电话停机 {n}")
        assert answer["errors"] == [], answer
    assert codes(await submit(client, principal, report)) == ["UNEXPLAINED"]  # the draft froze no reasons
    again = (await draft(client, staff, version=report["version"]))["report"]
    assert all(r["reason"] == "UNREACHABLE" for r in again["unreported"])
    late = await enrolled_pupil(client, staff)
    await absent_in_window(client, staff, late["id"])  # the list changed after the draft
    await explain(client, staff, late["id"], "ILL", note="发烧住院")
    assert codes(await submit(client, principal, again)) == ["LIST_CHANGED"]
    again = (await draft(client, staff, version=again["version"]))["report"]

    assert (await submit(client, staff, again))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    sent = await submit(client, principal, again)
    assert sent["errors"] == []
    report = sent["report"]
    assert report["status"] == "SUBMITTED"

    assert codes(await review(client, county, report, "APPROVE", verdicts=[])) == ["VERDICTS_MISSING"]
    city = await review(client, await token_for(client, CITY_EDU), report, "APPROVE", verdicts=with_verdicts(again))
    assert codes(city) == ["NOT_REVIEWER"]
    neighbour = await review(client, await token_for(client, NEIGHBOUR_EDU), report, "APPROVE", verdicts=[])
    assert codes(neighbour) == ["NOT_FOUND"]
    approved = await review(client, county, report, "APPROVE", verdicts=with_verdicts(again))
    assert approved["errors"] == []
    assert approved["report"]["status"] == "APPROVED"

    township = await token_for(client, TOWNSHIP)
    seen = await unreported(client, township)
    rows = {e["node"]["student"]["id"]: e["node"] for e in seen["data"]["unreportedPupils"]["edges"]}
    assert rows[pupils[0]["id"]]["report"]["status"] == "APPROVED"
    assert rows[pupils[0]["id"]]["report"]["reasonReported"] == "UNREACHABLE"
    assert rows[late["id"]]["report"]["reasonReported"] == "ILL"
    assert (await gql(client, READ, {"id": report["id"]}, township))["data"]["report"] is None


async def test_the_township_does_not_see_a_draft_and_the_list_waits_for_the_window(client):
    staff = await token_for(client, STAFF)
    pupil = await enrolled_pupil(client, staff)
    await absent_in_window(client, staff, pupil["id"])
    assert (await draft(client, staff))["errors"] == []
    seen = await unreported(client, await token_for(client, TOWNSHIP))
    row = next(
        e["node"] for e in seen["data"]["unreportedPupils"]["edges"] if e["node"]["student"]["id"] == pupil["id"]
    )
    assert row["report"] is None  # a draft stays with the school
    assert codes(await draft(client, staff, term="2027-SPRING")) == ["PERIOD_NOT_OVER"]
    assert codes(await draft(client, staff, term="2026-13")) == ["BAD_PERIOD"]
    county = await draft(client, await token_for(client, COUNTY_EDU))
    assert county["errors"][0]["extensions"]["code"] == "FORBIDDEN"
