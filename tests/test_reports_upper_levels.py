"""The upper half of the reporting chain through the API: the city's semester research over its counties'
approved quarters (POLICY 004 §6), the province's school-year assessment over its cities' semesters with the
consolidation rate (§7), the ministry taking it; and Guyuan's term survey of a county (POLICY 003 §2(二))."""

from __future__ import annotations

import base64
import io
from datetime import date
from typing import Any

import httpx
from openpyxl import load_workbook
from sqlalchemy import text

from models import CitySetting
from tests.conftest import error_codes, gql, input_refusals, token_for
from tests.ledger_support import WUDING
from tests.report_support import (
    CHUXIONG,
    CITY_EDU,
    COUNTY_EDU,
    COUNTY_GOV,
    MINISTRY,
    NEIGHBOUR_EDU,
    OTHER_CITY_EDU,
    PRINCIPAL,
    PROVINCE_EDU,
    STAFF,
    assess,
    codes,
    countersign,
    draft_county,
    draft_region,
    draft_school,
    read,
    review,
    submit,
    submitted_march,
)

REGIONS = """query($parent: String!) { regions(filter: {parentCode: $parent}, first: 100) {
  edges { node { code name } } } }"""


async def sub_regions(client: httpx.AsyncClient, token: str, parent: str) -> list[str]:
    found = await gql(client, REGIONS, {"parent": parent}, token)
    return [e["node"]["code"] for e in found["data"]["regions"]["edges"]]


async def submitted_quarter(client: httpx.AsyncClient) -> dict[str, Any]:
    """Wuding's first quarter: the school's March approved by the county, summed, countersigned, submitted."""
    staff, principal = await token_for(client, STAFF), await token_for(client, PRINCIPAL)
    county, gov = await token_for(client, COUNTY_EDU), await token_for(client, COUNTY_GOV)
    march = await submitted_march(client, staff, principal)
    assert (await review(client, county, march, "APPROVE"))["errors"] == []
    drafted = (await draft_county(client, county))["report"]
    signed = (await countersign(client, gov, drafted))["report"]
    sent = await submit(client, county, signed)
    assert sent["errors"] == [], sent["errors"]
    return sent["report"]  # type: ignore[no-any-return]


async def submitted_semester(client: httpx.AsyncClient, city: str) -> dict[str, Any]:
    """Chuxiong's spring semester over Wuding's approved quarter, every county assessed, submitted."""
    quarter = await submitted_quarter(client)
    assert (await review(client, city, quarter, "APPROVE", verdicts=[]))["errors"] == []
    drafted = (await draft_region(client, city, "CITY", CHUXIONG, "2026-SPRING"))["report"]
    counties = await sub_regions(client, city, CHUXIONG)
    notes = [{"subjectCode": c, "findings": "台账规范", "guidance": "继续开展入户核查"} for c in counties]
    assessed = await assess(client, city, drafted, notes)
    assert assessed["errors"] == [], assessed["errors"]
    sent = await submit(client, city, assessed["report"])
    assert sent["errors"] == [], sent["errors"]
    return sent["report"]  # type: ignore[no-any-return]


