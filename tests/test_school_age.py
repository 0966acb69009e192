"""The school-age children ledger (适龄儿童台账, POLICY 004 §2): derived from the children, migrants
included; and the ledger entries' filters."""

from __future__ import annotations

from datetime import date
from typing import Any

from models import ProvinceSetting
from tests.conftest import gql, token_for
from tests.ledger_support import (
    COUNTY_EDU,
    ENTRIES,
    NEIGHBOUR_EDU,
    SCHOOL_AGE,
    WUDING,
    WUDING_PRIMARY,
    WUDING_VILLAGE,
    YUANMOU,
    YUANMOU_PRIMARY,
    YUANMOU_VILLAGE,
    make_student,
    open_entry,
    school_age,
)
from tests.migrant_support import (
    CLOSE,
    GAOQIAO_VILLAGE,
    GUYUAN,
    HUANZHOU_PRIMARY,
    HUANZHOU_VILLAGE,
    RETURNED,
    SIBLING_EDU,
    WUDING_JUNIOR,
    codes,
    student_ids,
)

# --- the school-age children ledger (004 §2) ------------------------------------------------------


async def test_school_age_window_is_aged_6_to_15_on_31_august(client):
    """POLICY 004 §2 (适龄儿童台账), ages counted on the cut-off day (31 August by default): born 2010-09-01 …
    2020-08-31 are of school age in school year 2026."""
    county = await token_for(client, COUNTY_EDU)
    born = {
        d: await make_student(client, county, school=s, grade=g, birth=d)
        for d, s, g in (
            (date(2020, 8, 31), WUDING_PRIMARY, 1),
            (date(2020, 9, 1), WUDING_PRIMARY, 1),
            (date(2010, 9, 1), WUDING_JUNIOR, 9),
            (date(2010, 8, 31), WUDING_JUNIOR, 9),
        )
    }
    rows, page = await school_age(client, county, schoolYear=2026)
    assert page["cutoffDate"] == "2026-08-31"
    assert {d: born[d]["id"] in rows for d in born} == {
        date(2020, 8, 31): True,
        date(2020, 9, 1): False,
        date(2010, 9, 1): True,
        date(2010, 8, 31): False,
    }
    assert rows[born[date(2020, 8, 31)]["id"]]["age"] == 6
    assert rows[born[date(2010, 9, 1)]["id"]]["age"] == 15


async def test_a_province_cut_off_moves_the_window(client, session):
    """models/province.py: a province may count ages on another day; on 1 September the child born that
    day turns 6 in time and the one born 2010-09-01 is 16."""
    existing = await session.get(ProvinceSetting, "53")
    setting = existing or ProvinceSetting(province_code="53")
    setting.age_cutoff_month, setting.age_cutoff_day = 9, 1
    session.add(setting)
    await session.flush()
    county = await token_for(client, COUNTY_EDU)
    young = await make_student(client, county, grade=1, birth=date(2020, 9, 1))
    old = await make_student(client, county, school=WUDING_JUNIOR, grade=9, birth=date(2010, 9, 1))
    rows, page = await school_age(client, county, schoolYear=2026)
    assert page["cutoffDate"] == "2026-09-01"
    assert (young["id"] in rows, old["id"] in rows) == (True, False)
    _, ningxia = await school_age(client, await token_for(client, f"edu-county-{GUYUAN}"), schoolYear=2026)
    assert ningxia["cutoffDate"] == "2026-08-31"  # another province keeps the default


