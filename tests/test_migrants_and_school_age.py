"""Migrant children (随迁子女, seed 001 §2.2): the flow-in county answers for the case, the household side
keeps track, a handover is a written notice the receiving county acknowledges. The school-age children
ledger (适龄儿童台账, seed 004 §2): derived from the children, migrants included. Entry filters."""

from __future__ import annotations

from datetime import date
from typing import Any

from models import ProvinceSetting
from tests.conftest import error_codes, gql, token_for
from tests.ledger_support import (
    COUNTY_EDU,
    ENTRIES,
    ENTRY,
    NEIGHBOUR_EDU,
    WUDING,
    WUDING_PRIMARY,
    WUDING_VILLAGE,
    YUANMOU,
    YUANMOU_PRIMARY,
    YUANMOU_VILLAGE,
    entries_of,
    make_student,
    open_entry,
    school_age,
)

GUYUAN = "640402"  # 原州区, 固原市, 宁夏: another province
GUYUAN_VILLAGE = "640402100200"  # 东塬村委会, 三营镇
SIBLING_EDU = "edu-county-532322"  # 双柏县: same city, unrelated to every child here
WUDING_JUNIOR = "2153000035"  # 武定县第二中学 (county seat)
HUANZHOU_PRIMARY = "2153000037"  # 武定县环州乡中心小学
HUANZHOU_VILLAGE = "532329207201"  # 环州村, 环州乡
GAOQIAO_VILLAGE = "532329102201"  # 高桥村, 插甸镇

HANDOVER_FIELDS = "id fromRegionCode toRegionCode notice sentBy acknowledgedBy acknowledgedAt"
HAND_OVER = f"""mutation($input: HandOverLedgerEntryInput!) {{ handOverLedgerEntry(input: $input) {{
  handover {{ {HANDOVER_FIELDS} }} entry {{ status version responsibleRegionCode handoverRegionCode }}
  errors {{ field code message }} }} }}"""
ACKNOWLEDGE = f"""mutation($input: AcknowledgeHandoverInput!) {{ acknowledgeHandover(input: $input) {{
  handover {{ {HANDOVER_FIELDS} }} entry {{ status version responsibleRegionCode handoverRegionCode }}
  errors {{ field code message }} }} }}"""
CLOSE = """mutation($input: CloseOutLedgerEntryInput!) { closeOutLedgerEntry(input: $input) {
  entry { status version } errors { field code message } } }"""
RETURNED = """mutation($input: MarkReturnedInput!) { markReturned(input: $input) {
  entry { status version } errors { field code message } } }"""
UPDATE = """mutation($input: UpdateStudentInput!) { updateStudent(input: $input) {
  student { version } errors { field code message } } }"""
STUDENTS = """query($f: StudentFilter, $after: String) { students(filter: $f, first: 100, after: $after) {
  pageInfo { hasNextPage endCursor } edges { node { id } } } }"""
HANDOVERS = f"""query($id: ID!) {{ node(id: $id) {{ ... on LedgerEntry {{ handovers {{ {HANDOVER_FIELDS} }} }} }} }}"""
NOTICE = "该生辍学后随父母迁往宁夏固原市原州区三营镇，请贵局会同户籍地做好劝返复学工作。"


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def node(client, token: str, entry_id: str) -> dict[str, Any] | None:
    return (await gql(client, ENTRY, {"id": entry_id}, token))["data"]["node"]  # type: ignore[no-any-return]


async def student_ids(client, token: str, **f: Any) -> set[str]:
    """Every student the caller's `students` list shows (all pages)."""
    ids: set[str] = set()
    after = None
    while True:
        page = (await gql(client, STUDENTS, {"f": f, "after": after}, token))["data"]["students"]
        ids |= {e["node"]["id"] for e in page["edges"]}
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]


async def hand_over(client, token: str, entry: dict[str, Any], to: str, notice: str = NOTICE, **over: Any):
    variables = {"entryId": entry["id"], "toRegionCode": to, "notice": notice, "version": entry["version"], **over}
    result = await gql(client, HAND_OVER, {"input": variables}, token)
    return result["data"]["handOverLedgerEntry"] if result.get("data") else result


async def acknowledge(client, token: str, handover_id: str):
    result = await gql(client, ACKNOWLEDGE, {"input": {"handoverId": handover_id}}, token)
    return result["data"]["acknowledgeHandover"] if result.get("data") else result


