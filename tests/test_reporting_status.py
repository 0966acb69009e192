"""`reportingStatus` through the API (issue 6 item 7): who has not submitted for a period, at every level, and
how many days late — the tree from a region down to the units of the period's cadence (POLICY 004 §4–§7)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import event

from models import CitySetting, ProvinceSetting
from models.base import today
from tests.conftest import gql, token_for
from tests.ledger_support import WUDING, WUDING_PRIMARY, YUANMOU
from tests.report_support import (
    CITY_EDU,
    COUNTY_EDU,
    COUNTY_GOV,
    MINISTRY,
    NEIGHBOUR_EDU,
    PRINCIPAL,
    countersign,
    draft_county,
    draft_school,
    review,
    submit,
)

WUDING_JUNIOR = "2153000035"  # 武定县第二中学
WUDING_HUANZHOU = "2153000037"  # 武定县环州乡中心小学
PROVINCE_EDU = "edu-province-53"
MARCH_DUE = date(2026, 4, 5)  # 一月一报告: day 5 of the next month (the default rules)

UNIT = "code name level reportId status dueOn submittedAt submitted daysLate overdue"
NODE = f"code name level expected submitted approved notSubmitted overdue maxDaysLate units {{ {UNIT} }}"
STATUS = f"""query($region: String!, $period: String!) {{ reportingStatus(regionCode: $region, period: $period) {{
  period cadence unitLevel periodStart periodEnd asOf
  root {{ {NODE} children {{ {NODE} children {{ {NODE} children {{ {NODE} }} }} }} }} }} }}"""
SCHOOLS = """query($region: String) { schools(filter: {regionCode: $region}, first: 100) {
  totalCount edges { node { code name } } } }"""
REGIONS = """query($parent: String, $level: RegionLevel) { regions(filter: {parentCode: $parent, level: $level},
  first: 100) { edges { node { code name } } } }"""


async def status(client: Any, token: str, region: str, period: str) -> Any:
    return await gql(client, STATUS, {"region": region, "period": period}, token)


async def tree(client: Any, token: str, region: str, period: str) -> dict[str, Any]:
    result = await status(client, token, region, period)
    assert "errors" not in result, result["errors"]
    return result["data"]["reportingStatus"]  # type: ignore[no-any-return]


def reasons(result: dict[str, Any]) -> list[str]:
    return [e["extensions"].get("reason") for e in result.get("errors") or []]


async def schools_of(client: Any, token: str, region: str) -> dict[str, str]:
    page = (await gql(client, SCHOOLS, {"region": region}, token))["data"]["schools"]
    return {e["node"]["code"]: e["node"]["name"] for e in page["edges"]}


async def regions_below(client: Any, token: str, parent: str, level: str | None = None) -> list[str]:
    page = await gql(client, REGIONS, {"parent": parent, "level": level}, token)
    return [e["node"]["code"] for e in page["data"]["regions"]["edges"]]


async def submitted_march_of(client: Any, school: str) -> dict[str, Any]:
    """The school's March report, drafted by its staff and submitted by its principal."""
    drafted = await draft_school(client, await token_for(client, f"staff-school-{school}"), school=school)
    assert drafted["errors"] == [], drafted["errors"]
    sent = await submit(client, await token_for(client, f"edu-school-{school}"), drafted["report"])
    assert sent["errors"] == [], sent["errors"]
    return sent["report"]  # type: ignore[no-any-return]


def counts(node: dict[str, Any]) -> tuple[int, ...]:
    return tuple(node[k] for k in ("expected", "submitted", "approved", "notSubmitted", "overdue", "maxDaysLate"))


async def test_the_county_tree_lists_every_school_with_its_standing(client):
    """POLICY 004 §4 (一月一报告) and issue 6 item 7: the county sees each of its schools' March standing. One
    school's report was approved, one's submitted; the third has only a draft, which the county does not
    see (a draft goes up when submitted), so it has not started for the county and is overdue by the
    days from the deadline to today."""
    county = await token_for(client, COUNTY_EDU)
    approved = await submitted_march_of(client, WUDING_PRIMARY)
    assert (await review(client, county, approved, "APPROVE"))["errors"] == []
    junior = await submitted_march_of(client, WUDING_JUNIOR)
    staff = await token_for(client, f"staff-school-{WUDING_HUANZHOU}")
    assert (await draft_school(client, staff, school=WUDING_HUANZHOU))["errors"] == []

    found = await tree(client, county, WUDING, "2026-03")
    assert (found["period"], found["cadence"], found["unitLevel"]) == ("2026-03", "MONTH", "SCHOOL")
    assert (found["periodStart"], found["periodEnd"], found["asOf"]) == ("2026-03-01", "2026-03-31", str(today()))
    root = found["root"]
    assert (root["code"], root["level"], root["children"]) == (WUDING, "COUNTY", [])
    schools = await schools_of(client, county, WUDING)
    assert [(u["code"], u["name"]) for u in root["units"]] == sorted(schools.items())
    owed = (today() - MARCH_DUE).days
    units = {u["code"]: u for u in root["units"]}
    assert {c: u["status"] for c, u in units.items()} == {
        WUDING_PRIMARY: "APPROVED",
        WUDING_JUNIOR: "SUBMITTED",
        WUDING_HUANZHOU: "NOT_STARTED",
    }
    assert {(u["level"], u["dueOn"]) for u in units.values()} == {("SCHOOL", MARCH_DUE.isoformat())}
    for code, report in ((WUDING_PRIMARY, approved), (WUDING_JUNIOR, junior)):
        unit = units[code]
        assert (unit["reportId"], unit["submitted"], unit["overdue"]) == (report["id"], True, False)
        assert unit["daysLate"] == report["daysLate"] == owed  # as stored at submission: today, after 5 April
        assert unit["submittedAt"] is not None
    waiting = units[WUDING_HUANZHOU]
    assert (waiting["reportId"], waiting["submittedAt"], waiting["submitted"]) == (None, None, False)
    assert (waiting["overdue"], waiting["daysLate"]) == (True, (today() - MARCH_DUE).days)
    assert counts(root) == (3, 2, 1, 1, 1, owed)


