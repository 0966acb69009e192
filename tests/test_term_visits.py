"""Term-start visits through the API (POLICY 004 §5: "每年春季、秋季开学时节，要确保开展一次'学校全覆盖、学生逐一核'式
的进校、入户实地深度调研"): the county bureau records one visit per school and term, and coverage is its
schools visited over its schools; a city reads it per county."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlmodel import col, select

from models import AuditLog, ProvinceSetting, TermVisit
from models.base import today
from tests.conftest import error_codes, gql, input_refusals, token_for
from tests.ledger_support import WUDING, WUDING_PRIMARY, YUANMOU
from tests.report_support import (
    CITY_EDU,
    COUNTY_EDU,
    COUNTY_GOV,
    NEIGHBOUR_EDU,
    PRINCIPAL,
    codes,
    countersign,
    draft_county,
    submit,
)

WUDING_JUNIOR = "2153000035"  # 武定县第二中学
TERM = "2026-AUTUMN"

VISIT = (
    "id term schoolCode schoolName countyCode visitedOn studentsChecked householdsVisited findings recordedBy version"
)
RECORD = f"""mutation($input: RecordTermVisitInput!) {{ recordTermVisit(input: $input) {{
  visit {{ {VISIT} }} errors {{ field code message }} }} }}"""
COVERAGE_FIELDS = """regionCode regionName level term termStart termEnd schools visited rate complete
  visits { schoolCode visitedOn studentsChecked version } notVisited { code name }"""
COVERAGE = f"""query($region: String!, $term: String!) {{ termVisitCoverage(regionCode: $region, term: $term) {{
  {COVERAGE_FIELDS} counties {{ {COVERAGE_FIELDS} }} }} }}"""
SCHOOLS = """query($region: String) { schools(filter: {regionCode: $region}, first: 100) {
  totalCount edges { node { code name } } } }"""
COUNTIES = """query($parent: String) { regions(filter: {parentCode: $parent, level: COUNTY}, first: 100) {
  edges { node { code name } } } }"""
REPORT_COVERAGE = f"""query($id: ID!) {{ report(id: $id) {{ period termVisitCoverage {{ {COVERAGE_FIELDS} }} }} }}"""


async def frozen_visits(client: Any, token: str, report_id: str) -> Any:
    query = "query($id: ID!) { report(id: $id) { current { termVisits { term visited schools rate } } } }"
    return (await gql(client, query, {"id": report_id}, token))["data"]["report"]["current"]["termVisits"]


async def record(client: Any, token: str, school: str = WUDING_PRIMARY, **overrides: Any) -> Any:
    values = {
        "schoolCode": school,
        "term": TERM,
        "visitedOn": "2026-09-10",
        "studentsChecked": 412,
        "householdsVisited": 37,
        "findings": "两名学生外出务工，已入户劝返",
    } | overrides
    result = await gql(client, RECORD, {"input": values}, token)
    return result["data"]["recordTermVisit"] if result.get("data") else result


async def coverage(client: Any, token: str, region: str = WUDING, term: str = TERM) -> Any:
    return await gql(client, COVERAGE, {"region": region, "term": term}, token)


def reasons(result: dict[str, Any]) -> list[str]:
    return [e["extensions"].get("reason") for e in result.get("errors") or []]


async def schools_of(client: Any, token: str, region: str) -> dict[str, str]:
    """The region's schools as the `schools` query lists them: an independent count of the denominator."""
    page = (await gql(client, SCHOOLS, {"region": region}, token))["data"]["schools"]
    assert page["totalCount"] == len(page["edges"])
    return {e["node"]["code"]: e["node"]["name"] for e in page["edges"]}