async def migrant_on_ledger(client) -> tuple[str, dict[str, Any]]:
    """A child registered in Wuding, living and at school in Yuanmou, put on the ledger by Yuanmou."""
    yuanmou = await token_for(client, NEIGHBOUR_EDU)
    child = await make_student(
        client, yuanmou, village=WUDING_VILLAGE, residence=YUANMOU_VILLAGE, school=YUANMOU_PRIMARY, grade=4
    )
    opened = await open_entry(client, yuanmou, child["id"], source="COMPARISON")
    assert opened["errors"] == []
    return yuanmou, opened["entry"]


# --- migrant children (001 §2.2) ------------------------------------------------------------------


async def test_flow_in_county_answers_for_a_migrant_and_the_household_side_sees_it(client):
    """Seed 001 §2.2: 随迁子女在流入地（即其学籍所在地）辍学的，原则上由流入地负责组织劝返；户籍所在地应掌握
    随迁子女就学情况 — Yuanmou (school) is responsible; Wuding (household) sees the case on both lines."""
    _, entry = await migrant_on_ledger(client)
    assert (entry["responsibleRegionCode"], entry["status"], entry["handoverRegionCode"]) == (YUANMOU, "OPEN", None)
    for household_side in (f"gov-county-{WUDING}", COUNTY_EDU, f"gov-township-{WUDING}101"):
        token = await token_for(client, household_side)
        assert (await node(client, token, entry["id"]) or {}).get("id") == entry["id"], household_side
        assert [e["id"] for e in await entries_of(client, token, entry["student"]["id"])] == [entry["id"]]
    sibling = await token_for(client, SIBLING_EDU)
    assert await node(client, sibling, entry["id"]) is None


async def test_a_migrant_out_of_school_is_the_residence_countys_case_whoever_finds_it(client):
    """Seed 001 §2.2 (the flow-in region answers): a child not enrolled, found by the household county's
    government, is still the case of the county the child lives in."""
    household_gov = await token_for(client, f"gov-county-{WUDING}")
    child = await make_student(client, household_gov, village=WUDING_VILLAGE, residence=YUANMOU_VILLAGE, school=None)
    opened = await open_entry(client, household_gov, child["id"], source="DOOR_TO_DOOR", category="A")
    assert opened["errors"] == []
    assert opened["entry"]["responsibleRegionCode"] == YUANMOU
    yuanmou = await token_for(client, NEIGHBOUR_EDU)
    assert (await node(client, yuanmou, opened["entry"]["id"]) or {}).get("id") == opened["entry"]["id"]


async def test_handover_to_another_provinces_county_is_acknowledged_there(client):
    """Seed 001 §2.2: 辍学后跨省流动的，原流入地应书面通知 … — the written notice is kept; the receiving county
    sees the case, acknowledges it and becomes responsible; the sender and the household side still see it;
    the sender cannot acknowledge its own notice; an unrelated county sees nothing."""
    yuanmou, entry = await migrant_on_ledger(client)
    sent = await hand_over(client, yuanmou, entry, GUYUAN)
    assert sent["errors"] == []
    handover = sent["handover"]
    assert (handover["fromRegionCode"], handover["toRegionCode"], handover["notice"]) == (YUANMOU, GUYUAN, NOTICE)
    assert (handover["sentBy"], handover["acknowledgedAt"]) == (NEIGHBOUR_EDU, None)
    assert sent["entry"] == {
        "status": "TRANSFERRED",
        "version": entry["version"] + 1,
        "responsibleRegionCode": YUANMOU,
        "handoverRegionCode": GUYUAN,
    }

    receiver = await token_for(client, f"edu-county-{GUYUAN}")
    assert (await node(client, receiver, entry["id"]) or {}).get("status") == "TRANSFERRED"
    assert [e["id"] for e in await entries_of(client, receiver, entry["student"]["id"])] == [entry["id"]]
    listed = (await gql(client, HANDOVERS, {"id": entry["id"]}, receiver))["data"]["node"]["handovers"]
    assert [(h["id"], h["notice"]) for h in listed] == [(handover["id"], NOTICE)]

    assert error_codes(await acknowledge(client, yuanmou, handover["id"])) == ["FORBIDDEN"]
    sibling = await token_for(client, SIBLING_EDU)
    assert await node(client, sibling, entry["id"]) is None
    assert codes(await acknowledge(client, sibling, handover["id"])) == ["NOT_FOUND"]

    acked = await acknowledge(client, receiver, handover["id"])
    assert acked["errors"] == []
    assert acked["handover"]["acknowledgedBy"] == f"edu-county-{GUYUAN}"
    assert acked["handover"]["acknowledgedAt"] is not None
    assert (acked["entry"]["status"], acked["entry"]["responsibleRegionCode"]) == ("OPEN", GUYUAN)
    assert acked["entry"]["handoverRegionCode"] == YUANMOU
    assert codes(await acknowledge(client, receiver, handover["id"])) == ["ALREADY_ACKNOWLEDGED"]

    for still_sees in (yuanmou, await token_for(client, f"gov-county-{WUDING}"), await token_for(client, COUNTY_EDU)):
        seen = await node(client, still_sees, entry["id"])
        assert seen is not None
        assert (seen["status"], seen["responsibleRegionCode"]) == ("OPEN", GUYUAN)
    assert await node(client, sibling, entry["id"]) is None