async def test_the_city_researches_its_counties_and_reports_to_the_province(client):
    """POLICY 004 §6: each city researches its counties' work every semester, guiding each county, and
    reports the results to the province; §5–§6: the city reviews only its counties' reports."""
    city, province = await token_for(client, CITY_EDU), await token_for(client, PROVINCE_EDU)
    quarter = await submitted_quarter(client)
    # The province is two levels above a county: it does not review the quarter.
    assert codes(await review(client, province, quarter, "APPROVE", verdicts=[])) == ["NOT_REVIEWER"]
    assert (await review(client, city, quarter, "APPROVE", verdicts=[]))["errors"] == []

    drafted = await draft_region(client, city, "CITY", CHUXIONG, "2026-SPRING")
    assert drafted["errors"] == []
    semester = drafted["report"]
    assert (semester["level"], semester["cadence"], semester["periodStart"], semester["periodEnd"]) == (
        "CITY",
        "SEMESTER",
        "2026-01-01",
        "2026-06-30",
    )
    counties = await sub_regions(client, city, CHUXIONG)
    assert semester["current"]["unitsExpected"] == len(counties)
    assert [s["report"]["id"] for s in semester["current"]["sources"]] == [quarter["id"]]
    assert semester["table1"] == quarter["table1"]
    assert [r["studentId"] for r in semester["dropouts"]] == [r["studentId"] for r in quarter["dropouts"]]

    # Every county needs the city's findings and guidance before the research goes up.
    assert codes(await submit(client, city, semester)) == ["ASSESSMENTS_MISSING"]
    no_guidance = await assess(client, city, semester, [{"subjectCode": WUDING, "findings": "台账规范"}])
    assert [(e["field"], e["code"]) for e in no_guidance["errors"]] == [("assessments.0.guidance", "REQUIRED")]
    township = await assess(client, city, semester, [{"subjectCode": WUDING + "101", "findings": "x", "guidance": "y"}])
    assert codes(township) == ["NOT_A_SUBJECT"]
    notes = [{"subjectCode": c, "findings": f"{c} 复核到位", "guidance": "开学季入户全覆盖"} for c in counties]
    assessed = await assess(client, city, semester, notes)
    assert assessed["errors"] == []
    assert [a["subjectCode"] for a in assessed["report"]["assessments"]] == sorted(counties)
    sent = await submit(client, city, assessed["report"])
    assert sent["errors"] == []
    assert sent["report"]["status"] == "SUBMITTED"
    assert codes(await assess(client, city, sent["report"], notes[:1])) == ["LOCKED"]

    # The city does not approve its own research; the province does.
    assert codes(await review(client, city, sent["report"], "APPROVE", verdicts=[])) == ["OWN_SUBMISSION"]
    # The province returns it; the corrected version starts from the city's assessments.
    returned = await review(client, province, sent["report"], "RETURN", verdicts=[], reasons="请补充复学数据核实情况")
    assert returned["errors"] == []
    corrected = await draft_region(client, city, "CITY", CHUXIONG, "2026-SPRING", version=returned["report"]["version"])
    assert corrected["errors"] == []
    assert corrected["report"]["current"]["number"] == 2
    assert corrected["report"]["assessments"] == assessed["report"]["assessments"]
    resent = await submit(client, city, corrected["report"])
    assert resent["errors"] == []
    approved = await review(client, province, resent["report"], "APPROVE", verdicts=[])
    assert approved["errors"] == []
    assert approved["report"]["status"] == "APPROVED"


