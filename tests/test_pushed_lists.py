"""Pushed-down lists (下发核实): the ministry (or a province) sends suspected dropouts, each child is routed to
the county that answers for it, and the county verifies (POLICY 004 §9: "教育部…将…疑似辍学学生数据通过全国基础教育
管理服务平台下发各地。各地要及时核实处理").

Routing, each outcome, the re-route the sender sees, progress and overdue counts, what the ministry sees, and
the refusals of other counties, lines and roles; the race is in tests/test_pushed_lists_race.py.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, update

from models.base import today
from models.child import Child
from models.ledger import EntrySource, LedgerEntry
from models.verification import VerificationTask
from tests.conftest import error_codes, gql, token_for
from tests.factories import free_national_id, make_child, make_entry
from tests.verification_support import (
    MINISTRY,
    PROGRESS,
    TASKS,
    WUDING_BUREAU,
    WUDING_SCHOOL,
    WUDING_VILLAGE,
    WUDING_VILLAGE_2,
    YUANMOU_BUREAU,
    YUANMOU_SCHOOL,
    YUANMOU_VILLAGE,
    progress,
    send,
    tasks,
    upload,
    verify,
)


async def _list(session: Any) -> list[list[str]]:
    """Seven children, one per routing case: the lines are 2–8."""
    ids = [await free_national_id(session, "532329", date(2013, 5, n)) for n in range(1, 8)]
    return [
        ["甲", "男", ids[0], WUDING_SCHOOL, YUANMOU_VILLAGE, YUANMOU_VILLAGE],  # 2: school first → 武定
        ["乙", "男", ids[1], "", WUDING_VILLAGE, YUANMOU_VILLAGE],  # 3: residence before household → 元谋
        ["丙", "男", ids[2], "", WUDING_VILLAGE_2, ""],  # 4: household only → 武定
        ["丁", "男", ids[3], "", "", ""],  # 5: no place → NO_PLACE
        ["戊", "男", ids[4], "9999999999", "", ""],  # 6: an unknown school → UNKNOWN_PLACE
        ["己", "男", ids[5], "", "53", ""],  # 7: only a province → NOT_IN_A_COUNTY
        ["庚", "男", ids[6], YUANMOU_SCHOOL, WUDING_VILLAGE, WUDING_VILLAGE],  # 8: school → 元谋
    ]


async def test_each_child_is_routed_by_school_then_residence_then_household_or_listed_back(client, session):
    """POLICY 001 §2.2: the flow-in region (the registry school's) answers; else where the child lives."""
    batch = await send(client, await _list(session))
    seen = await tasks(client, MINISTRY, batchId=batch)
    assert seen is not None
    routed = {t["line"]: (t["status"], t["route"], t["countyCode"], t["unroutableReason"]) for t in seen}
    assert routed == {
        2: ("OPEN", "SCHOOL", "532329", None),
        3: ("OPEN", "RESIDENCE", "532328", None),
        4: ("OPEN", "HOUSEHOLD", "532329", None),
        5: ("UNROUTABLE", None, None, "NO_PLACE"),
        6: ("UNROUTABLE", None, None, "UNKNOWN_PLACE"),
        7: ("UNROUTABLE", None, None, "NOT_IN_A_COUNTY"),
        8: ("OPEN", "SCHOOL", "532328", None),
    }
    due = (today() + timedelta(days=15)).isoformat()  # the default verification_days
    assert {t["dueOn"] for t in seen if t["status"] == "OPEN"} == {due}
    listed_back = await tasks(client, MINISTRY, batchId=batch, status="UNROUTABLE")
    assert [t["line"] for t in listed_back or []] == [5, 6, 7]


async def test_a_county_sees_only_its_own_tasks_and_cannot_answer_another_countys(client, session):
    batch = await send(client, await _list(session))
    wuding = await tasks(client, WUDING_BUREAU, batchId=batch)
    yuanmou = await tasks(client, YUANMOU_BUREAU, batchId=batch)
    assert [t["line"] for t in wuding or []] == [2, 4]
    assert [t["line"] for t in yuanmou or []] == [3, 8]
    answer = await verify(client, YUANMOU_BUREAU, wuding[0], outcome="NOT_DROPOUT", reason="GRADUATED", note="x")
    assert [e["code"] for e in answer["errors"]] == ["NOT_FOUND"]  # as if it did not exist
    node = await gql(client, "query($id: ID!) { node(id: $id) { id } }", {"id": wuding[0]["id"]},
                     await token_for(client, YUANMOU_BUREAU))  # fmt: skip
    assert node["data"]["node"] is None
    # Filtering on the neighbour answers as for a region that does not exist.
    filtered = await gql(client, TASKS, {"f": {"regionCode": "532328"}}, await token_for(client, WUDING_BUREAU))
    nowhere = await gql(client, TASKS, {"f": {"regionCode": "539999"}}, await token_for(client, WUDING_BUREAU))
    assert filtered["data"]["verificationTasks"] is None
    assert filtered["errors"][0]["message"] == nowhere["errors"][0]["message"]


async def test_roles_without_the_right_are_refused(client, session):
    batch = await send(client, await _list(session))
    for other_line in ("gov-county-532329", "edu-school-2153000036"):
        result = await gql(client, PROGRESS.replace("$by", "$by"), {"batch": batch, "by": "COUNTY"},
                           await token_for(client, other_line))  # fmt: skip
        assert result["data"]["verificationProgress"] is None
        assert error_codes(result) == ["FORBIDDEN"]
        assert await tasks(client, other_line, batchId=batch) is None
    open_task = next(t for t in await tasks(client, MINISTRY, batchId=batch) or [] if t["status"] == "OPEN")
    refused = await verify(client, MINISTRY, open_task, outcome="CONFIRMED")
    assert error_codes(refused) == ["FORBIDDEN"]  # the sender follows; only the county answers
    assert await tasks(client, "edu-province-64", batchId=batch) == []  # another province: nothing of it


async def test_confirmed_registers_an_unknown_child_and_opens_a_ministry_entry(client, session):
    batch = await send(client, await _list(session))
    line_4 = next(t for t in await tasks(client, WUDING_BUREAU, batchId=batch) or [] if t["line"] == 4)
    done = await verify(client, WUDING_BUREAU, line_4, outcome="CONFIRMED", note="入户核实，确已辍学")
    assert done["errors"] == []
    task = done["task"]
    assert (task["status"], task["outcome"], task["version"]) == ("DONE", "CONFIRMED", line_4["version"] + 1)
    row = await session.get(VerificationTask, task["number"])
    child = await session.get(Child, row.child_id)
    assert (child.name, child.household_region_code, child.province_code) == ("丙", WUDING_VILLAGE_2, "53")
    entry = await session.get(LedgerEntry, row.ledger_entry_id)
    assert (entry.child_id, entry.source, entry.status.value) == (child.id, EntrySource.MINISTRY, "OPEN")
    again = await verify(client, WUDING_BUREAU, task, outcome="CONFIRMED")
    assert [e["code"] for e in again["errors"]] == ["NOT_OPEN"]


async def test_confirmed_links_the_open_entry_of_a_known_child(client, session):
    child = await make_child(session)
    entry = await make_entry(session, child)
    batch = await send(client, [["已知", "男", child.national_id, WUDING_SCHOOL, "", ""]])
    [task] = await tasks(client, WUDING_BUREAU, batchId=batch) or []
    done = await verify(client, WUDING_BUREAU, task, outcome="CONFIRMED")
    assert done["errors"] == []
    row = await session.get(VerificationTask, done["task"]["number"])
    assert (row.child_id, row.ledger_entry_id) == (child.id, entry.id)
    count = await session.scalar(select(LedgerEntry.id).where(LedgerEntry.child_id == child.id).limit(2))
    assert count == entry.id  # no second entry


async def test_not_a_dropout_needs_a_typed_reason_a_note_and_for_at_school_the_school(client, session):
    batch = await send(client, await _list(session))
    task = next(t for t in await tasks(client, WUDING_BUREAU, batchId=batch) or [] if t["line"] == 2)
    cases = [
        ({"note": "在校"}, "REASON_REQUIRED"),
        ({"reason": "TRANSFERRED"}, "NOTE_REQUIRED"),
        ({"reason": "AT_SCHOOL", "note": "在校"}, "SCHOOL_REQUIRED"),
        ({"reason": "AT_SCHOOL", "note": "在校", "schoolCode": "9999999999"}, "UNKNOWN_SCHOOL"),
        ({"reason": "DECEASED", "note": "x", "schoolCode": WUDING_SCHOOL}, "NOT_APPLICABLE"),
    ]
    for answer, code in cases:
        refused = await verify(client, WUDING_BUREAU, task, outcome="NOT_DROPOUT", **answer)
        assert [e["code"] for e in refused["errors"]] == [code], answer
    done = await verify(client, WUDING_BUREAU, task, outcome="NOT_DROPOUT", reason="AT_SCHOOL",
                        schoolCode=WUDING_SCHOOL, note="在狮山镇中心小学三年级就读")  # fmt: skip
    assert done["errors"] == []
    assert (done["task"]["status"], done["task"]["notDropoutReason"], done["task"]["atSchoolCode"]) == (
        "DONE", "AT_SCHOOL", WUDING_SCHOOL,
    )  # fmt: skip
    assert done["task"]["note"] == "在狮山镇中心小学三年级就读"
    sent = next(t for t in await tasks(client, MINISTRY, batchId=batch) or [] if t["line"] == 2)
    assert (sent["outcome"], sent["notDropoutReason"], sent["note"]) == ("NOT_DROPOUT", "AT_SCHOOL", None)


async def test_not_ours_reroutes_to_the_county_named_and_the_sender_sees_both(client, session):
    batch = await send(client, await _list(session))
    task = next(t for t in await tasks(client, WUDING_BUREAU, batchId=batch) or [] if t["line"] == 4)
    for answer, code in (({"note": "x"}, "COUNTY_REQUIRED"), ({"receivingCountyCode": "532328"}, "NOTE_REQUIRED"),
                         ({"receivingCountyCode": "5323", "note": "x"}, "NOT_A_COUNTY"),
                         ({"receivingCountyCode": "532329", "note": "x"}, "SAME_COUNTY")):  # fmt: skip
        refused = await verify(client, WUDING_BUREAU, task, outcome="NOT_OURS", **answer)
        assert [e["code"] for e in refused["errors"]] == [code]
    done = await verify(client, WUDING_BUREAU, task, outcome="NOT_OURS", receivingCountyCode="532328",
                        note="已随父母迁居元谋县")  # fmt: skip
    assert done["errors"] == []
    old, new = done["task"], done["reroutedTo"]
    assert (old["status"], old["reroutedToCode"]) == ("REROUTED", "532328")
    assert (new["status"], new["route"], new["countyCode"], new["previousTaskId"]) == (
        "OPEN", "REROUTED", "532328", old["id"],
    )  # fmt: skip
    sender = [t for t in await tasks(client, MINISTRY, batchId=batch) or [] if t["line"] == 4]
    assert [(t["status"], t["countyCode"]) for t in sender] == [("REROUTED", "532329"), ("OPEN", "532328")]
    assert [t["line"] for t in await tasks(client, WUDING_BUREAU, batchId=batch, status="OPEN") or []] == [2]
    assert 4 in [t["line"] for t in await tasks(client, YUANMOU_BUREAU, batchId=batch) or []]


async def test_progress_counts_per_county_city_and_province_with_overdue(client, session):
    batch = await send(client, await _list(session))
    mine = await tasks(client, WUDING_BUREAU, batchId=batch) or []
    await verify(client, WUDING_BUREAU, mine[0], outcome="NOT_DROPOUT", reason="GRADUATED", note="已毕业")
    late = next(t for t in await tasks(client, YUANMOU_BUREAU, batchId=batch) or [] if t["line"] == 8)
    await session.execute(
        update(VerificationTask).where(VerificationTask.id == late["number"]).values(due_on=today() - timedelta(1))
    )
    counties, _ = await progress(client, MINISTRY, batch, "COUNTY")
    by_code = {p["regionCode"]: p for p in counties}
    assert set(by_code) == {"532328", "532329", None}
    wuding = by_code["532329"]
    assert (wuding["total"], wuding["open"], wuding["done"], wuding["overdue"]) == (2, 1, 1, 0)
    assert wuding["notDropout"] == [{"reason": "GRADUATED", "count": 1}]
    assert (by_code["532328"]["total"], by_code["532328"]["overdue"]) == (2, 1)
    assert by_code[None]["unroutable"] == 3
    [province] = [p for p in (await progress(client, MINISTRY, batch, "PROVINCE"))[0] if p["regionCode"]]
    assert (province["regionCode"], province["regionName"], province["total"], province["overdue"]) == (
        "53", "云南省", 4, 1,
    )  # fmt: skip
    city, _ = await progress(client, "edu-city-5323", batch, "COUNTY")  # a level between: its part only
    assert {p["regionCode"] for p in city} == {"532328", "532329"}
    own, _ = await progress(client, WUDING_BUREAU, batch, "COUNTY")
    assert [p["regionCode"] for p in own] == ["532329"]
    overdue = await tasks(client, MINISTRY, batchId=batch, overdue=True)
    assert [t["line"] for t in overdue or []] == [8]
    assert overdue[0]["overdue"] is True


async def test_the_ministry_sees_only_the_children_it_sent_masked(client, session):
    batch = await send(client, await _list(session))
    sent = await tasks(client, MINISTRY) or []
    senders = await session.scalars(
        select(VerificationTask.sender_path).where(VerificationTask.id.in_([t["number"] for t in sent]))
    )
    assert set(senders) == {""}  # every task it reads is of a list the nation sent
    mine = next(t for t in await tasks(client, MINISTRY, batchId=batch) or [] if t["line"] == 2)
    assert (mine["name"], mine["note"]) == ("甲", None)
    assert mine["nationalId"][:6] == "532329"
    assert "*" in mine["nationalId"]
    county_view = next(t for t in await tasks(client, WUDING_BUREAU, batchId=batch) or [] if t["line"] == 2)
    assert "*" not in county_view["nationalId"]  # the county verifying it reads it in full (audited)
    # A province's own list is not the ministry's: it never sees it.
    row = ["辛", "男", await free_national_id(session, "532329", date(2013, 6, 1)), WUDING_SCHOOL, "", ""]
    province_batch = await send(client, [row], sender="edu-province-53", jurisdiction="53")
    assert await tasks(client, MINISTRY, batchId=province_batch) == []
    assert [t["line"] for t in await tasks(client, "edu-province-53", batchId=province_batch) or []] == [2]


async def test_who_sends_what_rows_outside_a_province_are_refused(client, session):
    other = await free_national_id(session, "640402", date(2013, 6, 2))
    inside = await free_national_id(session, "532329", date(2013, 6, 3))
    rows = [["壬", "男", other, "", "640402001", ""], ["癸", "男", inside, WUDING_SCHOOL, "", ""]]
    response = await upload(client, "edu-province-53", rows, jurisdiction="53")
    assert response.status_code == 201, response.text
    assert response.json()["counts"]["outOfScope"] == 1
    county = await upload(client, "edu-province-53", [["癸", "男", inside, "", "", ""]], jurisdiction="532329")
    assert (county.status_code, county.json()["code"]) == (400, "NOT_A_SENDER")
    assert (await upload(client, WUDING_BUREAU, [["癸", "男", inside, "", "", ""]])).status_code == 403
    assert (
        await upload(client, "edu-province-64", [["癸", "男", inside, "", "", ""]], jurisdiction="53")
    ).status_code == 403


async def test_the_demo_has_a_ministry_list_for_wuding(client):
    demo = await tasks(client, WUDING_BUREAU, status="OPEN")
    assert demo
    assert {t["countyCode"] for t in demo} == {"532329"}
    listed_back = await tasks(client, MINISTRY, status="UNROUTABLE")
    assert listed_back
    assert listed_back[0]["unroutableReason"] == "NO_PLACE"


async def test_verification_days_is_a_province_setting(client, session):
    token = await token_for(client, "edu-province-53")
    changed = await gql(client, """mutation { updateProvinceSettings(input: {provinceCode: "53", version: 0,
        verificationDays: 7}) { settings { verificationDays } errors { code } } }""", None, token)  # fmt: skip
    assert changed["data"]["updateProvinceSettings"]["settings"]["verificationDays"] == 7
    batch = await send(client, (await _list(session))[:1])
    [task] = await tasks(client, MINISTRY, batchId=batch) or []
    assert task["dueOn"] == (today() + timedelta(days=7)).isoformat()
    out = await gql(client, """mutation { updateProvinceSettings(input: {provinceCode: "53", version: 1,
        verificationDays: 91}) { errors { code } } }""", None, token)  # fmt: skip
    assert error_codes(out) == ["BAD_USER_INPUT"]


async def test_the_sender_downloads_its_refused_rows_and_a_county_may_not(client, session):
    good = await free_national_id(session, "532329", date(2013, 6, 4))
    response = await upload(
        client, MINISTRY, [["子", "男", good, WUDING_SCHOOL, "", ""], ["丑", "男", "123", "", "", ""]]
    )
    assert response.status_code == 201, response.text
    assert response.json()["counts"]["refused"] == 1
    number = response.json()["number"]

    async def download(who: str) -> Any:
        token = await token_for(client, who)
        return await client.get(f"/rosters/{number}/refused.csv", headers={"Authorization": f"Bearer {token}"})

    ministry = await download(MINISTRY)
    assert ministry.status_code == 200
    assert "丑" in ministry.text
    assert "not a valid national ID" in ministry.text
    county = await download(WUDING_BUREAU)  # the batch is not the county's: as if it did not exist
    assert county.status_code == 404
    assert "丑" not in county.text