async def test_the_sender_keeps_seeing_a_case_whose_child_moved_away(client):
    """Seed 001 §2.2: after a cross-province move the former flow-in county, no longer the child's residence
    nor school, still sees the case it handed over (the entry's handover path), and the receiver holds it."""
    household_gov = await token_for(client, f"gov-county-{WUDING}")
    child = await make_student(client, household_gov, village=WUDING_VILLAGE, residence=YUANMOU_VILLAGE, school=None)
    entry = (await open_entry(client, household_gov, child["id"], source="DOOR_TO_DOOR"))["entry"]
    moved = await gql(
        client,
        UPDATE,
        {"input": {"studentId": child["id"], "version": child["version"], "residenceRegionCode": GUYUAN_VILLAGE}},
        household_gov,
    )
    assert moved["data"]["updateStudent"]["errors"] == []
    yuanmou = await token_for(client, NEIGHBOUR_EDU)
    entry = await node(client, yuanmou, entry["id"])
    assert entry is not None  # still Yuanmou's case: it answers for it until the handover is acknowledged
    assert [e["id"] for e in await entries_of(client, yuanmou, child["id"], regionCode=YUANMOU)] == [entry["id"]]
    sent = await hand_over(client, yuanmou, entry, GUYUAN)
    assert sent["errors"] == []
    receiver = await token_for(client, f"edu-county-{GUYUAN}")
    assert (await acknowledge(client, receiver, sent["handover"]["id"]))["errors"] == []
    seen = await node(client, yuanmou, entry["id"])
    assert seen is not None
    assert (seen["responsibleRegionCode"], seen["handoverRegionCode"]) == (GUYUAN, YUANMOU)
    assert [e["id"] for e in await entries_of(client, yuanmou, child["id"])] == [entry["id"]]
    assert await node(client, await token_for(client, SIBLING_EDU), entry["id"]) is None


async def test_handover_refusals(client):
    """Seed 001 §2.2 (书面通知): the notice is required, the receiver is a county or above and not the one
    already responsible, only the responsible side sends it, from the version it read; nothing is closed
    out while the notice awaits acknowledgement."""
    yuanmou, entry = await migrant_on_ledger(client)
    principal = await token_for(client, f"edu-school-{YUANMOU_PRIMARY}")
    assert error_codes(await hand_over(client, principal, entry, GUYUAN)) == ["FORBIDDEN"]
    household_edu = await token_for(client, COUNTY_EDU)
    assert error_codes(await hand_over(client, household_edu, entry, GUYUAN)) == ["FORBIDDEN"]

    for to, notice, expected in (
        (GUYUAN, "   ", ("notice", "REQUIRED")),
        (f"{GUYUAN}100", NOTICE, ("toRegionCode", "NOT_A_COUNTY")),
        (GUYUAN_VILLAGE, NOTICE, ("toRegionCode", "NOT_A_COUNTY")),
        (YUANMOU, NOTICE, ("toRegionCode", "SAME_REGION")),
        ("532399", NOTICE, ("toRegionCode", "UNKNOWN_REGION")),
    ):
        refused = await hand_over(client, yuanmou, entry, to, notice)
        assert [(e["field"], e["code"]) for e in refused["errors"]] == [expected], to
    stale = await hand_over(client, yuanmou, entry, GUYUAN, version=entry["version"] - 1)
    assert codes(stale) == ["CONFLICT"]
    assert (await node(client, yuanmou, entry["id"]) or {})["version"] == entry["version"]  # nothing written

    sent = await hand_over(client, yuanmou, entry, GUYUAN)
    version = sent["entry"]["version"]
    close = {"entryId": entry["id"], "reason": "ENROLLED_ELSEWHERE_CONFIRMED", "version": version}
    closed = (await gql(client, CLOSE, {"input": close}, yuanmou))["data"]["closeOutLedgerEntry"]
    assert codes(closed) == ["HANDOVER_PENDING"]
    again = await hand_over(client, yuanmou, {**entry, "version": version}, f"{GUYUAN[:4]}22")
    assert codes(again) == ["HANDOVER_PENDING"]