async def test_schooling_status_follows_school_and_ledger(client):
    """POLICY 004 §2: the school-age ledger shows each child's status — at school, out of school (失学),
    on the suspected or dropout ledger, returned."""
    county = await token_for(client, COUNTY_EDU)
    household_gov = await token_for(client, f"gov-county-{WUDING}")
    child = {
        "ENROLLED": await make_student(client, county),
        "OUT_OF_SCHOOL": await make_student(client, household_gov, school=None, birth=date(2014, 3, 1)),
        "SUSPECTED": await make_student(client, county),
        "DROPOUT": await make_student(client, county),
        "RETURNED": await make_student(client, county),
    }
    assert (await open_entry(client, county, child["SUSPECTED"]["id"]))["errors"] == []
    dropout = await open_entry(client, county, child["DROPOUT"]["id"], ledger="DROPOUT", category="F")
    assert dropout["errors"] == []
    entry = (await open_entry(client, county, child["RETURNED"]["id"], opened_on=date(2026, 10, 5)))["entry"]
    back = {"entryId": entry["id"], "returnedOn": "2026-10-19", "version": entry["version"]}
    assert (await gql(client, RETURNED, {"input": back}, county))["data"]["markReturned"]["errors"] == []

    rows, _ = await school_age(client, county, schoolYear=2026)
    assert {rows[c["id"]]["schoolingStatus"]: expected for expected, c in child.items()} == {k: k for k in child}
    assert rows[child["RETURNED"]["id"]]["entry"] == {"id": entry["id"], "status": "RETURNED"}
    assert rows[child["ENROLLED"]["id"]]["entry"] is None


async def test_school_age_ledger_includes_migrants_on_both_sides_and_nothing_else(client):
    """POLICY 004 §2: 建立适龄儿童台账（含随迁子女）, kept by the county bureau for every child of its county
    (LEDGER:READ:GOV) — while its student list stays on the education line; a sibling county, a school
    outside the child's school and the ministry (aggregates only) see none of it."""
    county = await token_for(client, COUNTY_EDU)
    household_gov = await token_for(client, f"gov-county-{WUDING}")
    yuanmou = await token_for(client, NEIGHBOUR_EDU)
    children = {
        "migrant": await make_student(
            client, yuanmou, village=WUDING_VILLAGE, residence=YUANMOU_VILLAGE, school=YUANMOU_PRIMARY
        ),
        "out": await make_student(client, household_gov, school=None),
        "migrant_out": await make_student(client, household_gov, residence=YUANMOU_VILLAGE, school=None),
        "pupil": await make_student(client, county),
        "other_school": await make_student(client, county, village=HUANZHOU_VILLAGE, school=HUANZHOU_PRIMARY),
    }

    async def seen_by(username: str) -> set[str]:
        rows, _ = await school_age(client, await token_for(client, username), schoolYear=2026)
        return {k for k, c in children.items() if c["id"] in rows}

    everyone = set(children)
    assert await seen_by(f"gov-county-{WUDING}") == everyone
    assert await seen_by(COUNTY_EDU) == everyone
    assert await seen_by(f"gov-county-{YUANMOU}") == {"migrant", "migrant_out"}
    assert await seen_by(NEIGHBOUR_EDU) == {"migrant", "migrant_out"}
    assert await seen_by(f"edu-school-{WUDING_PRIMARY}") == {"pupil"}
    assert await seen_by(SIBLING_EDU) == set()
    assert await seen_by("gov-county-532322") == set()
    ministry = await gql(client, SCHOOL_AGE, {"f": {"schoolYear": 2026}}, await token_for(client, "edu-nation-CN"))
    assert ministry["data"] == {"schoolAgeChildren": None}  # no ledger read right: refused, not an empty ledger
    assert [e["extensions"]["code"] for e in ministry["errors"]] == ["FORBIDDEN"]

    not_enrolled = await student_ids(client, county, enrolled=False)
    assert not_enrolled.isdisjoint({children["out"]["id"], children["migrant_out"]["id"]})
    assert {children["pupil"]["id"], children["other_school"]["id"]} <= await student_ids(client, county)


# --- entry filters --------------------------------------------------------------------------------


