"""The reporting chain through the API: a school's March, the county's re-check, return, resubmission as
version 2, approval, the county's first quarter summed from it, countersigned and submitted."""

from __future__ import annotations

from datetime import date

from models import ProvinceSetting
from models.base import today
from tests.conftest import gql, token_for
from tests.ledger_support import WUDING, WUDING_PRIMARY, make_student, open_entry, raw_id
from tests.report_support import (
    CITY_EDU,
    COUNTY_EDU,
    COUNTY_GOV,
    LIST,
    NODE,
    PRINCIPAL,
    STAFF,
    codes,
    confirm_all,
    countersign,
    draft_county,
    draft_school,
    read,
    return_report,
    review,
    submit,
    submitted_march,
)


async def test_school_month_to_county_quarter(client):
    """POLICY 004 §4 (school monthly report to the bureau), §5 (county quarterly re-check of every school's
    suspected and dropout data, with the other departments: the county government countersigns), POLICY 003
    annexes 1–2 (Table 1 and Table 2)."""
    staff, principal = await token_for(client, STAFF), await token_for(client, PRINCIPAL)
    county, gov = await token_for(client, COUNTY_EDU), await token_for(client, COUNTY_GOV)

    drafted = await draft_school(client, staff)
    assert drafted["errors"] == []
    draft = drafted["report"]
    assert (draft["level"], draft["cadence"], draft["period"], draft["status"], draft["locked"]) == (
        "SCHOOL",
        "MONTH",
        "2026-03",
        "DRAFT",
        False,
    )
    assert (draft["periodStart"], draft["periodEnd"], draft["dueOn"]) == ("2026-03-01", "2026-03-31", "2026-04-05")
    assert [r["stage"] for r in draft["table1"]] == ["PRIMARY", "JUNIOR", "TOTAL"]
    assert draft["current"]["number"] == 1
    assert draft["current"]["asOf"] == "2026-03-31"

    submitted = await submit(client, principal, draft)
    assert submitted["errors"] == []
    first = submitted["report"]
    assert (first["status"], first["locked"], first["submittedBy"]) == ("SUBMITTED", True, PRINCIPAL)
    # The deadline was 5 April: submitted now, it is flagged late, not refused (the default).
    assert first["late"] is True
    assert first["daysLate"] == (today() - date(2026, 4, 5)).days

    # The county finds a child working away whom the school did not report, and returns the report.
    missing = await make_student(client, county, enrolledOn="2025-09-01")
    returned = await review(
        client,
        county,
        first,
        "RETURN",
        verdicts=[],
        findings=[{"studentId": missing["id"], "note": "入户核实：在外务工，学校未上报"}],
        reasons="遗漏一名辍学学生，请核实后重新报送",
    )
    assert returned["errors"] == []
    first = returned["report"]
    assert (first["status"], first["locked"]) == ("RETURNED", False)
    assert first["current"]["decision"] == "RETURN"
    assert first["findings"] == [
        {"studentId": missing["id"], "note": "入户核实：在外务工，学校未上报", "by": COUNTY_EDU}
    ]

    # The school enters the child on the dropout ledger and corrects the report: version 2.
    entered = await open_entry(
        client, staff, missing["id"], ledger="DROPOUT", opened_on=date(2026, 3, 20), category="H"
    )
    assert entered["errors"] == []
    corrected = await draft_school(client, staff, version=first["version"])
    assert corrected["errors"] == []
    second = corrected["report"]
    assert (second["status"], second["current"]["number"]) == ("DRAFT", 2)
    assert missing["id"] in [r["studentId"] for r in second["dropouts"]]
    # Until it is submitted again, the county still sees the returned version as the current one.
    above = await read(client, county, second["id"])
    assert (above["status"], above["current"]["number"], len(above["versions"])) == ("DRAFT", 1, 1)
    assert missing["id"] not in [r["studentId"] for r in above["dropouts"]]
    resubmitted = await submit(client, principal, second)
    assert resubmitted["errors"] == []
    approved = await review(client, county, resubmitted["report"], "APPROVE")
    assert approved["errors"] == []
    school_report = approved["report"]
    assert (school_report["status"], school_report["locked"], school_report["approvedBy"]) == (
        "APPROVED",
        True,
        COUNTY_EDU,
    )
    assert [(v["number"], v["status"]) for v in school_report["versions"]] == [(1, "RETURNED"), (2, "APPROVED")]
    as_node = (await gql(client, NODE, {"id": school_report["id"]}, county))["data"]["node"]
    assert as_node == school_report
    assert school_report["versions"][0]["reviewReasons"] == "遗漏一名辍学学生，请核实后重新报送"
    assert {v["verdict"] for v in school_report["verdicts"]} == {"CONFIRMED"}

    # The county's first quarter sums its schools' approved months.
    quarter = await draft_county(client, county)
    assert quarter["errors"] == []
    county_report = quarter["report"]
    assert (county_report["level"], county_report["period"], county_report["dueOn"]) == (
        "COUNTY",
        "2026-Q1",
        "2026-04-15",
    )
    assert county_report["current"]["sources"] == [
        {"report": {"id": school_report["id"], "unitCode": WUDING_PRIMARY, "period": "2026-03"}, "versionNumber": 2}
    ]
    assert county_report["current"]["unitsExpected"] > 1  # the county's other schools have not reported
    assert county_report["table1"] == school_report["table1"]
    assert [r["studentId"] for r in county_report["dropouts"]] == [r["studentId"] for r in school_report["dropouts"]]

    # The province requires the county government's countersignature before submission (the default).
    assert codes(await submit(client, county, county_report)) == ["COSIGN_REQUIRED"]
    signed = await countersign(client, gov, county_report)
    assert signed["errors"] == []
    assert signed["report"]["current"]["cosignedBy"] == COUNTY_GOV
    sent = await submit(client, county, signed["report"])
    assert sent["errors"] == []
    assert (sent["report"]["status"], sent["report"]["submittedBy"], sent["report"]["late"]) == (
        "SUBMITTED",
        COUNTY_EDU,
        True,
    )

    # The city sees the county's quarter and the school's month in its jurisdiction.
    city = await token_for(client, CITY_EDU)
    listed = (await gql(client, LIST, {"f": {"regionCode": WUDING}}, city))["data"]["reports"]
    assert {(e["node"]["level"], e["node"]["period"]) for e in listed["edges"]} == {
        ("SCHOOL", "2026-03"),
        ("COUNTY", "2026-Q1"),
    }


