"""Province and city settings through the API (issue 14 §6): `provinceSettings` / `updateProvinceSettings` by
the province itself, `citySettings` / `updateCitySettings` by the city itself (Guyuan's term survey, 固原市),
each bounded, versioned, audited, and refused outside the caller's own level and place."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

from baoxue.database import downgrade, migrate
from models import AuditLog, Region, RegionLevel
from tests.conftest import codes, error_codes, gql, input_refusals, token_for
from tests.ledger_support import COUNTY_EDU, SCHOOL_AGE, WUDING
from tests.report_support import CHUXIONG, CITY_EDU, MINISTRY, OTHER_CITY_EDU, PROVINCE_EDU, draft_region
from tests.test_reporting_status import tree

PROVINCE_ADMIN = "admin-province-53"
CITY_ADMIN = "admin-city-5323"
OTHER_PROVINCE_EDU = "edu-province-64"
KUNMING, KUNMING_COUNTY = "5301", "530102"  # a sibling city of 楚雄州 in 云南省, added by the tests that need it
PASSWORD = "a-long-password-1"

PROVINCE_FIELDS = """provinceCode provinceName ageCutoffMonth ageCutoffDay schoolReportDueDay countyReportDueDays
  cityReportDueDays lateSubmissionAllowed cosignRequired version updatedAt"""
CITY_FIELDS = "id cityCode cityName provinceCode termSurveyEnabled version updatedAt"
READ_PROVINCE = f"query($code: String!) {{ provinceSettings(provinceCode: $code) {{ id {PROVINCE_FIELDS} }} }}"
READ_CITY = f"query($code: String!) {{ citySettings(cityCode: $code) {{ {CITY_FIELDS} }} }}"
UPDATE_PROVINCE = f"""mutation($input: UpdateProvinceSettingsInput!) {{ updateProvinceSettings(input: $input) {{
  settings {{ {PROVINCE_FIELDS} }} errors {{ field code message }} }} }}"""
UPDATE_CITY = f"""mutation($input: UpdateCitySettingsInput!) {{ updateCitySettings(input: $input) {{
  settings {{ {CITY_FIELDS} }} errors {{ field code message }} }} }}"""
NODE = "query($id: ID!) { node(id: $id) { ... on ProvinceSettings { provinceCode schoolReportDueDay } } }"


async def read_province(client: Any, token: str, code: str = "53") -> dict[str, Any]:
    return await gql(client, READ_PROVINCE, {"code": code}, token)


async def update_province(client: Any, token: str, **fields: Any) -> dict[str, Any]:
    return await gql(client, UPDATE_PROVINCE, {"input": {"provinceCode": "53", **fields}}, token)


async def update_city(client: Any, token: str, **fields: Any) -> dict[str, Any]:
    return await gql(client, UPDATE_CITY, {"input": {"cityCode": CHUXIONG, **fields}}, token)


def changed(result: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in result, result["errors"]
    return result["data"][name]  # type: ignore[no-any-return]


async def audit_rows(session: Any, action_prefix: str) -> list[AuditLog]:
    rows = await session.scalars(
        select(AuditLog).where(AuditLog.action.startswith(action_prefix)).order_by(AuditLog.id)
    )
    return list(rows)


async def add_kunming(client: Any, session: Any) -> str:
    """A sibling city (昆明市) with one county, and its education bureau's account (CITY_EDU at the city)."""
    session.add(Region(code=KUNMING, name="昆明市", level=RegionLevel.CITY, parent_code="53", path="53/5301"))
    await session.flush()
    county = Region(
        code=KUNMING_COUNTY, name="五华区", level=RegionLevel.COUNTY, parent_code=KUNMING, path="53/5301/530102"
    )
    session.add(county)
    await session.flush()
    admin = await token_for(client, PROVINCE_ADMIN)
    account = {"username": "km-edu", "displayName": "昆明市教育局", "jurisdictionCode": KUNMING, "password": PASSWORD}
    created = await gql(
        client,
        "mutation($i: CreateAccountInput!) { createAccount(input: $i) { errors { code } } }",
        {"i": account},
        admin,
    )
    assert created["data"]["createAccount"]["errors"] == []
    grant = {"username": "km-edu", "role": "CITY_EDU", "jurisdictionCode": KUNMING, "reason": "新任 / new post"}
    granted = await gql(
        client, "mutation($i: GrantRoleInput!) { grantRole(input: $i) { errors { code } } }", {"i": grant}, admin
    )
    assert granted["data"]["grantRole"]["errors"] == []
    return await token_for(client, "km-edu", PASSWORD)