async def test_coverage_is_the_schools_visited_over_the_county_schools(client, session):
    """POLICY 004 §5 "学校全覆盖、学生逐一核": every visit is recorded per school, and coverage counts the county's
    schools visited against all of its schools; the record is audited (ARCHITECTURE §5)."""
    county = await token_for(client, COUNTY_EDU)
    first = await record(client, county)
    assert first["errors"] == []
    visit = first["visit"]
    assert (visit["term"], visit["schoolCode"], visit["countyCode"], visit["version"]) == (
        TERM,
        WUDING_PRIMARY,
        WUDING,
        1,
    )
    assert (visit["visitedOn"], visit["studentsChecked"], visit["recordedBy"]) == ("2026-09-10", 412, COUNTY_EDU)
    assert (await record(client, county, WUDING_JUNIOR, visitedOn="2026-09-15", studentsChecked=0))["errors"] == []

    schools = await schools_of(client, county, WUDING)
    found = (await coverage(client, county))["data"]["termVisitCoverage"]
    visited = {WUDING_PRIMARY, WUDING_JUNIOR}
    assert (found["regionCode"], found["level"], found["term"]) == (WUDING, "COUNTY", TERM)
    assert (found["termStart"], found["termEnd"]) == ("2026-09-01", "2026-12-31")
    assert (found["schools"], found["visited"]) == (len(schools), len(visited))
    assert found["rate"] == len(visited) / len(schools)
    assert found["complete"] is (len(schools) == len(visited))
    assert [v["schoolCode"] for v in found["visits"]] == sorted(visited)
    assert {s["code"]: s["name"] for s in found["notVisited"]} == {c: n for c, n in schools.items() if c not in visited}
    assert found["counties"] == []

    # The spring term has no visits yet.
    spring = (await coverage(client, county, term="2026-SPRING"))["data"]["termVisitCoverage"]
    assert (spring["visited"], spring["schools"], spring["visits"]) == (0, len(schools), [])

    # Every school visited: covered in full.
    for code in set(schools) - visited:
        assert (await record(client, county, code))["errors"] == []
    full = (await coverage(client, county))["data"]["termVisitCoverage"]
    assert (full["visited"], full["rate"], full["complete"], full["notVisited"]) == (len(schools), 1.0, True, [])

    audited = (await session.scalars(select(AuditLog).where(col(AuditLog.action) == "term_visit.record"))).all()
    assert len(audited) == len(schools)
    assert {a.actor for a in audited} == {COUNTY_EDU}


async def test_a_stale_version_conflicts_and_nothing_is_overwritten(client):
    """ARCHITECTURE §5 optimistic versioning: a correction carries the version it read; a stale one is a CONFLICT,
    and recording a visit the school already has (no version) is one too, never a silent overwrite."""
    county = await token_for(client, COUNTY_EDU)
    visit = (await record(client, county))["visit"]
    corrected = await record(client, county, studentsChecked=415, findings="补充核查 3 人", version=visit["version"])
    assert corrected["errors"] == []
    assert (corrected["visit"]["studentsChecked"], corrected["visit"]["version"]) == (415, visit["version"] + 1)
    assert corrected["visit"]["id"] == visit["id"]

    stale = await record(client, county, studentsChecked=1, version=visit["version"])
    assert [(e["field"], e["code"]) for e in stale["errors"]] == [("version", "CONFLICT")]
    again = await record(client, county, studentsChecked=1)
    assert [(e["field"], e["code"]) for e in again["errors"]] == [("version", "CONFLICT")]
    now = (await coverage(client, county))["data"]["termVisitCoverage"]["visits"]
    assert [(v["studentsChecked"], v["version"]) for v in now if v["schoolCode"] == WUDING_PRIMARY] == [
        (415, visit["version"] + 1)
    ]