async def test_countersignature_is_optional_where_the_province_says_so(client, session):
    """Issue 6 §3: the county government's countersignature is required or optional per province."""
    setting = await session.get(ProvinceSetting, "53") or ProvinceSetting(province_code="53")
    setting.cosign_required = False
    session.add(setting)
    await session.flush()
    county = await token_for(client, COUNTY_EDU)
    drafted = await draft_county(client, county)
    assert drafted["errors"] == []
    assert drafted["report"]["current"]["sources"] == []  # no school has an approved March yet
    sent = await submit(client, county, drafted["report"])
    assert sent["errors"] == []
    assert sent["report"]["current"]["cosignedBy"] is None


async def test_a_draft_is_generated_again_until_it_is_submitted(client):
    """Issue 6 §2: a draft may be regenerated, with the unit's notes kept; the version is checked."""
    staff, county = await token_for(client, STAFF), await token_for(client, COUNTY_EDU)
    child = await make_student(client, county, enrolledOn="2025-09-01")
    assert (await open_entry(client, staff, child["id"], opened_on=date(2026, 3, 9)))["errors"] == []
    draft = (await draft_school(client, staff))["report"]
    assert child["id"] in [r["studentId"] for r in draft["suspected"]]
    noted = await gql(
        client,
        """mutation($input: SetReportNoteInput!) { setReportNote(input: $input) {
          report { id version suspected { studentId note } } errors { field code message } } }""",
        {
            "input": {
                "reportId": draft["id"],
                "studentId": child["id"],
                "note": "家长已联系",
                "version": draft["version"],
            }
        },
        staff,
    )
    report = noted["data"]["setReportNote"]["report"]
    assert [r["note"] for r in report["suspected"] if r["studentId"] == child["id"]] == ["家长已联系"]
    again = await draft_school(client, staff, version=report["version"])
    assert again["errors"] == []
    assert again["report"]["current"]["number"] == 1  # the same draft, generated again
    assert [r["note"] for r in again["report"]["suspected"] if r["studentId"] == child["id"]] == ["家长已联系"]
    stale = await draft_school(client, staff, version=report["version"])
    assert codes(stale) == ["CONFLICT"]
    assert (await read(client, staff, draft["id"]))["version"] == again["report"]["version"]
    # A draft is the school's own work: the bureau above sees the report once it is submitted.
    assert await read(client, county, draft["id"]) is None


async def test_an_approved_report_returned_by_the_county_is_unlocked(client):
    """Issue 6 §6: approval locks; the level above may return it with a reason, which unlocks it,
    until a report above has summed it and gone up (then that one must be returned first)."""
    staff, principal = await token_for(client, STAFF), await token_for(client, PRINCIPAL)
    county, gov = await token_for(client, COUNTY_EDU), await token_for(client, COUNTY_GOV)
    month = await submitted_march(client, staff, principal)
    approved = (await review(client, county, month, "APPROVE", verdicts=confirm_all(month)))["report"]

    quarter = (await draft_county(client, county))["report"]
    signed = (await countersign(client, gov, quarter))["report"]
    assert (await submit(client, county, signed))["errors"] == []
    assert codes(await return_report(client, county, approved, "复核发现数据有误")) == ["LOCKED"]

    # Another month, not yet summed by a submitted quarter: its return unlocks it.
    february = (await draft_school(client, staff, "2026-02"))["report"]
    february = (await submit(client, principal, february))["report"]
    february = (await review(client, county, february, "APPROVE"))["report"]
    unlocked = await return_report(client, county, february, "学籍数据更正后重报")
    assert unlocked["errors"] == []
    assert (unlocked["report"]["status"], unlocked["report"]["locked"]) == ("RETURNED", False)
    assert unlocked["report"]["current"]["returnReason"] == "学籍数据更正后重报"
    redrafted = await draft_school(client, staff, "2026-02", version=unlocked["report"]["version"])
    assert redrafted["report"]["current"]["number"] == 2


async def test_every_report_change_is_audited(client):
    """ARCHITECTURE §5: every mutation writes an audit row (actor, action, object) in the same transaction."""
    staff, principal = await token_for(client, STAFF), await token_for(client, PRINCIPAL)
    county = await token_for(client, COUNTY_EDU)
    report = await submitted_march(client, staff, principal)
    await review(client, county, report, "APPROVE")
    audit = """query($f: AuditFilter) { auditLog(filter: $f, first: 100) {
      edges { node { actor action targetId } } } }"""
    supervisor = await token_for(client, f"supervisor-county-{WUDING}")
    rows = (await gql(client, audit, {"f": {"targetType": "Report"}}, supervisor))["data"]["auditLog"]["edges"]
    mine = [(r["node"]["actor"], r["node"]["action"]) for r in rows if r["node"]["targetId"] == raw(report["id"])]
    assert mine == [(STAFF, "report.draft"), (PRINCIPAL, "report.submit"), (COUNTY_EDU, "report.review")]


def raw(global_id: str) -> str:
    return str(raw_id(global_id))