async def test_the_province_reads_its_defaults_and_sets_its_deadlines(client, session):
    """POLICY 004 §4 (一月一报告, by default due on day 5): the province moves the school deadline to day 10 and
    refuses late reports; the reporting tree then shows day 10. Its permission admin changes the next setting
    with the version the first change returned; each change is one audit row naming before and after."""
    province = await token_for(client, PROVINCE_EDU)
    before = changed(await read_province(client, province), "provinceSettings")
    assert before == {
        "id": before["id"],
        "provinceCode": "53",
        "provinceName": "云南省",
        "ageCutoffMonth": 8,
        "ageCutoffDay": 31,
        "schoolReportDueDay": 5,
        "countyReportDueDays": 15,
        "cityReportDueDays": 15,
        "lateSubmissionAllowed": True,
        "cosignRequired": True,
        "version": 0,  # never changed: the defaults
        "updatedAt": None,
    }
    first = changed(
        await update_province(client, province, version=0, schoolReportDueDay=10, lateSubmissionAllowed=False),
        "updateProvinceSettings",
    )
    assert first["errors"] == []
    assert (first["settings"]["schoolReportDueDay"], first["settings"]["lateSubmissionAllowed"]) == (10, False)
    assert (first["settings"]["version"], first["settings"]["countyReportDueDays"]) == (1, 15)
    assert first["settings"]["updatedAt"] is not None

    march = (await tree(client, await token_for(client, COUNTY_EDU), WUDING, "2026-03"))["root"]
    assert {u["dueOn"] for u in march["units"]} == {"2026-04-10"}

    admin = await token_for(client, PROVINCE_ADMIN)
    second = changed(await update_province(client, admin, version=1, cosignRequired=False), "updateProvinceSettings")
    assert second["errors"] == []
    assert (second["settings"]["version"], second["settings"]["schoolReportDueDay"]) == (2, 10)  # nothing lost
    assert changed(await read_province(client, province), "provinceSettings")["cosignRequired"] is False

    rows = await audit_rows(session, "settings.province")
    assert [(r.actor, r.target_id, r.scope_path) for r in rows] == [
        (PROVINCE_EDU, "53", "53"),
        (PROVINCE_ADMIN, "53", "53"),
    ]
    assert rows[0].summary == {
        "before": {"school_report_due_day": 5, "late_submission_allowed": True},
        "after": {"school_report_due_day": 10, "late_submission_allowed": False},
        "version": 1,
    }

    by_id = await gql(client, NODE, {"id": before["id"]}, province)
    assert by_id["data"]["node"] == {"provinceCode": "53", "schoolReportDueDay": 10}
    assert (await gql(client, NODE, {"id": before["id"]}, await token_for(client, OTHER_PROVINCE_EDU)))["data"] == {
        "node": None
    }


async def test_the_cut_off_day_set_through_the_api_counts_the_school_ages(client):
    """Seed 000 一 (compulsory education from six): the school-age ledger counts ages 6–15 on the province's
    cut-off day; set to 1 September it is the day `schoolAgeChildren` says it counted on."""
    province = await token_for(client, PROVINCE_EDU)
    done = changed(
        await update_province(client, province, version=0, ageCutoffMonth=9, ageCutoffDay=1), "updateProvinceSettings"
    )
    assert done["errors"] == []
    page = await gql(
        client, SCHOOL_AGE, {"f": {"schoolYear": 2026, "regionCode": WUDING}}, await token_for(client, COUNTY_EDU)
    )
    assert page["data"]["schoolAgeChildren"]["cutoffDate"] == "2026-09-01"


