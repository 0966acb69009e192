"""Key transitions (POLICY 003 二(二): 紧盯小升初、新学期开学报到、初二学期、初三毕业季; 加强中考报名管理，
初中毕业生必须全部参加报名考试，对未报名学生各县（区）、学校必须查明原因、做出说明): the county's 小升初 list
with category S proposed, the 中考 registration roster and its gaps, their explanations and the county report's
gate; the city sees counts only, and a sibling county nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

from models import ProvinceSetting
from tests.conftest import codes, error_codes, gql, input_refusals, token_for
from tests.ledger_support import (
    COUNTY_EDU,
    NEIGHBOUR_EDU,
    STAFF,
    WUDING_PRIMARY,
    YUANMOU_PRIMARY,
    YUANMOU_VILLAGE,
    make_student,
    open_entry,
    record_absent,
    school_days,
)
from tests.report_support import COUNTY_GOV, countersign, draft_county, submit
from tests.transition_support import (
    CITY_EDU,
    GAP_COUNTS,
    LEAVER_COUNTS,
    WUDING_JUNIOR,
    apply_batch,
    change,
    explain,
    gaps,
    grade9,
    identity,
    leavers,
    names,
    primary_leaver,
    upload_exam_roster,
)


def unknown_region(result: dict[str, Any]) -> bool:
    """Refused as for a region that does not exist, with no data."""
    data = result.get("data") or {}
    return input_refusals(result) == [("filter.regionCode", "UNKNOWN_REGION")] or (
        all(v is None for v in data.values()) and error_codes(result) == ["BAD_USER_INPUT"]
    )


# --- 小升初 --------------------------------------------------------------------------------------------


async def test_a_primary_leaver_with_no_junior_place_is_listed_with_category_s_proposed(client):
    """003 二(二) 紧盯小升初: finished grade 6 in 2025–26, no junior school by 1 October 2026 (1 September + 30
    days): listed for the county, S proposed. One who went on to junior school, one still in grade 6 and one
    who finished a year earlier are not on the 2025 list."""
    county = await token_for(client, COUNTY_EDU)
    left = await primary_leaver(client, county)
    went_on = await primary_leaver(client, county)
    went_on = await change(client, county, went_on, "ENROL", WUDING_JUNIOR, 7, date(2026, 9, 1))
    still = await make_student(client, county, school=WUDING_PRIMARY, grade=6, birth=date(2015, 2, 3))
    earlier = await primary_leaver(client, county, finished=date(2025, 7, 1))

    result = await leavers(client, county, schoolYear=2025)
    assert error_codes(result) == []
    page = result["data"]["primaryLeaversNotEnrolled"]
    assert (page["schoolYear"], page["listedFrom"]) == (2025, "2026-10-01")
    listed = {e["node"]["student"]["id"]: e["node"] for e in page["edges"]}
    assert left["id"] in listed
    assert {went_on["id"], still["id"], earlier["id"]} & set(listed) == set()
    node = listed[left["id"]]
    assert (node["finishedPrimaryOn"], node["lastSchoolCode"], node["proposedCategory"], node["entry"]) == (
        "2026-07-01",
        WUDING_PRIMARY,
        "S",
        None,
    )
    # The default school year is the one before the current: the pupils due in junior school this autumn.
    default = (await leavers(client, county))["data"]["primaryLeaversNotEnrolled"]
    assert default["schoolYear"] == 2025
    assert left["id"] in names(default)
    assert earlier["id"] in names((await leavers(client, county, schoolYear=2024))["data"]["primaryLeaversNotEnrolled"])


async def test_putting_a_primary_leaver_on_a_ledger_takes_the_proposed_s_and_the_list_shows_the_entry(client):
    """The proposed S fits the child (models/ledger_categories.py PRIMARY_TO_JUNIOR: out of school after
    finishing primary); the child stays listed, with its entry. S for a grade-3 pupil is still refused."""
    county = await token_for(client, COUNTY_EDU)
    left = await primary_leaver(client, county)
    opened = await open_entry(client, county, left["id"], category="S", source="MANUAL")
    assert opened["errors"] == []
    page = (await leavers(client, county, schoolYear=2025))["data"]["primaryLeaversNotEnrolled"]
    node = next(e["node"] for e in page["edges"] if e["node"]["student"]["id"] == left["id"])
    assert node["entry"]["id"] == opened["entry"]["id"]
    assert node["entry"]["category"] == "S"

    third_grader = await make_student(client, county, grade=3)
    refused = await open_entry(client, county, third_grader["id"], category="S")
    assert codes(refused) == ["CATEGORY_MISMATCH"]


async def test_nobody_is_listed_before_the_provinces_days_have_passed(client, session):
    """`primary_leaver_days` (province_setting, default 30): with 120 days the 2025 cohort is listed from
    29 December 2026, after today (4 December 2026 or later in the test's clock: compared, not assumed)."""
    county = await token_for(client, COUNTY_EDU)
    left = await primary_leaver(client, county)
    setting = await session.get(ProvinceSetting, "53") or ProvinceSetting(province_code="53")
    setting.primary_leaver_days = 180
    session.add(setting)
    await session.flush()
    page = (await leavers(client, county, schoolYear=2025))["data"]["primaryLeaversNotEnrolled"]
    assert page["listedFrom"] == "2027-02-28"
    assert (page["totalCount"], page["edges"]) == (0, [])
    setting.primary_leaver_days = 0
    session.add(setting)
    await session.flush()
    page = (await leavers(client, county, schoolYear=2025))["data"]["primaryLeaversNotEnrolled"]
    assert page["listedFrom"] == "2026-09-01"
    assert left["id"] in names(page)


async def test_the_government_line_finds_a_leaver_by_household_and_the_city_reads_counts_only(client):
    """Scoped like the ledgers: the county government by household or residence; the city gets counts by county
    and is refused the list; the neighbouring county sees neither the child nor a count of it."""
    county = await token_for(client, COUNTY_EDU)
    left = await primary_leaver(client, county)
    gov = await token_for(client, COUNTY_GOV)
    assert left["id"] in names((await leavers(client, gov, schoolYear=2025))["data"]["primaryLeaversNotEnrolled"])

    city = await token_for(client, CITY_EDU)
    refused = await leavers(client, city, schoolYear=2025)
    assert error_codes(refused) == ["FORBIDDEN"]
    assert refused["data"]["primaryLeaversNotEnrolled"] is None
    counts = await gql(client, LEAVER_COUNTS, {"r": "5323", "y": 2025, "by": "COUNTY"}, city)
    rows = {r["regionCode"]: r for r in counts["data"]["primaryLeaverCounts"]}
    assert rows["532329"]["listed"] >= 1

    neighbour = await token_for(client, NEIGHBOUR_EDU)
    own = (await leavers(client, neighbour, schoolYear=2025))["data"]["primaryLeaversNotEnrolled"]
    assert left["id"] not in names(own)
    # Another county's code answers like a region that does not exist (UNKNOWN_REGION): nothing leaks.
    assert unknown_region(await leavers(client, neighbour, schoolYear=2025, regionCode="532329"))
    assert unknown_region(await gql(client, LEAVER_COUNTS, {"r": "532329", "y": 2025, "by": "COUNTY"}, neighbour))


async def test_a_neighbour_county_lists_its_own_leaver_and_not_wudings(client):
    """The neighbour's own leaver (its school, its household) is on its list and not on Wuding's."""
    neighbour = await token_for(client, NEIGHBOUR_EDU)
    student = await make_student(
        client,
        neighbour,
        school=YUANMOU_PRIMARY,
        grade=6,
        birth=date(2014, 3, 4),
        village=YUANMOU_VILLAGE,
        enrolledOn="2025-09-01",
    )
    theirs = await change(client, neighbour, student, "GRADUATE", YUANMOU_PRIMARY, 6, date(2026, 7, 1))
    assert theirs["id"] in names((await leavers(client, neighbour))["data"]["primaryLeaversNotEnrolled"])
    county = await token_for(client, COUNTY_EDU)
    assert theirs["id"] not in names((await leavers(client, county))["data"]["primaryLeaversNotEnrolled"])


# --- 中考 registration ---------------------------------------------------------------------------------


async def test_grade_9_pupils_missing_from_the_applied_exam_roster_are_the_gaps(client, session):
    """Every grade-9 pupil of the school year is checked against the county's applied EXAM_REGISTRATION
    rosters: matched on the national ID, else (a row without one) on the registry number. A staged roster
    counts for nothing until applied."""
    county = await token_for(client, COUNTY_EDU)
    by_id, by_registry, missing = [await grade9(client, county) for _ in range(3)]
    known = await identity(session, by_id)
    registry_only = await identity(session, by_registry)
    registry_only.registry_number = f"G{registry_only.national_id}"
    session.add(registry_only)
    await session.flush()
    rows = [
        [known.name, known.national_id, f"G{known.national_id}", WUDING_JUNIOR, "2027530001"],
        ["外籍学生", "", registry_only.registry_number, WUDING_JUNIOR, "2027530002", "2012-05-06", "男", "外籍"],
    ]
    headers_extra = ["出生日期", "性别", "无身份证原因"]
    response = await upload_exam_roster(
        client, COUNTY_EDU, [[*rows[0], "", "", ""], rows[1]], as_of=date(2026, 11, 20), extra=headers_extra
    )
    assert response.status_code == 201, response.text
    batch = response.json()
    assert batch["counts"]["valid"] == 2

    staged = (await gaps(client, county))["data"]["examRegistrationGaps"]
    assert {by_id["id"], by_registry["id"], missing["id"]} <= names(staged)

    applied = await apply_batch(client, COUNTY_EDU, batch["id"])
    assert applied["errors"] == [], applied
    assert applied["rosterImport"]["status"] == "APPLIED"
    page = (await gaps(client, county))["data"]["examRegistrationGaps"]
    assert page["schoolYear"] == 2026
    assert missing["id"] in names(page)
    assert {by_id["id"], by_registry["id"]} & names(page) == set()
    # The school sees its own gaps too.
    school = await token_for(client, f"staff-school-{WUDING_JUNIOR}")
    assert missing["id"] in names((await gaps(client, school))["data"]["examRegistrationGaps"])


async def test_the_exam_roster_needs_its_columns_and_refuses_rows_outside_the_county(client, session):
    """The kind's columns (models/roster.py): 学籍号, 学校标识码 and 报名号 besides 姓名 and 公民身份号码; a file
    without 报名号 is refused whole; a row of a school of another county is refused (counted out of scope), a
    row with an empty 报名号 refused with REQUIRED."""
    county = await token_for(client, COUNTY_EDU)
    pupil = await identity(session, await grade9(client, county))
    no_column = await upload_exam_roster(
        client,
        COUNTY_EDU,
        [[pupil.name, pupil.national_id, "G1", WUDING_JUNIOR]],
        as_of=date(2026, 11, 20),
        headers=["姓名", "公民身份号码", "学籍号", "学校标识码"],
    )
    assert no_column.status_code == 400, no_column.text
    assert "报名号" in no_column.text
    mixed = await upload_exam_roster(
        client,
        COUNTY_EDU,
        [
            [pupil.name, pupil.national_id, f"G{pupil.national_id}", WUDING_JUNIOR, ""],
            [pupil.name, pupil.national_id, f"G{pupil.national_id}", YUANMOU_PRIMARY, "2027530009"],
        ],
        as_of=date(2026, 11, 21),
    )
    assert mixed.status_code == 201, mixed.text
    counts = mixed.json()["counts"]
    assert (counts["valid"], counts["refused"], counts["outOfScope"]) == (0, 2, 1)


async def test_applying_an_exam_roster_registers_no_child(client, session):
    """A registration of a pupil baoxue does not know stays a row without a child (EVIDENCE_ONLY)."""
    from sqlalchemy import func, select

    from datagen.demo.seed import national_id
    from models.child import Child

    stranger = national_id("532329", date(2011, 8, 8), 7791, male=False)
    before = await session.scalar(select(func.count()).select_from(Child))
    response = await upload_exam_roster(
        client,
        COUNTY_EDU,
        [["陌生考生", stranger, f"G{stranger}", WUDING_JUNIOR, "2027530077"]],
        as_of=date(2026, 11, 22),
    )
    assert response.status_code == 201, response.text
    applied = await apply_batch(client, COUNTY_EDU, response.json()["id"])
    assert applied["errors"] == [], applied
    assert applied["rosterImport"]["counts"]["new"] == 1
    assert await session.scalar(select(func.count()).select_from(Child)) == before


async def test_a_gap_is_explained_by_the_school_or_the_county_with_a_typed_reason(client):
    """查明原因、做出说明: a reason from the list, a note (required for OTHER), revised under its version;
    DROPOUT needs the pupil on a ledger; a pupil who is no gap cannot be explained."""
    county = await token_for(client, COUNTY_EDU)
    school = await token_for(client, f"staff-school-{WUDING_JUNIOR}")
    missing = await grade9(client, county)
    assert codes(await explain(client, school, missing, "OTHER", year=2026)) == ["NOTE_REQUIRED"]
    assert codes(await explain(client, school, missing, "DROPOUT", year=2026)) == ["LEDGER_ENTRY_REQUIRED"]
    first = await explain(client, school, missing, "EMPLOYMENT", year=2026, note="随父母务工")
    assert first["errors"] == []
    assert first["explanation"] == {
        "reason": "EMPLOYMENT",
        "note": "随父母务工",
        "explainedBy": f"staff-school-{WUDING_JUNIOR}",
        "version": 1,
    }
    again = await explain(client, county, missing, "ABROAD", year=2026)
    assert codes(again) == ["CONFLICT"]  # a second first explanation loses
    stale = await explain(client, county, missing, "ABROAD", year=2026, version=5)
    assert codes(stale) == ["CONFLICT"]
    revised = await explain(client, county, missing, "ABROAD", year=2026, version=1, note="随家人出国")
    assert revised["errors"] == []
    assert (revised["explanation"]["reason"], revised["explanation"]["version"]) == ("ABROAD", 2)

    listed = (await gaps(client, county, explained=True))["data"]["examRegistrationGaps"]
    node = next(e["node"] for e in listed["edges"] if e["node"]["student"]["id"] == missing["id"])
    assert node["explanation"]["reason"] == "ABROAD"
    assert missing["id"] not in names((await gaps(client, county, explained=False))["data"]["examRegistrationGaps"])

    third_grader = await make_student(client, county, grade=3)
    assert codes(await explain(client, county, third_grader, "ILLNESS", year=2026)) == ["NOT_A_GAP"]

    # The explanation is an entity (issue 17 §2): its id resolves for the school and the county, not a neighbour.
    query = "query($id: ID!) { node(id: $id) { id ... on ExamGapExplanation { reason version } } }"
    with_id = """{ examRegistrationGaps(filter: {explained: true}) { edges { node { student { id }
      explanation { id } } } } }"""
    edges = (await gql(client, with_id, None, county))["data"]["examRegistrationGaps"]["edges"]
    [explanation_id] = [e["node"]["explanation"]["id"] for e in edges if e["node"]["student"]["id"] == missing["id"]]
    for reader in (county, school):
        found = (await gql(client, query, {"id": explanation_id}, reader))["data"]["node"]
        assert found == {"id": explanation_id, "reason": "ABROAD", "version": 2}
    neighbour = await token_for(client, "edu-county-532328")
    assert (await gql(client, query, {"id": explanation_id}, neighbour))["data"]["node"] is None


async def test_out_of_scope_users_cannot_read_or_explain_the_gaps(client):
    """A sibling county neither sees nor explains Wuding's gaps; another school's staff cannot explain them;
    the city is refused the list and reads counts; the county government has no such list (education line)."""
    county = await token_for(client, COUNTY_EDU)
    missing = await grade9(client, county)
    neighbour = await token_for(client, NEIGHBOUR_EDU)
    assert missing["id"] not in names((await gaps(client, neighbour))["data"]["examRegistrationGaps"])
    assert unknown_region(await gaps(client, neighbour, regionCode="532329"))
    assert codes(await explain(client, neighbour, missing, "ILLNESS", year=2026)) == ["NOT_A_GAP"]
    primary_staff = await token_for(client, STAFF)
    assert codes(await explain(client, primary_staff, missing, "ILLNESS", year=2026)) == ["NOT_A_GAP"]

    city = await token_for(client, CITY_EDU)
    refused = await gaps(client, city)
    assert error_codes(refused) == ["FORBIDDEN"]
    assert refused["data"]["examRegistrationGaps"] is None
    explained = await explain(client, city, missing, "ILLNESS", year=2026)
    assert error_codes(explained) == ["FORBIDDEN"]
    counts = await gql(client, GAP_COUNTS, {"r": "5323", "y": 2026, "by": "COUNTY"}, city)
    assert error_codes(counts) == []
    row = next(r for r in counts["data"]["examRegistrationGapCounts"] if r["regionCode"] == "532329")
    assert row["gaps"] >= 1
    assert row["unexplained"] == row["gaps"] - row["explained"]
    assert unknown_region(await gql(client, GAP_COUNTS, {"r": "532329", "y": 2026, "by": "COUNTY"}, neighbour))


# --- the gate on the county's report of the graduation term ----------------------------------------------


async def test_the_countys_june_quarter_waits_for_every_gap_to_be_explained(client):
    """003 二(二): the county's report covering the graduation term (the quarter 2026-Q2 holds 30 June 2026,
    the end of school year 2025–26) is refused while a grade-9 graduate of that year missing from the 中考
    registrations has no explanation; explained, it goes."""
    county = await token_for(client, COUNTY_EDU)
    graduate = await grade9(client, county, graduated=date(2026, 7, 1))
    drafted = await draft_county(client, county, "2026-Q2")
    assert drafted["errors"] == [], drafted
    signed = await countersign(client, await token_for(client, COUNTY_GOV), drafted["report"])
    assert signed["errors"] == [], signed
    refused = await submit(client, county, signed["report"])
    assert codes(refused) == ["EXAM_GAPS_UNEXPLAINED"]
    assert "1 grade-9 pupils" in refused["errors"][0]["message"]
    assert "未报名中考" in refused["errors"][0]["message"]

    # The first quarter holds no 30 June: not gated.
    assert (await gaps(client, county, schoolYear=2025))["data"]["examRegistrationGaps"]["totalCount"] == 1
    explained = await explain(client, county, graduate, "EMPLOYMENT", year=2025, note="已就业")
    assert explained["errors"] == []
    sent = await submit(client, county, signed["report"])
    assert sent["errors"] == [], sent
    assert sent["report"]["status"] == "SUBMITTED"


# --- 初二 --------------------------------------------------------------------------------------------------


async def test_grade_8_pupils_are_flagged_by_the_same_attendance_rule_as_everyone(client):
    """003 二(二) 紧盯…初二学期: no rule of its own (docs/POLICY.md "Key transitions"): a grade-8 pupil absent
    five school days without leave has nothing opened, the sixth opens a suspected entry, as for any pupil
    (003 annex 1 note 1, tests/test_attendance_rules.py)."""
    county = await token_for(client, COUNTY_EDU)
    staff = await token_for(client, f"staff-school-{WUDING_JUNIOR}")
    second_year = await make_student(client, county, school=WUDING_JUNIOR, grade=8, birth=date(2012, 4, 5))
    week = await record_absent(client, staff, second_year["id"], school_days(date(2026, 9, 7), date(2026, 9, 11)))
    assert [len(p["opened"]) for p in week] == [0, 0, 0, 0, 0]
    [sixth] = await record_absent(client, staff, second_year["id"], [date(2026, 9, 14)])
    [entry] = sixth["opened"]
    assert (entry["student"]["id"], entry["ledger"], entry["source"], entry["openedOn"]) == (
        second_year["id"],
        "SUSPECTED",
        "ATTENDANCE",
        "2026-09-14",
    )
    assert entry["evidence"]["schoolDaysAbsent"] == 6