async def test_the_city_tree_nests_its_counties_and_their_schools(client):
    """POLICY 004 §6 (the city researches its counties): the city's March tree has one node per county, each
    with its schools; the totals are the sums; a county's counts are what the county sees."""
    await submitted_march_of(client, WUDING_PRIMARY)
    city = await token_for(client, CITY_EDU)
    root = (await tree(client, city, "5323", "2026-03"))["root"]
    assert (root["code"], root["level"], root["units"]) == ("5323", "CITY", [])
    counties = await regions_below(client, city, "5323", "COUNTY")
    assert [c["code"] for c in root["children"]] == sorted(counties)
    everyone = await schools_of(client, city, "5323")
    assert root["expected"] == len(everyone) == sum(c["expected"] for c in root["children"])
    for node in root["children"]:
        assert node["level"] == "COUNTY"
        assert node["children"] == []
        assert sorted(u["code"] for u in node["units"]) == sorted(await schools_of(client, city, node["code"]))
    wuding = next(c for c in root["children"] if c["code"] == WUDING)
    owed = (today() - MARCH_DUE).days
    assert counts(wuding) == (3, 1, 0, 2, 2, owed)
    assert counts(root) == (len(everyone), 1, 0, len(everyone) - 1, len(everyone) - 1, owed)
    as_county = (await tree(client, await token_for(client, COUNTY_EDU), WUDING, "2026-03"))["root"]
    assert wuding == as_county

    # The province sees the same county inside its city.
    province = (await tree(client, await token_for(client, PROVINCE_EDU), "53", "2026-03"))["root"]
    chuxiong = next(c for c in province["children"] if c["code"] == "5323")
    assert [c["code"] for c in chuxiong["children"]] == [c["code"] for c in root["children"]]
    assert counts(chuxiong) == counts(root)


async def test_a_quarter_lists_the_counties_and_a_county_sees_its_own_draft(client):
    """POLICY 004 §5 (一季度一复核): for a quarter the reporting units are the counties, due 15 days after it.
    The county sees its own draft; the city sees the county's report once it is submitted (countersigned
    first by the county government, 004 §5)."""
    county = await token_for(client, COUNTY_EDU)
    drafted = (await draft_county(client, county, "2026-Q1"))["report"]
    own = (await tree(client, county, WUDING, "2026-Q1"))["root"]
    assert (own["code"], own["children"]) == (WUDING, [])
    assert [(u["code"], u["level"], u["status"], u["dueOn"]) for u in own["units"]] == [
        (WUDING, "COUNTY", "DRAFT", "2026-04-15")
    ]
    assert counts(own) == (1, 0, 0, 1, 1, (today() - date(2026, 4, 15)).days)

    city = await token_for(client, CITY_EDU)
    found = await tree(client, city, "5323", "2026-Q1")
    assert (found["cadence"], found["unitLevel"]) == ("QUARTER", "COUNTY")
    root = found["root"]
    assert root["children"] == []
    assert [u["code"] for u in root["units"]] == sorted(await regions_below(client, city, "5323", "COUNTY"))
    assert {u["level"] for u in root["units"]} == {"COUNTY"}
    assert next(u for u in root["units"] if u["code"] == WUDING)["status"] == "NOT_STARTED"  # a draft stays home

    signed = await countersign(client, await token_for(client, COUNTY_GOV), drafted)
    assert (await submit(client, county, signed["report"]))["errors"] == []
    root = (await tree(client, city, "5323", "2026-Q1"))["root"]
    wuding = next(u for u in root["units"] if u["code"] == WUDING)
    assert (wuding["status"], wuding["reportId"], wuding["submitted"]) == ("SUBMITTED", drafted["id"], True)
    assert (root["submitted"], root["notSubmitted"]) == (1, len(root["units"]) - 1)

    # A province's quarter: its cities, each with its counties.
    province = (await tree(client, await token_for(client, PROVINCE_EDU), "53", "2026-Q1"))["root"]
    assert [c["code"] for c in province["children"]] == sorted(await regions_below(client, city, "53", "CITY"))
    chuxiong = next(c for c in province["children"] if c["code"] == "5323")
    assert [u["code"] for u in chuxiong["units"]] == [u["code"] for u in root["units"]]
    assert province["expected"] == sum(c["expected"] for c in province["children"])