async def test_the_province_assesses_its_cities_and_the_ministry_takes_it(client, session):
    """POLICY 004 §7: the province assesses its jurisdiction every school year and reports to the ministry by
    31 July; POLICY 000 (preamble): the consolidation rate's 95% target. The ministry reads figures and
    assessments, never a child's record."""
    city, province = await token_for(client, CITY_EDU), await token_for(client, PROVINCE_EDU)
    ministry = await token_for(client, MINISTRY)
    semester = await submitted_semester(client, city)
    assert (await review(client, province, semester, "APPROVE", verdicts=[]))["errors"] == []

    drafted = await draft_region(client, province, "PROVINCE", "53", "2025-2026")
    assert drafted["errors"] == []
    year = drafted["report"]
    assert (year["level"], year["cadence"], year["dueOn"], year["current"]["asOf"]) == (
        "PROVINCE",
        "SCHOOL_YEAR",
        "2026-07-31",
        "2026-06-30",  # due before the year ends: it describes the year to the spring semester's end
    )
    assert [s["report"]["id"] for s in year["current"]["sources"]] == [semester["id"]]
    assert year["table1"] == semester["table1"]

    cohort, retained = await expected_cohort(session)
    assert cohort > 0
    assert year["consolidation"] == {
        "cohort": cohort,
        "retained": retained,
        "rate": retained / cohort,
        "target": 0.95,
        "meetsTarget": retained / cohort >= 0.95,
    }

    # The ministry sees nothing of the province's draft.
    assert await read(client, ministry, year["id"]) is None
    ungraded = await assess(client, province, year, [{"subjectCode": CHUXIONG, "findings": "工作扎实"}])
    assert [(e["field"], e["code"]) for e in ungraded["errors"]] == [("assessments.0.grade", "REQUIRED")]
    graded = await assess(client, province, year, [{"subjectCode": CHUXIONG, "grade": "GOOD", "findings": "工作扎实"}])
    assert graded["errors"] == []
    assert graded["report"]["assessments"][0]["grade"] == "GOOD"
    sent = await submit(client, province, graded["report"])
    assert sent["errors"] == []

    seen = await read(client, ministry, year["id"])
    assert seen["status"] == "SUBMITTED"
    assert seen["table1"] == year["table1"]
    assert seen["assessments"][0]["grade"] == "GOOD"
    # The assessment is an entity (issue 17 §2): its id resolves for the ministry, and for no other province.
    ids = await gql(client, "query($id: ID!) { report(id: $id) { assessments { id } } }", {"id": year["id"]}, ministry)
    [assessment_id] = [a["id"] for a in ids["data"]["report"]["assessments"]]
    query = "query($id: ID!) { node(id: $id) { ... on UnitAssessmentInfo { subjectCode grade } } }"
    found = await gql(client, query, {"id": assessment_id}, ministry)
    assert found["data"]["node"] == {"subjectCode": CHUXIONG, "grade": "GOOD"}
    other = await gql(client, query, {"id": assessment_id}, await token_for(client, "edu-province-64"))
    assert other["data"]["node"] is None
    assert seen["consolidation"] == year["consolidation"]
    assert seen["dropouts"] is None  # no personal data for the ministry
    assert seen["suspected"] is None
    assert codes(await review(client, province, sent["report"], "APPROVE", verdicts=[])) == ["OWN_SUBMISSION"]
    # Nor does it give per-child verdicts: it cannot see the children (nor learn who is listed by trying).
    somebody = [{"studentId": base64.b64encode(b"Student:1").decode(), "verdict": "DISPUTED"}]
    refused = await review(client, ministry, sent["report"], "RETURN", verdicts=somebody, reasons="x")
    assert codes(refused) == ["LISTS_NOT_VISIBLE"]
    taken = await review(client, ministry, sent["report"], "APPROVE", verdicts=[])
    assert taken["errors"] == []
    assert taken["report"]["status"] == "APPROVED"

    # The ministry's file: Table 1, the rate among the facts, the grade per city, no children.
    link = await gql(client, "query($id: ID!) { report(id: $id) { downloadUrl } }", {"id": year["id"]}, ministry)
    book = load_workbook(io.BytesIO((await client.get(link["data"]["report"]["downloadUrl"])).content))
    assert book.sheetnames == ["表1 摸底排查统计", "表2 辍学学生信息", "评估结果"]
    cells = [str(c) for row in book["表1 摸底排查统计"].iter_rows(values_only=True) for c in row if c is not None]
    assert any(f"学年巩固率：{retained / cohort:.1%}（{retained}/{cohort}）" in c for c in cells)
    graded = [row for row in book["评估结果"].iter_rows(values_only=True) if row[1] == CHUXIONG]
    assert [(row[2], row[3], row[4]) for row in graded] == [("楚雄彝族自治州", "良好", "工作扎实")]
    listed = [row for row in book["表2 辍学学生信息"].iter_rows(values_only=True) if isinstance(row[0], int)]
    assert listed == []

    # A city of another province neither sees nor drafts here.
    other = await token_for(client, OTHER_CITY_EDU)
    assert await read(client, other, semester["id"]) is None
    assert codes(await draft_region(client, other, "CITY", CHUXIONG, "2026-SPRING")) == ["NOT_FOUND"]


