"""Who may not do what in the reporting chain: each level re-checks only one level down, inside its own
jurisdiction, never its own submission (POLICY 004 §4–§5; 双线四级, ARCHITECTURE §4); locks, versions, reasons."""

from __future__ import annotations

from datetime import date

from tests.conftest import error_codes, gql, input_refusals, token_for
from tests.ledger_support import WUDING, WUDING_PRIMARY, YUANMOU, make_student, open_entry
from tests.report_support import (
    CITY_EDU,
    COUNTY_EDU,
    COUNTY_GOV,
    LIST,
    MINISTRY,
    NEIGHBOUR_EDU,
    NEIGHBOUR_GOV,
    PRINCIPAL,
    PROVINCE_EDU,
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
from tests.test_settings import UPDATE_PROVINCE

OTHER_WUDING_SCHOOL = "2153000037"  # 武定县环州乡中心小学


async def test_a_neighbouring_county_neither_sees_nor_reviews_the_report(client):
    """双线四级 (ARCHITECTURE §4): a level never sees a sibling's data; POLICY 004 §5: the county re-checks
    its own schools."""
    report = await submitted_march(client, await token_for(client, STAFF), await token_for(client, PRINCIPAL))
    neighbour = await token_for(client, NEIGHBOUR_EDU)
    assert await read(client, neighbour, report["id"]) is None
    listed = (await gql(client, LIST, {"f": {"period": "2026-03"}}, neighbour))["data"]["reports"]
    assert report["id"] not in [e["node"]["id"] for e in listed["edges"]]
    assert codes(await review(client, neighbour, report, "APPROVE")) == ["NOT_FOUND"]
    assert codes(await draft_school(client, neighbour)) == ["NOT_FOUND"]
    gov = await token_for(client, NEIGHBOUR_GOV)
    assert codes(await countersign(client, gov, report)) == ["NOT_FOUND"]


async def test_a_school_does_not_approve_its_own_report(client):
    """Re-check separation (ARCHITECTURE §4): the level that submits is never the level that approves."""
    principal = await token_for(client, PRINCIPAL)
    report = await submitted_march(client, await token_for(client, STAFF), principal)
    assert error_codes(await review(client, principal, report, "APPROVE")) == ["FORBIDDEN"]
    assert error_codes(await review(client, await token_for(client, STAFF), report, "APPROVE")) == ["FORBIDDEN"]


async def test_the_city_does_not_review_a_school_report_directly(client):
    """POLICY 004 §5–§6: the county re-checks schools; the city researches counties — one level down only."""
    report = await submitted_march(client, await token_for(client, STAFF), await token_for(client, PRINCIPAL))
    city = await token_for(client, CITY_EDU)
    assert (await read(client, city, report["id"]))["id"] == report["id"]  # it may read it
    assert codes(await review(client, city, report, "APPROVE")) == ["NOT_REVIEWER"]
    assert codes(await return_report(client, city, report, "数据存疑")) == ["NOT_REVIEWER"]


async def test_nobody_reviews_their_own_submission(client):
    """Re-check separation: an account acting as principal and as county bureau still may not re-check
    what it submitted itself (authz/recheck.py: OWN_SUBMISSION)."""
    admin = await token_for(client, f"admin-county-{WUDING}")
    granted = await gql(
        client,
        """mutation($input: GrantRoleInput!) { grantRole(input: $input) { errors { code } } }""",
        {
            "input": {
                "username": COUNTY_EDU,
                "role": "SCHOOL_PRINCIPAL",
                "jurisdictionCode": WUDING_PRIMARY,
                "reason": "代理校长 / acting principal",
            }
        },
        admin,
    )
    assert granted["data"]["grantRole"]["errors"] == []
    county = await token_for(client, COUNTY_EDU)
    report = await submitted_march(client, await token_for(client, STAFF), county)
    assert report["submittedBy"] == COUNTY_EDU
    assert codes(await review(client, county, report, "APPROVE")) == ["OWN_SUBMISSION"]


async def test_only_the_principal_submits_and_only_the_school_drafts(client):
    """POLICY 004 §4 and issue 6 §2: drafted by school staff, submitted by the principal; the county bureau
    reads a school's report once submitted but neither drafts nor submits it (the draft is not in its view)."""
    staff, county = await token_for(client, STAFF), await token_for(client, COUNTY_EDU)
    draft = (await draft_school(client, staff))["report"]
    assert error_codes(await submit(client, staff, draft)) == ["FORBIDDEN"]
    assert codes(await submit(client, county, draft)) == ["NOT_FOUND"]
    assert error_codes(await draft_school(client, county)) == ["FORBIDDEN"]
    assert codes(await draft_county(client, staff)) == ["NOT_FOUND"]  # the county's report is above its view


async def test_a_return_needs_reasons_and_a_dispute_needs_a_comment(client):
    """POLICY 004 §5 re-check: RETURN with reasons; a DISPUTED verdict with a comment; APPROVE only with a
    confirmed verdict on every listed child and no findings."""
    staff, principal = await token_for(client, STAFF), await token_for(client, PRINCIPAL)
    county = await token_for(client, COUNTY_EDU)
    kid = await make_student(client, county, enrolledOn="2025-09-01")
    other = await make_student(client, county, enrolledOn="2025-09-01")
    assert (await open_entry(client, staff, kid["id"], opened_on=date(2026, 3, 10)))["errors"] == []
    report = await submitted_march(client, staff, principal)

    assert codes(await review(client, county, report, "RETURN", reasons="  ")) == ["REASONS_REQUIRED"]
    disputed = [{"studentId": kid["id"], "verdict": "DISPUTED"}]
    assert codes(await review(client, county, report, "RETURN", verdicts=disputed, reasons="x")) == ["COMMENT_REQUIRED"]
    assert codes(await review(client, county, report, "APPROVE", verdicts=[])) == ["VERDICTS_MISSING"]
    disputed[0]["comment"] = "已返校，请核实"
    assert codes(await review(client, county, report, "APPROVE", verdicts=confirm_all(report) + disputed)) == [
        "DUPLICATE_STUDENT"
    ]
    with_dispute = [v for v in confirm_all(report) if v["studentId"] != kid["id"]] + disputed
    assert codes(await review(client, county, report, "APPROVE", verdicts=with_dispute)) == ["UNRESOLVED"]
    finding = [{"studentId": other["id"], "note": "未上报"}]
    assert codes(await review(client, county, report, "APPROVE", findings=finding)) == ["UNRESOLVED"]
    listed = [{"studentId": kid["id"], "note": "x"}]
    assert codes(await review(client, county, report, "RETURN", findings=listed, reasons="x")) == ["ALREADY_LISTED"]
    stranger = [{"studentId": other["id"], "verdict": "CONFIRMED"}]
    assert codes(await review(client, county, report, "RETURN", verdicts=stranger, reasons="x")) == ["NOT_LISTED"]
    assert (await read(client, county, report["id"]))["status"] == "SUBMITTED"  # nothing was written


async def test_verdicts_and_findings_name_children_only_to_readers_of_the_ledgers(client):
    """ARCHITECTURE §5 (personal data) and issue 6 §5: the ministry reads figures, never a child. A verdict or a
    finding names a child, so it is shown, and given, only with the ledgers' read right over the unit;
    a finding names a child of the reporting unit, not of a school next door; text has its limits."""
    staff, principal = await token_for(client, STAFF), await token_for(client, PRINCIPAL)
    county, ministry = await token_for(client, COUNTY_EDU), await token_for(client, MINISTRY)
    kid = await make_student(client, county, enrolledOn="2025-09-01")
    missing = await make_student(client, county, enrolledOn="2025-09-01")
    elsewhere = await make_student(client, county, school=OTHER_WUDING_SCHOOL, enrolledOn="2025-09-01")
    assert (await open_entry(client, staff, kid["id"], opened_on=date(2026, 3, 10)))["errors"] == []
    report = await submitted_march(client, staff, principal)

    next_door = [{"studentId": elsewhere["id"], "note": "未上报"}]
    assert codes(await review(client, county, report, "RETURN", findings=next_door, reasons="x")) == ["NOT_IN_UNIT"]
    too_long = await return_report(client, county, report, "理" * 2001)
    assert input_refusals(too_long) == [("input.reason", "TOO_LONG")]
    disputed = [{"studentId": kid["id"], "verdict": "DISPUTED", "comment": "已返校，请核实"}]
    found = [{"studentId": missing["id"], "note": "长期未到校，未上报"}]
    returned = await review(client, county, report, "RETURN", verdicts=disputed, findings=found, reasons="请核实")
    assert returned["errors"] == []
    assert [f["studentId"] for f in returned["report"]["findings"]] == [missing["id"]]

    seen = await read(client, ministry, report["id"])
    assert seen["status"] == "RETURNED"
    assert seen["verdicts"] is None
    assert seen["findings"] is None
    versions = "query($id: ID!) { report(id: $id) { versions { verdicts { comment } findings { note } } } }"
    by_version = await gql(client, versions, {"id": report["id"]}, ministry)
    assert by_version["data"]["report"]["versions"] == [{"verdicts": None, "findings": None}]
    assert seen["suspected"] is None


async def test_a_stale_version_is_a_conflict(client):
    """ARCHITECTURE §5: optimistic versioning — a write based on a stale read is refused, never merged."""
    staff, principal = await token_for(client, STAFF), await token_for(client, PRINCIPAL)
    draft = (await draft_school(client, staff))["report"]
    again = (await draft_school(client, staff, version=draft["version"]))["report"]
    assert codes(await submit(client, principal, draft)) == ["CONFLICT"]
    report = (await submit(client, principal, again))["report"]
    county = await token_for(client, COUNTY_EDU)
    assert codes(await review(client, county, report, "APPROVE", version=again["version"])) == ["CONFLICT"]


async def test_locked_reports_refuse_changes(client):
    """Issue 6 §2, §6: submitted and approved reports are locked; a returned one is corrected first."""
    staff, principal = await token_for(client, STAFF), await token_for(client, PRINCIPAL)
    county = await token_for(client, COUNTY_EDU)
    report = await submitted_march(client, staff, principal)
    assert codes(await submit(client, principal, report)) == ["LOCKED"]
    approved = (await review(client, county, report, "APPROVE"))["report"]
    assert codes(await draft_school(client, staff, version=approved["version"])) == ["LOCKED"]
    assert codes(await review(client, county, approved, "APPROVE")) == ["LOCKED"]

    february = (await draft_school(client, staff, "2026-02"))["report"]
    february = (await submit(client, principal, february))["report"]
    returned = (await review(client, county, february, "RETURN", reasons="重报"))["report"]
    assert codes(await submit(client, principal, returned)) == ["NOT_DRAFT"]


async def test_countersignature_rules(client):
    """POLICY 004 §5 (the county re-checks with the other departments): the county's own government
    countersigns the county's draft, once, before submission; not a school's report."""
    county, gov = await token_for(client, COUNTY_EDU), await token_for(client, COUNTY_GOV)
    school_report = await submitted_march(client, await token_for(client, STAFF), await token_for(client, PRINCIPAL))
    assert codes(await countersign(client, gov, school_report)) == ["NOT_COSIGNER"]
    assert error_codes(await countersign(client, county, school_report)) == ["FORBIDDEN"]
    draft = (await draft_county(client, county))["report"]
    signed = (await countersign(client, gov, draft))["report"]
    assert codes(await countersign(client, gov, signed)) == ["ALREADY_COSIGNED"]
    regenerated = (await draft_county(client, county, version=signed["version"]))["report"]
    assert regenerated["current"]["cosignedBy"] is None  # it signed other figures
    assert codes(await submit(client, county, regenerated)) == ["COSIGN_REQUIRED"]


async def test_periods_deadlines_and_units_are_checked(client):
    """Issue 6 §1, §7: periods per cadence, no report of a period not over, late submission refused where
    the province forbids it (DEADLINE_PASSED); a quarterly report is a county's."""
    staff, principal = await token_for(client, STAFF), await token_for(client, PRINCIPAL)
    county = await token_for(client, COUNTY_EDU)
    assert codes(await draft_school(client, staff, "2026-3")) == ["BAD_PERIOD"]
    assert codes(await draft_school(client, staff, "2026-Q1")) == ["BAD_PERIOD"]
    assert codes(await draft_school(client, staff, "2099-01")) == ["PERIOD_NOT_OVER"]
    assert codes(await draft_county(client, county, "2026-03")) == ["BAD_PERIOD"]
    assert codes(await draft_county(client, county, county=f"{WUDING}101")) == ["NOT_A_COUNTY"]
    assert codes(await draft_county(client, county, county=YUANMOU)) == ["NOT_FOUND"]

    refuse_late = {"provinceCode": "53", "version": 0, "lateSubmissionAllowed": False}  # the province, by the API
    changed = await gql(client, UPDATE_PROVINCE, {"input": refuse_late}, await token_for(client, PROVINCE_EDU))
    assert changed["data"]["updateProvinceSettings"]["errors"] == []
    draft = (await draft_school(client, staff))["report"]
    assert codes(await submit(client, principal, draft)) == ["DEADLINE_PASSED"]


async def test_a_county_quarter_is_not_submitted_over_a_school_month_returned_since(client):
    """Issue 6 §6: approval locks what lies below; a school month returned after the county's draft summed
    it sends the draft back to be generated again (SOURCES_CHANGED)."""
    staff, principal = await token_for(client, STAFF), await token_for(client, PRINCIPAL)
    county, gov = await token_for(client, COUNTY_EDU), await token_for(client, COUNTY_GOV)
    month = await submitted_march(client, staff, principal)
    approved = (await review(client, county, month, "APPROVE"))["report"]
    quarter = (await draft_county(client, county))["report"]
    assert len(quarter["current"]["sources"]) == 1
    assert (await return_report(client, county, approved, "学籍数据有误"))["errors"] == []
    signed = (await countersign(client, gov, quarter))["report"]
    assert codes(await submit(client, county, signed)) == ["SOURCES_CHANGED"]
    regenerated = (await draft_county(client, county, version=signed["version"]))["report"]
    assert regenerated["current"]["sources"] == []


async def test_a_county_quarter_is_not_submitted_without_a_school_month_approved_since(client):
    """Issue 6 §3: the county's quarter aggregates its approved school reports; one approved after the
    draft was generated is not left out: the draft is generated again (SOURCES_CHANGED)."""
    staff, principal = await token_for(client, STAFF), await token_for(client, PRINCIPAL)
    county, gov = await token_for(client, COUNTY_EDU), await token_for(client, COUNTY_GOV)
    quarter = (await draft_county(client, county))["report"]
    assert quarter["current"]["sources"] == []
    month = await submitted_march(client, staff, principal)
    assert (await review(client, county, month, "APPROVE"))["errors"] == []
    signed = (await countersign(client, gov, quarter))["report"]
    assert codes(await submit(client, county, signed)) == ["SOURCES_CHANGED"]
    regenerated = (await draft_county(client, county, version=signed["version"]))["report"]
    assert [s["report"]["id"] for s in regenerated["current"]["sources"]] == [month["id"]]


GRANT = """mutation($input: GrantRoleInput!) { grantRole(input: $input) { grant { id } errors { code } } }"""


async def test_whoever_drafted_a_report_does_not_re_check_it(client):
    """双线四级, ARCHITECTURE §4: a level never approves its own submission. An account also holding the county's
    bureau role, which drafted the county's quarter, does not re-check it from the city either."""
    admin = await token_for(client, "admin-province-53")
    lent = {"username": CITY_EDU, "role": "COUNTY_EDU", "jurisdictionCode": WUDING, "reason": "借调"}
    granted = (await gql(client, GRANT, {"input": lent}, admin))["data"]["grantRole"]
    assert granted["errors"] == []
    city, county = await token_for(client, CITY_EDU), await token_for(client, COUNTY_EDU)
    gov = await token_for(client, COUNTY_GOV)
    drafted = (await draft_county(client, city))["report"]
    signed = (await countersign(client, gov, drafted))["report"]
    sent = await submit(client, county, signed)
    assert sent["errors"] == []
    assert sent["report"]["submittedBy"] == COUNTY_EDU
    assert codes(await review(client, city, sent["report"], "APPROVE", verdicts=[])) == ["OWN_SUBMISSION"]