async def test_semesters_list_cities_and_school_years_provinces(client):
    """POLICY 004 §6–§7: a semester's units are the cities, a school year's the provinces (due 31 July, set by
    the ministry), which the ministry reads from the nation down."""
    province = await tree(client, await token_for(client, PROVINCE_EDU), "53", "2026-SPRING")
    assert (province["cadence"], province["unitLevel"]) == ("SEMESTER", "CITY")
    assert {(u["level"], u["dueOn"]) for u in province["root"]["units"]} == {("CITY", "2026-07-15")}
    nation = await tree(client, await token_for(client, MINISTRY), "CN", "2025-2026")
    assert (nation["cadence"], nation["unitLevel"], nation["root"]["level"]) == ("SCHOOL_YEAR", "PROVINCE", "NATION")
    assert "53" in [u["code"] for u in nation["root"]["units"]]
    assert {u["dueOn"] for u in nation["root"]["units"]} == {"2026-07-31"}


async def test_guyuans_term_survey_is_owed_by_the_counties_of_cities_that_keep_it(client, session):
    """POLICY 003 §2(二): the term survey is the counties' report where the city keeps that calendar (固原市's
    own choice); elsewhere nobody owes it. Due on the survey day itself (003 annex 1 note 4)."""
    city = await token_for(client, CITY_EDU)
    off = await tree(client, city, "5323", "2026-SPRING-MIDTERM")
    assert (off["cadence"], off["unitLevel"], off["root"]["expected"]) == ("TERM_SURVEY", "COUNTY", 0)
    session.add(CitySetting(city_code="5323", province_code="53", term_survey_enabled=True))
    await session.flush()
    counties = await gql(client, REGIONS, {"parent": "5323", "level": "COUNTY"}, city)
    on = await tree(client, city, "5323", "2026-SPRING-MIDTERM")
    assert sorted(u["code"] for u in on["root"]["units"]) == sorted(
        e["node"]["code"] for e in counties["data"]["regions"]["edges"]
    )
    assert {u["dueOn"] for u in on["root"]["units"]} == {"2026-04-30"}
    assert on["root"]["overdue"] == on["root"]["expected"]


async def test_deadlines_are_the_provinces_own(client, session):
    """Issue 6 §3: each province sets its deadlines (province_setting); overdue days count from its own."""
    setting = await session.get(ProvinceSetting, "53") or ProvinceSetting(province_code="53")
    setting.school_report_due_day = 10
    session.add(setting)
    await session.flush()
    root = (await tree(client, await token_for(client, COUNTY_EDU), WUDING, "2026-03"))["root"]
    assert {(u["dueOn"], u["daysLate"]) for u in root["units"]} == {("2026-04-10", (today() - date(2026, 4, 10)).days)}


async def test_a_neighbour_and_the_levels_below_are_refused(client):
    """双线四级 (ARCHITECTURE §4): a level never sees a sibling's data, and the levels below do not read the level
    above's tree: both answer UNKNOWN_REGION, as for a region that does not exist (issue 17 §4)."""
    neighbour = await token_for(client, NEIGHBOUR_EDU)
    assert reasons(await status(client, neighbour, WUDING, "2026-03")) == ["UNKNOWN_REGION"]
    assert reasons(await status(client, neighbour, "532399", "2026-03")) == ["UNKNOWN_REGION"]
    own = (await tree(client, neighbour, YUANMOU, "2026-03"))["root"]
    assert sorted(u["code"] for u in own["units"]) == sorted(await schools_of(client, neighbour, YUANMOU))
    assert reasons(await status(client, await token_for(client, PRINCIPAL), WUDING, "2026-03")) == ["UNKNOWN_REGION"]
    county = await token_for(client, COUNTY_EDU)
    assert reasons(await status(client, county, "5323", "2026-03")) == ["UNKNOWN_REGION"]
    assert reasons(await status(client, county, "CN", "2025-2026")) == ["UNKNOWN_REGION"]
    assert reasons(await status(client, county, WUDING, "2026-13")) == ["BAD_PERIOD"]
    assert reasons(await status(client, county, WUDING, "2026-SPRING")) == ["BAD_LEVEL"]  # cities report it


async def test_the_tree_costs_the_same_few_queries_at_every_size(client, engine):
    """Issue 6 item 7 "make it fast": one read each for the regions, the schools and the period's reports,
    never one per node: the province's tree takes as many statements as one county's."""
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    province, county = await token_for(client, PROVINCE_EDU), await token_for(client, COUNTY_EDU)
    await tree(client, county, WUDING, "2026-03")  # the first request loads the grants: not the tree's cost
    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        sizes = []
        for token, region in ((county, WUDING), (province, "53")):
            statements.clear()
            found = await tree(client, token, region, "2026-03")
            sizes.append((found["root"]["expected"], len(statements)))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    (few, small), (many, large) = sizes
    assert many > few
    assert large == small
    assert small <= 6  # the account, the region asked about, the three reads, the provinces' settings