async def test_ledger_entry_filters(client):
    """POLICY 003 annex 1 (ledgers, categories A–T, stage) and POLICY 004 §3 (special groups): each filter of
    ledgerEntries keeps exactly the entries it names; a child has one entry not closed out at a time."""
    county = await token_for(client, COUNTY_EDU)
    a = await make_student(client, county, special_groups=["LEFT_BEHIND"])
    b = await make_student(client, county, village=HUANZHOU_VILLAGE, grade=4)  # lives in 环州, at school in 狮山
    c = await make_student(
        client, county, village=GAOQIAO_VILLAGE, school=WUDING_JUNIOR, grade=8, birth=date(2012, 3, 3)
    )
    d = await make_student(client, county)
    ea = (await open_entry(client, county, a["id"], opened_on=date(2026, 9, 10)))["entry"]
    eb = (await open_entry(client, county, b["id"], ledger="DROPOUT", opened_on=date(2026, 10, 20), category="F"))[
        "entry"
    ]
    ec = (await open_entry(client, county, c["id"], opened_on=date(2026, 11, 2), category="H"))["entry"]
    back = {"entryId": ec["id"], "returnedOn": "2026-11-09", "version": ec["version"]}
    assert (await gql(client, RETURNED, {"input": back}, county))["data"]["markReturned"]["errors"] == []
    ed1 = (await open_entry(client, county, d["id"], opened_on=date(2026, 9, 1)))["entry"]
    close = {"entryId": ed1["id"], "reason": "ENROLLED_ELSEWHERE_CONFIRMED", "version": ed1["version"]}
    assert (await gql(client, CLOSE, {"input": close}, county))["data"]["closeOutLedgerEntry"]["errors"] == []

    assert codes(await open_entry(client, county, a["id"], ledger="DROPOUT")) == ["ALREADY_ON_LEDGER"]
    relapse = await open_entry(client, county, d["id"], opened_on=date(2026, 11, 16), category="T")
    assert relapse["errors"] == []
    assert relapse["entry"]["isRelapse"] is True
    ed2 = relapse["entry"]

    names = {ea["id"]: "a", eb["id"]: "b", ec["id"]: "c", ed1["id"]: "d1", ed2["id"]: "d2"}

    async def matching(**f: Any) -> set[str]:
        result = await gql(client, ENTRIES, {"f": f, "first": 100}, county)
        return {names[e["node"]["id"]] for e in result["data"]["ledgerEntries"]["edges"] if e["node"]["id"] in names}

    assert await matching() == {"a", "b", "c", "d1", "d2"}
    assert await matching(ledger="DROPOUT") == {"b"}
    assert await matching(ledger="SUSPECTED") == {"a", "c", "d1", "d2"}
    assert await matching(status=["OPEN"]) == {"a", "b", "d2"}
    assert await matching(status=["RETURNED", "CLOSED"]) == {"c", "d1"}
    assert await matching(category="F") == {"b"}
    assert await matching(missingCategory=True) == {"a", "d1"}
    assert await matching(missingCategory=False) == {"b", "c", "d2"}
    assert await matching(stage="JUNIOR") == {"c"}
    assert await matching(stage="PRIMARY") == {"a", "b", "d1", "d2"}
    assert await matching(specialGroup="LEFT_BEHIND") == {"a"}
    assert await matching(regionCode=f"{WUDING}101") == {"a", "b", "d1", "d2"}
    assert await matching(regionCode=f"{WUDING}207") == {"b"}
    assert await matching(schoolCode=WUDING_JUNIOR) == {"c"}
    assert await matching(schoolCode=WUDING_PRIMARY) == {"a", "b", "d1", "d2"}
    assert await matching(openedFrom="2026-10-20") == {"b", "c", "d2"}
    assert await matching(openedTo="2026-10-20") == {"a", "b", "d1"}
    assert await matching(openedFrom="2026-09-02", openedTo="2026-11-01") == {"a", "b"}
    assert await matching(studentId=d["id"]) == {"d1", "d2"}
    assert await matching(studentId=a["id"], status=["CLOSED"]) == set()

    neighbour = await token_for(client, NEIGHBOUR_EDU)
    result = await gql(client, ENTRIES, {"f": {"studentId": a["id"]}, "first": 100}, neighbour)
    assert result["data"]["ledgerEntries"]["edges"] == []