async def test_each_setting_is_bounded_and_a_bad_one_is_named_with_nothing_written(client, session):
    """ARCHITECTURE §12: every number has its range, refused naming the field, in Chinese and English."""
    province = await token_for(client, PROVINCE_EDU)
    for field, value in (
        ("schoolReportDueDay", 29),  # not a day of every month
        ("schoolReportDueDay", 0),
        ("countyReportDueDays", 91),
        ("cityReportDueDays", -1),
        ("ageCutoffMonth", 13),
        ("ageCutoffDay", 32),
    ):
        refused = await update_province(client, province, version=0, **{field: value})
        assert input_refusals(refused) == [(f"input.{field}", "OUT_OF_RANGE")]
        assert " / " in refused["errors"][0]["message"]
    for day_and_month, field in (
        ({"ageCutoffMonth": 2, "ageCutoffDay": 29}, "ageCutoffDay"),
        ({"ageCutoffMonth": 4, "ageCutoffDay": 31}, "ageCutoffDay"),
    ):
        bad = changed(await update_province(client, province, version=0, **day_and_month), "updateProvinceSettings")
        assert [(e["field"], e["code"]) for e in bad["errors"]] == [(field, "INVALID_CUTOFF")]
        assert "/" in bad["errors"][0]["message"]
    # One of the two alone is checked against the other as set: 31 June is no day.
    month_alone = changed(
        await update_province(client, province, version=0, ageCutoffMonth=6), "updateProvinceSettings"
    )
    assert [(e["field"], e["code"]) for e in month_alone["errors"]] == [("ageCutoffMonth", "INVALID_CUTOFF")]
    both = await update_province(client, province, version=0, ageCutoffMonth=6, ageCutoffDay=30)
    assert changed(both, "updateProvinceSettings")["errors"] == []
    bad_day = changed(await update_province(client, province, version=1, ageCutoffDay=31), "updateProvinceSettings")
    assert [(e["field"], e["code"]) for e in bad_day["errors"]] == [("ageCutoffDay", "INVALID_CUTOFF")]
    nothing = changed(await update_province(client, province, version=1), "updateProvinceSettings")
    assert codes(nothing) == ["NOTHING_TO_CHANGE"]
    stale = changed(await update_province(client, province, version=0, cityReportDueDays=20), "updateProvinceSettings")
    assert [(e["field"], e["code"]) for e in stale["errors"]] == [("version", "CONFLICT")]
    kept = changed(await read_province(client, province), "provinceSettings")
    assert (kept["version"], kept["ageCutoffMonth"], kept["ageCutoffDay"], kept["cityReportDueDays"]) == (1, 6, 30, 15)
    assert len(await audit_rows(session, "settings.province")) == 1  # only the one change that was made


async def test_province_settings_are_refused_outside_the_province_itself(client, session):
    """双线四级 (ARCHITECTURE §4): another province sees no settings of this one (NOT_FOUND, as for a place that
    does not exist); a city reads the province rules it works under but does not set them; the city's permission
    admin holds its right at the city, not the province (OUT_OF_SCOPE); a county and the ministry set nothing."""
    other = await token_for(client, OTHER_PROVINCE_EDU)
    assert [e["extensions"]["reason"] for e in (await read_province(client, other))["errors"]] == ["NOT_FOUND"]
    assert codes(
        changed(await update_province(client, other, version=0, cosignRequired=False), "updateProvinceSettings")
    ) == ["NOT_FOUND"]
    assert changed(await read_province(client, other, "64"), "provinceSettings")["provinceCode"] == "64"

    city = await token_for(client, CITY_EDU)
    assert changed(await read_province(client, city), "provinceSettings")["schoolReportDueDay"] == 5
    assert error_codes(await update_province(client, city, version=0, schoolReportDueDay=9)) == ["FORBIDDEN"]
    city_admin = await token_for(client, CITY_ADMIN)
    assert codes(
        changed(await update_province(client, city_admin, version=0, schoolReportDueDay=9), "updateProvinceSettings")
    ) == ["OUT_OF_SCOPE"]
    county = await token_for(client, COUNTY_EDU)
    assert error_codes(await read_province(client, county)) == ["FORBIDDEN"]
    assert error_codes(await update_province(client, county, version=0, schoolReportDueDay=9)) == ["FORBIDDEN"]
    ministry = await token_for(client, MINISTRY)
    assert changed(await read_province(client, ministry), "provinceSettings")["provinceCode"] == "53"
    assert error_codes(await update_province(client, ministry, version=0, schoolReportDueDay=9)) == ["FORBIDDEN"]
    assert codes(
        changed(
            await gql(
                client,
                UPDATE_PROVINCE,
                {"input": {"provinceCode": "5323", "version": 0, "cosignRequired": False}},
                await token_for(client, PROVINCE_EDU),
            ),
            "updateProvinceSettings",
        )
    ) == ["NOT_A_PROVINCE"]
    assert await audit_rows(session, "settings.") == []
    assert (
        changed(await read_province(client, await token_for(client, PROVINCE_EDU)), "provinceSettings")["version"] == 0
    )