async def test_the_visit_falls_in_its_term_from_the_provinces_term_start(client, session):
    """POLICY 004 §5 "开学时节": the visit is in the term, from the province's term start (province_setting)
    to the half-year's end, and not in the future; the term is a semester code; counts are not negative."""
    county = await token_for(client, COUNTY_EDU)
    before_term = await record(client, county, visitedOn="2026-08-28")
    assert [(e["field"], e["code"]) for e in before_term["errors"]] == [("visitedOn", "VISIT_OUT_OF_TERM")]
    assert "2026-09-01" in before_term["errors"][0]["message"]
    other_half = await record(client, county, visitedOn="2026-05-10")
    assert codes(other_half) == ["VISIT_OUT_OF_TERM"]
    tomorrow = today() + timedelta(days=1)
    future_term = f"{tomorrow.year}-{'SPRING' if tomorrow.month <= 6 else 'AUTUMN'}"
    future = await record(client, county, term=future_term, visitedOn=tomorrow.isoformat())
    assert [(e["field"], e["code"]) for e in future["errors"]] == [("visitedOn", "FUTURE_DATE")]
    assert [(e["field"], e["code"]) for e in (await record(client, county, term="2026-FALL"))["errors"]] == [
        ("term", "BAD_PERIOD")
    ]
    negative = await record(client, county, householdsVisited=-1)
    assert input_refusals(negative) == [("input.householdsVisited", "OUT_OF_RANGE")]
    assert input_refusals(await record(client, county, findings="查" * 2001)) == [("input.findings", "TOO_LONG")]
    assert (await session.scalars(select(TermVisit))).all() == []

    # A province whose spring term starts on 20 February: a visit on the 25th is in the term.
    early = date(2026, 2, 25)
    assert codes(await record(client, county, term="2026-SPRING", visitedOn=early.isoformat())) == ["VISIT_OUT_OF_TERM"]
    setting = await session.get(ProvinceSetting, "53") or ProvinceSetting(province_code="53")
    setting.spring_term_start_month, setting.spring_term_start_day = 2, 20
    session.add(setting)
    await session.flush()
    assert (await record(client, county, term="2026-SPRING", visitedOn=early.isoformat()))["errors"] == []
    spring = (await coverage(client, county, term="2026-SPRING"))["data"]["termVisitCoverage"]
    assert (spring["termStart"], spring["visited"]) == ("2026-02-20", 1)


async def test_a_neighbouring_county_neither_records_nor_reads_wuding(client, session):
    """双线四级 (ARCHITECTURE §4): a level never sees a sibling's data; POLICY 004 §5: each county visits
    its own schools."""
    neighbour = await token_for(client, NEIGHBOUR_EDU)
    refused = await record(client, neighbour)
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("schoolCode", "UNKNOWN_SCHOOL")]
    assert reasons(await coverage(client, neighbour)) == ["UNKNOWN_REGION"]
    assert reasons(await coverage(client, neighbour, region="532399")) == ["UNKNOWN_REGION"]  # no such region
    own = (await coverage(client, neighbour, region=YUANMOU))["data"]["termVisitCoverage"]
    assert own["regionCode"] == YUANMOU
    assert (await session.scalars(select(TermVisit))).all() == []


async def test_only_the_schools_own_county_bureau_records_a_visit(client, session):
    """POLICY 004 §5: the county organises the visit. The school's principal, the county government and the city
    see the school but do not record the county's visit (FORBIDDEN); a principal does not read the county's
    coverage (UNKNOWN_REGION, as for a region that does not exist), and nothing is written or audited."""
    for account in (PRINCIPAL, COUNTY_GOV, CITY_EDU):
        token = await token_for(client, account)
        assert error_codes(await record(client, token)) == ["FORBIDDEN"], account
    principal = await token_for(client, PRINCIPAL)
    assert reasons(await coverage(client, principal)) == ["UNKNOWN_REGION"]
    assert reasons(await coverage(client, await token_for(client, COUNTY_EDU), region="5323")) == ["UNKNOWN_REGION"]
    assert (await session.scalars(select(TermVisit))).all() == []
    audited = await session.scalars(select(AuditLog).where(col(AuditLog.action).like("term_visit.%")))
    assert audited.all() == []


