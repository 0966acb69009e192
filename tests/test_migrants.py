"""Migrant children (随迁子女, POLICY 001 §2.2): the flow-in county answers for the case, the household side
keeps track, a handover is a written notice the receiving county acknowledges."""

from __future__ import annotations

from tests.conftest import error_codes, gql, token_for
from tests.ledger_support import (
    COUNTY_EDU,
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
)
from tests.migrant_support import (
    CLOSE,
    GUYUAN,
    GUYUAN_VILLAGE,
    HANDOVERS,
    NOTICE,
    SIBLING_EDU,
    UPDATE,
    acknowledge,
    codes,
    hand_over,
    migrant_on_ledger,
    node,
)

# --- migrant children (001 §2.2) ------------------------------------------------------------------


async def test_flow_in_county_answers_for_a_migrant_and_the_household_side_sees_it(client):
    """POLICY 001 §2.2: 随迁子女在流入地（即其学籍所在地）辍学的，原则上由流入地负责组织劝返；户籍所在地应掌握
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
    """POLICY 001 §2.2 (the flow-in region answers): a child not enrolled, found by the household county's
    government, is still the case of the county the child lives in."""
    household_gov = await token_for(client, f"gov-county-{WUDING}")
    child = await make_student(client, household_gov, village=WUDING_VILLAGE, residence=YUANMOU_VILLAGE, school=None)
    opened = await open_entry(client, household_gov, child["id"], source="DOOR_TO_DOOR", category="A")
    assert opened["errors"] == []
    assert opened["entry"]["responsibleRegionCode"] == YUANMOU
    yuanmou = await token_for(client, NEIGHBOUR_EDU)
    assert (await node(client, yuanmou, opened["entry"]["id"]) or {}).get("id") == opened["entry"]["id"]


async def test_handover_to_another_provinces_county_is_acknowledged_there(client):
    """POLICY 001 §2.2: 辍学后跨省流动的，原流入地应书面通知 … — the written notice is kept; the receiving county
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
    """POLICY 001 §2.2: after a cross-province move the former flow-in county, no longer the child's residence
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
    """POLICY 001 §2.2 (书面通知): the notice is required, the receiver is a county or above and not the one
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
    """POLICY 001 §2.2: the notice goes to a region (county or above); a school's code is refused with a typed
    error, not an internal error (level_of_code raised ValueError on a 10-digit code)."""
    yuanmou, entry = await migrant_on_ledger(client)
    refused = await hand_over(client, yuanmou, entry, WUDING_PRIMARY)
    assert codes(refused) == ["NOT_A_COUNTY"]
    assert codes(await hand_over(client, yuanmou, entry, "CN-53")) == ["NOT_A_COUNTY"]


async def test_a_case_is_handed_to_a_county_never_to_a_province_or_city(client):
    """POLICY 001 §2.2: the county that will organise persuasion receives the case and acknowledges it; a
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


async def test_only_the_responsible_county_closes_a_migrants_case(client):
    """POLICY 001 §2.2: the flow-in county organises persuasion and answers for the case; the household
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
    """POLICY 001 §2.2: category P (deferred) follows a deferral approved at county level, never a finding."""
    county = await token_for(client, COUNTY_EDU)
    child = await make_student(client, county)
    result = await open_entry(client, county, child["id"], category="P")
    assert [e["code"] for e in result["errors"]] == ["DEFERRAL_NOT_APPROVED"]


CATEGORY = """mutation($input: SetLedgerCategoryInput!) { setLedgerCategory(input: $input) {
  entry { category version } errors { field code message } } }"""


async def test_only_the_responsible_side_changes_a_case_around_a_handover(client):
    """POLICY 001 §2.2: the sender answers for the case until the receiver acknowledges the notice, and the
    receiver then answers for it: a pending handover lets the receiver read the case, not change it."""
    yuanmou, entry = await migrant_on_ledger(client)
    handover = (await hand_over(client, yuanmou, entry, GUYUAN))["handover"]
    receiver = await token_for(client, f"edu-county-{GUYUAN}")
    pending = await node(client, receiver, entry["id"])
    assert pending is not None
    change = {"input": {"entryId": entry["id"], "category": "H", "version": pending["version"]}}
    assert error_codes(await gql(client, CATEGORY, change, receiver)) == ["FORBIDDEN"]
    by_sender = (await gql(client, CATEGORY, change, yuanmou))["data"]["setLedgerCategory"]
    assert by_sender["errors"] == []

    assert (await acknowledge(client, receiver, handover["id"]))["errors"] == []
    now = await node(client, receiver, entry["id"])
    assert now is not None
    change = {"input": {"entryId": entry["id"], "category": "I", "version": now["version"]}}
    by_receiver = (await gql(client, CATEGORY, change, receiver))["data"]["setLedgerCategory"]
    assert (by_receiver["errors"], by_receiver["entry"]["category"]) == ([], "I")