async def test_the_term_survey_is_the_citys_own_choice(client, session):
    """POLICY 003 §2(二) and annex 1 note 4: Guyuan's survey calendar is 固原市's (a city's) practice. A city turns it
    on for its own counties, which then owe and may draft the survey, due on the survey day; a sibling city in the
    same province is untouched, and the province does not set it for its cities."""
    kunming = await add_kunming(client, session)
    city = await token_for(client, CITY_EDU)
    county = await token_for(client, COUNTY_EDU)
    off = changed(await gql(client, READ_CITY, {"code": CHUXIONG}, city), "citySettings")
    assert (off["termSurveyEnabled"], off["version"], off["updatedAt"]) == (False, 0, None)
    assert codes(await draft_region(client, county, "SURVEY", WUDING, "2026-SPRING-MIDTERM")) == ["TERM_SURVEY_OFF"]

    on = changed(await update_city(client, city, version=0, termSurveyEnabled=True), "updateCitySettings")
    assert on["errors"] == []
    assert (on["settings"]["termSurveyEnabled"], on["settings"]["version"], on["settings"]["cityName"]) == (
        True,
        1,
        "楚雄彝族自治州",
    )
    drafted = await draft_region(client, county, "SURVEY", WUDING, "2026-SPRING-MIDTERM")
    assert drafted["errors"] == []
    assert (drafted["report"]["periodEnd"], drafted["report"]["dueOn"]) == ("2026-04-30", "2026-04-30")

    owing = (await tree(client, await token_for(client, PROVINCE_EDU), "53", "2026-SPRING-MIDTERM"))["root"]
    counties = [u["code"] for c in owing["children"] for u in c["units"]]
    assert {code[:4] for code in counties} == {CHUXIONG}  # 楚雄州's counties owe it, none of 昆明市's
    kunming_view = changed(await gql(client, READ_CITY, {"code": KUNMING}, kunming), "citySettings")
    assert kunming_view["termSurveyEnabled"] is False

    rows = await audit_rows(session, "settings.city")
    assert [(r.actor, r.target_id, r.summary) for r in rows] == [
        (
            CITY_EDU,
            CHUXIONG,
            {"before": {"term_survey_enabled": False}, "after": {"term_survey_enabled": True}, "version": 1},
        )
    ]

    # Off again, with the version read; a stale version changes nothing.
    stale = changed(await update_city(client, city, version=0, termSurveyEnabled=False), "updateCitySettings")
    assert [(e["field"], e["code"]) for e in stale["errors"]] == [("version", "CONFLICT")]
    assert (
        changed(await update_city(client, city, version=1, termSurveyEnabled=False), "updateCitySettings")["errors"]
        == []
    )
    assert codes(await draft_region(client, county, "SURVEY", WUDING, "2026-AUTUMN-OPENING")) == ["TERM_SURVEY_OFF"]