async def test_the_city_reads_one_row_per_county_and_the_total(client):
    """POLICY 004 §6: the city researches its counties' work; coverage per county of the city, plus the total."""
    county = await token_for(client, COUNTY_EDU)
    assert (await record(client, county))["errors"] == []
    assert (await record(client, county, WUDING_JUNIOR))["errors"] == []
    city = await token_for(client, CITY_EDU)
    found = (await coverage(client, city, region="5323"))["data"]["termVisitCoverage"]
    counties = (await gql(client, COUNTIES, {"parent": "5323"}, city))["data"]["regions"]["edges"]
    assert [r["regionCode"] for r in found["counties"]] == sorted(e["node"]["code"] for e in counties)
    all_schools = await schools_of(client, city, "5323")
    assert (found["level"], found["schools"], found["visited"]) == ("CITY", len(all_schools), 2)
    assert found["rate"] == 2 / len(all_schools)
    assert sum(r["schools"] for r in found["counties"]) == len(all_schools)
    for row in found["counties"]:
        assert row["schools"] == len(await schools_of(client, city, row["regionCode"])), row["regionCode"]
        assert row["visited"] == (2 if row["regionCode"] == WUDING else 0)
    wuding = next(r for r in found["counties"] if r["regionCode"] == WUDING)
    assert [v["schoolCode"] for v in wuding["visits"]] == sorted([WUDING_PRIMARY, WUDING_JUNIOR])
    assert wuding["rate"] == 2 / wuding["schools"]


async def test_the_county_quarter_shows_the_coverage_of_the_term_starting_in_it(client):
    """POLICY 004 §5: the quarterly re-check and the term-start visit go together: the county's Q3 report shows
    the autumn term's coverage (the term starts on 1 September), Q2 none."""
    county = await token_for(client, COUNTY_EDU)
    assert (await record(client, county))["errors"] == []
    q3 = (await draft_county(client, county, "2026-Q3"))["report"]
    q2 = (await draft_county(client, county, "2026-Q2"))["report"]
    shown = (await gql(client, REPORT_COVERAGE, {"id": q3["id"]}, county))["data"]["report"]["termVisitCoverage"]
    direct = (await coverage(client, county))["data"]["termVisitCoverage"]
    assert shown == {k: v for k, v in direct.items() if k != "counties"}
    assert (shown["term"], shown["visited"]) == (TERM, 1)
    # Countersigned and submitted, the quarter goes up: the city reads the same coverage on it.
    signed = await countersign(client, await token_for(client, COUNTY_GOV), q3)
    assert (await submit(client, county, signed["report"]))["errors"] == []
    city = await token_for(client, CITY_EDU)
    as_city = (await gql(client, REPORT_COVERAGE, {"id": q3["id"]}, city))["data"]["report"]["termVisitCoverage"]
    assert as_city == shown
    # The version keeps the coverage as it stood when generated: a visit recorded since shows only live.
    frozen = {"term": TERM, "visited": 1, "schools": shown["schools"], "rate": 1 / shown["schools"]}
    assert (await frozen_visits(client, city, q3["id"])) == frozen
    neighbour = await token_for(client, NEIGHBOUR_EDU)
    query = "query($id: ID!) { report(id: $id) { current { termVisits { visited } } termVisitCoverage { visited } } }"
    assert (await gql(client, query, {"id": q3["id"]}, neighbour))["data"]["report"] is None
    assert (await record(client, county, school=WUDING_JUNIOR))["errors"] == []
    live = (await gql(client, REPORT_COVERAGE, {"id": q3["id"]}, city))["data"]["report"]["termVisitCoverage"]
    assert live["visited"] == 2
    assert (await frozen_visits(client, city, q3["id"])) == frozen
    none = (await gql(client, REPORT_COVERAGE, {"id": q2["id"]}, county))["data"]["report"]
    assert none == {"period": "2026-Q2", "termVisitCoverage": None}