async def test_handing_over_to_a_school_code_is_a_typed_refusal(client):
    """Seed 001 §2.2: the notice goes to a region (county or above); a school's code is refused with a typed
    error, not an internal error (level_of_code raised ValueError on a 10-digit code)."""
    yuanmou, entry = await migrant_on_ledger(client)
    refused = await hand_over(client, yuanmou, entry, WUDING_PRIMARY)
    assert codes(refused) == ["NOT_A_COUNTY"]
    assert codes(await hand_over(client, yuanmou, entry, "CN-53")) == ["NOT_A_COUNTY"]


async def test_a_case_is_handed_to_a_county_never_to_a_province_or_city(client):
    """Seed 001 §2.2: the county that will organise persuasion receives the case and acknowledges it; a
    province or city cannot answer for a child, so a notice addressed to one would never be acknowledged."""
    yuanmou = await token_for(client, NEIGHBOUR_EDU)
    child = await make_student(
        client, yuanmou, village=GUYUAN_VILLAGE, residence=YUANMOU_VILLAGE, school=YUANMOU_PRIMARY, grade=4
    )
    entry = (await open_entry(client, yuanmou, child["id"]))["entry"]
    for code in ("64", "6404"):
        refused = await hand_over(client, yuanmou, entry, code)
        assert [e["code"] for e in refused["errors"]] == ["NOT_A_COUNTY"]
    sent = await hand_over(client, yuanmou, entry, GUYUAN_VILLAGE[:6])
    assert sent["errors"] == []
    acked = await acknowledge(
        client, await token_for(client, f"edu-county-{GUYUAN_VILLAGE[:6]}"), sent["handover"]["id"]
    )
    assert acked["errors"] == []


# --- the school-age children ledger (004 §2) ------------------------------------------------------


async def test_school_age_window_is_aged_6_to_15_on_31_august(client):
    """Seed 004 §2 (适龄儿童台账), ages counted on the cut-off day (31 August by default): born 2010-09-01 …
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
    """Seed 004 §2: the school-age ledger shows each child's status — at school, out of school (失学),
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
    """Seed 004 §2: 建立适龄儿童台账（含随迁子女）, kept by the county bureau for every child of its county
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
    _, ministry = await school_age(client, await token_for(client, "edu-nation-CN"), schoolYear=2026)
    assert (ministry["totalCount"], ministry["edges"]) == (0, [])

    not_enrolled = await student_ids(client, county, enrolled=False)
    assert not_enrolled.isdisjoint({children["out"]["id"], children["migrant_out"]["id"]})
    assert {children["pupil"]["id"], children["other_school"]["id"]} <= await student_ids(client, county)


# --- entry filters --------------------------------------------------------------------------------


async def test_ledger_entry_filters(client):
    """Seed 003 annex 1 (ledgers, categories A–T, stage) and seed 004 §3 (special groups): each filter of
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


async def test_only_the_responsible_county_closes_a_migrants_case(client):
    """Seed 001 §2.2: the flow-in county organises persuasion and answers for the case; the household
    county keeps track and sees the outcome, but does not close the case out (销号) for it."""
    yuanmou = await token_for(client, NEIGHBOUR_EDU)
    child = await make_student(
        client, yuanmou, village=WUDING_VILLAGE, residence=YUANMOU_VILLAGE, school=YUANMOU_PRIMARY, grade=4
    )
    entry = (await open_entry(client, yuanmou, child["id"]))["entry"]
    close = {"entryId": entry["id"], "reason": "ENROLLED_ELSEWHERE_CONFIRMED", "version": entry["version"]}
    household = await gql(client, CLOSE, {"input": close}, await token_for(client, COUNTY_EDU))
    assert error_codes(household) == ["FORBIDDEN"]
    closed = (await gql(client, CLOSE, {"input": close}, yuanmou))["data"]["closeOutLedgerEntry"]
    assert closed["errors"] == []


async def test_category_p_is_not_given_when_a_child_is_entered(client):
    """Seed 001 §2.2: category P (deferred) follows a deferral approved at county level, never a finding."""
    county = await token_for(client, COUNTY_EDU)
    child = await make_student(client, county)
    result = await open_entry(client, county, child["id"], category="P")
    assert [e["code"] for e in result["errors"]] == ["DEFERRAL_NOT_APPROVED"]