async def expected_cohort(session: Any) -> tuple[int, int]:
    """The consolidation rate's cohort for 2025-2026 in province 53, counted straight from the tables:
    children whose last enrolment change by 1 September 2025 enrolled them in grades 1–9 at a school of
    the province; retained if on 30 June 2026 enrolled anywhere or graduated and not on the dropout ledger."""
    rows = await session.execute(
        text(
            """
            WITH last_start AS (
              SELECT DISTINCT ON (child_id) child_id, change, school_code, grade, "on"
                FROM enrolment_event WHERE "on" <= DATE '2025-09-01'
               ORDER BY child_id, "on" DESC, id DESC),
            cohort AS (
              SELECT l.child_id FROM last_start l JOIN school s ON s.code = l.school_code
               WHERE l.change IN ('ENROL', 'TRANSFER_IN') AND s.path LIKE '53/%'
                 AND l.grade + (2025 - (EXTRACT(YEAR FROM l."on")::int
                                 - CASE WHEN EXTRACT(MONTH FROM l."on") < 9 THEN 1 ELSE 0 END)) <= 9),
            last_end AS (
              SELECT DISTINCT ON (child_id) child_id, change FROM enrolment_event
               WHERE "on" <= DATE '2026-06-30' ORDER BY child_id, "on" DESC, id DESC)
            SELECT count(*),
                   count(*) FILTER (WHERE e.change IN ('ENROL', 'TRANSFER_IN', 'GRADUATE') AND NOT EXISTS (
                     SELECT 1 FROM ledger_entry d WHERE d.child_id = c.child_id AND d.ledger = 'DROPOUT'
                        AND d.opened_on <= DATE '2026-06-30'
                        AND (d.closed_at IS NULL OR d.closed_at >= TIMESTAMPTZ '2026-07-01 00:00:00+08')))
              FROM cohort c JOIN last_end e USING (child_id)
            """
        )
    )
    cohort, retained = rows.one()
    return int(cohort), int(retained)


async def test_guyuans_term_survey_is_drafted_where_the_city_keeps_it(client, session):
    """POLICY 003 §2(二) and annex 1 note 4: Guyuan's survey points (the Friday of the first week of term,
    mid-term, term end) in a city that keeps that calendar; the county's Table 1 as of the point, due on it."""
    county = await token_for(client, COUNTY_EDU)
    assert codes(await draft_region(client, county, "SURVEY", WUDING, "2026-SPRING-MIDTERM")) == ["TERM_SURVEY_OFF"]
    session.add(CitySetting(city_code="5323", province_code="53", term_survey_enabled=True))
    await session.flush()

    assert codes(await draft_region(client, county, "SURVEY", WUDING, "2026-SPRING")) == ["BAD_PERIOD"]
    drafted = await draft_region(client, county, "SURVEY", WUDING, "2026-SPRING-MIDTERM")
    assert drafted["errors"] == []
    survey = drafted["report"]
    assert (survey["level"], survey["cadence"], survey["periodEnd"], survey["dueOn"]) == (
        "COUNTY",
        "TERM_SURVEY",
        "2026-04-30",
        "2026-04-30",  # as of the survey day and sent on it: 4月底 (003 annex 1 note 4)
    )
    day = date(2026, 4, 30)
    suspected, dropouts, schools = await open_cases(session, WUDING, day)
    total = survey["table1"][2]
    assert (total["suspected"], total["dropouts"]) == (suspected, dropouts)
    assert survey["current"]["unitsExpected"] == schools
    # The county's own draft: neither its neighbour nor the city above sees it before submission.
    assert await read(client, await token_for(client, CITY_EDU), survey["id"]) is None