async def test_city_settings_are_refused_outside_the_city_itself(client, session):
    """双线四级: a sibling city neither sees nor sets 楚雄州's choice (NOT_FOUND); nor does a city of another
    province; the province reads it but does not decide it (FORBIDDEN); a county sets nothing."""
    kunming = await add_kunming(client, session)
    assert codes(
        changed(await update_city(client, kunming, version=0, termSurveyEnabled=True), "updateCitySettings")
    ) == ["NOT_FOUND"]
    assert [
        e["extensions"]["reason"] for e in (await gql(client, READ_CITY, {"code": CHUXIONG}, kunming))["errors"]
    ] == ["NOT_FOUND"]
    guyuan = await token_for(client, OTHER_CITY_EDU)
    own = changed(await gql(client, READ_CITY, {"code": "6404"}, guyuan), "citySettings")
    assert (own["cityName"], own["termSurveyEnabled"]) == ("固原市", True)  # the demo's 固原市 keeps its calendar
    assert codes(
        changed(await update_city(client, guyuan, version=0, termSurveyEnabled=True), "updateCitySettings")
    ) == ["NOT_FOUND"]
    province = await token_for(client, PROVINCE_EDU)
    assert changed(await gql(client, READ_CITY, {"code": CHUXIONG}, province), "citySettings")["cityCode"] == CHUXIONG
    assert error_codes(await update_city(client, province, version=0, termSurveyEnabled=True)) == ["FORBIDDEN"]
    county = await token_for(client, COUNTY_EDU)
    assert error_codes(await update_city(client, county, version=0, termSurveyEnabled=True)) == ["FORBIDDEN"]
    city = await token_for(client, CITY_EDU)
    assert codes(changed(await update_city(client, city, version=0), "updateCitySettings")) == ["NOTHING_TO_CHANGE"]
    wrong_level = await gql(
        client, UPDATE_CITY, {"input": {"cityCode": WUDING, "version": 0, "termSurveyEnabled": True}}, city
    )
    assert codes(changed(wrong_level, "updateCitySettings")) == ["NOT_A_CITY"]
    assert await audit_rows(session, "settings.") == []
    count = await session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.target_type == "CitySetting")
    )
    assert count == 0


def test_the_migration_keeps_a_provinces_term_survey_in_each_of_its_cities(databases):
    """Moving the switch to the cities (issue 14 §6) changes no county's calendar: a province that kept the survey
    keeps it in each of its cities, and going back the province has it on again."""
    url = databases.create("settings_move")
    migrate(url, "0015")
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        for code, name, level, parent, path in (
            ("64", "宁夏回族自治区", "PROVINCE", None, "64"),
            ("6404", "固原市", "CITY", "64", "64/6404"),
            ("6405", "中卫市", "CITY", "64", "64/6405"),
            ("53", "云南省", "PROVINCE", None, "53"),
            ("5323", "楚雄彝族自治州", "CITY", "53", "53/5323"),
        ):
            conn.execute(
                text("INSERT INTO region (code, name, level, parent_code, path) VALUES (:c, :n, :l, :p, :path)"),
                {"c": code, "n": name, "l": level, "p": parent, "path": path},
            )
        conn.execute(
            text(
                "INSERT INTO province_setting (province_code, age_cutoff_month, age_cutoff_day, term_survey_enabled)"
                " VALUES ('64', 8, 31, true), ('53', 9, 1, false)"
            )
        )
    migrate(url, "0018")
    with engine.connect() as conn:
        cities = conn.execute(text("SELECT city_code, term_survey_enabled FROM city_setting ORDER BY 1")).all()
        kept = conn.execute(text("SELECT province_code, age_cutoff_month FROM province_setting ORDER BY 1")).all()
    assert [tuple(r) for r in cities] == [("6404", True), ("6405", True)]
    assert [tuple(r) for r in kept] == [("53", 9), ("64", 8)]
    downgrade(url, "0015")
    with engine.connect() as conn:
        back = conn.execute(text("SELECT province_code, term_survey_enabled FROM province_setting ORDER BY 1")).all()
    engine.dispose()
    assert [tuple(r) for r in back] == [("53", False), ("64", True)]