async def open_cases(session: Any, county: str, day: date) -> tuple[int, int, int]:
    """Entries flagged at the county's schools open at the end of `day`, and the county's schools."""
    rows = await session.execute(
        text(
            """
            SELECT count(*) FILTER (WHERE e.ledger = 'SUSPECTED'), count(*) FILTER (WHERE e.ledger = 'DROPOUT'),
                   (SELECT count(*) FROM school WHERE path LIKE :prefix)
              FROM ledger_entry e JOIN school s ON s.code = e.school_code
             WHERE s.path LIKE :prefix AND e.opened_on <= :day
               AND (e.closed_at IS NULL OR (e.closed_at AT TIME ZONE 'Asia/Shanghai')::date > :day)
            """
        ),
        {"prefix": f"53/5323/{county}/%", "day": day},
    )
    suspected, dropouts, schools = rows.one()
    return int(suspected), int(dropouts), int(schools)


async def test_upper_level_drafts_refuse_other_jurisdictions_and_bad_input(client, session):
    """POLICY 004 §6–§7 and 双线四级, ARCHITECTURE §4: a city drafts and assesses only its own research, a province
    only its own assessment, a county only its own survey; bad input is named, and nothing is written."""
    city, province = await token_for(client, CITY_EDU), await token_for(client, PROVINCE_EDU)
    county, other_province = await token_for(client, COUNTY_EDU), await token_for(client, "edu-province-64")
    staff = await token_for(client, STAFF)

    # Outside one's jurisdiction, or a level it does not draft.
    assert codes(await draft_region(client, other_province, "PROVINCE", "53", "2025-2026")) == ["NOT_FOUND"]
    assert codes(await draft_region(client, city, "PROVINCE", "53", "2025-2026")) == ["NOT_FOUND"]
    assert codes(await draft_region(client, county, "CITY", CHUXIONG, "2026-SPRING")) == ["NOT_FOUND"]
    session.add(CitySetting(city_code="5323", province_code="53", term_survey_enabled=True))
    await session.flush()
    neighbour = await token_for(client, NEIGHBOUR_EDU)
    assert codes(await draft_region(client, neighbour, "SURVEY", WUDING, "2026-SPRING-MIDTERM")) == ["NOT_FOUND"]
    assert error_codes(await draft_region(client, city, "SURVEY", WUDING, "2026-SPRING-MIDTERM")) == ["FORBIDDEN"]

    # The region's level and the period's form.
    assert codes(await draft_region(client, city, "CITY", WUDING, "2026-SPRING")) == ["NOT_A_CITY"]
    assert codes(await draft_region(client, province, "PROVINCE", CHUXIONG, "2025-2026")) == ["NOT_A_PROVINCE"]
    assert codes(await draft_region(client, city, "CITY", CHUXIONG, "2026-Q1")) == ["BAD_PERIOD"]
    assert codes(await draft_region(client, province, "PROVINCE", "53", "2025-2027")) == ["BAD_PERIOD"]
    assert codes(await draft_region(client, province, "PROVINCE", "53", "2098-2099")) == ["PERIOD_NOT_OVER"]

    # Assessments: only on the city's or province's own draft; a bad line leaves none written.
    semester = (await draft_region(client, city, "CITY", CHUXIONG, "2026-SPRING"))["report"]
    note = {"subjectCode": WUDING, "findings": "台账规范", "guidance": "继续入户核查"}
    assert codes(await assess(client, county, semester, [note])) == ["NOT_FOUND"]  # a draft above its view
    assert codes(await assess(client, province, semester, [note])) == ["NOT_FOUND"]  # not submitted yet
    mixed = await assess(client, city, semester, [note, {**note, "subjectCode": "6404"}])
    assert [(e["field"], e["code"]) for e in mixed["errors"]] == [("assessments.1.subjectCode", "NOT_A_SUBJECT")]
    twice = await assess(client, city, semester, [note, note])
    assert [(e["field"], e["code"]) for e in twice["errors"]] == [("assessments.1.subjectCode", "DUPLICATE_UNIT")]
    long = await assess(client, city, semester, [{**note, "findings": "发" * 2001}])
    assert input_refusals(long) == [("input.assessments.0.findings", "TOO_LONG")]
    assert (await read(client, city, semester["id"]))["assessments"] == []
    month = (await draft_school(client, staff))["report"]
    assert codes(await assess(client, staff, month, [note])) == ["NOT_ASSESSED"]
