"""The unreported list at term start (POLICY 002 一(三): "每学期开学后15天内，对未报到的学生登记造册并逐一核实原因"):
who lands on it, the reasons the school verifies, the townships' term-start rounds (每学期开学初要协助各中小学校
开展1-2次劝学工作，并做好记录), and who may see and change what."""

from __future__ import annotations

from datetime import date

from tests.conftest import codes, gql, token_for
from tests.ledger_support import (
    COUNTY_EDU,
    NEIGHBOUR_EDU,
    OPEN_ENTRY,
    STAFF,
    WUDING_PRIMARY,
    entries_of,
    record_absent,
)
from tests.report_support import MINISTRY, PRINCIPAL
from tests.term_start_support import (
    ENROLMENT,
    OTHER_TOWNSHIP,
    TERM,
    TOWNSHIP,
    WINDOW,
    absent_in_window,
    enrolled_pupil,
    explain,
    listed_ids,
    register_class,
    unreported,
    visit,
)


async def test_a_pupil_absent_in_the_window_is_listed_a_present_or_unrecorded_one_is_not(client):
    """002 一(三): a pupil enrolled when the last term ended and not recorded present within the 15 days
    after the term start is listed; one recorded present is not; one with nothing recorded is unknown,
    not absent (README "School days and unknown days"), and is not listed either."""
    staff = await token_for(client, STAFF)
    absent = await enrolled_pupil(client, staff)
    await absent_in_window(client, staff, absent["id"], days=len(WINDOW))
    came_later = await enrolled_pupil(client, staff, grade=5)
    await absent_in_window(client, staff, came_later["id"], days=2)
    await register_class(client, staff, 5, WINDOW[5])  # the class on the pupil's record, taken with nobody absent
    unknown = await enrolled_pupil(client, staff)
    new = await enrolled_pupil(client, staff, enrolled_on=date(2026, 9, 1))
    await absent_in_window(client, staff, new["id"])

    answer = await unreported(client, staff, schoolCode=WUDING_PRIMARY)
    ids = listed_ids(answer)
    assert absent["id"] in ids
    assert came_later["id"] not in ids
    assert unknown["id"] not in ids
    assert new["id"] not in ids  # enrolled after the spring term ended
    row = next(
        e["node"] for e in answer["data"]["unreportedPupils"]["edges"] if e["node"]["student"]["id"] == absent["id"]
    )
    assert row["grade"] == 4
    assert row["daysAbsent"] == len(WINDOW)
    assert (row["termStart"], row["windowClosesOn"], row["windowClosed"]) == ("2026-09-01", "2026-09-15", True)
    assert row["explanation"] is None
    assert row["schoolName"] == "武定县狮山镇中心小学"


async def test_a_pupil_on_leave_in_the_window_is_listed_as_on_leave(client):
    """Leave (请假) is not reporting: the pupil is listed, shown on leave, and the school says why."""
    staff = await token_for(client, STAFF)
    pupil = await enrolled_pupil(client, staff)
    for answer in await record_absent(client, staff, pupil["id"], WINDOW[:1], leave="ILLNESS"):
        assert answer["errors"] == []
    answer = await unreported(client, staff, schoolCode=WUDING_PRIMARY)
    row = next(
        e["node"] for e in answer["data"]["unreportedPupils"]["edges"] if e["node"]["student"]["id"] == pupil["id"]
    )
    assert (row["onLeave"], row["daysAbsent"]) == (True, 0)


async def test_each_reason_is_recorded_with_its_rule(client):
    """逐一核实原因: ill, on leave, moved and unreachable say what was found; a change sends the version."""
    staff = await token_for(client, STAFF)
    pupils = [await enrolled_pupil(client, staff) for _ in range(4)]
    for p in pupils:
        await absent_in_window(client, staff, p["id"])
    refused = await explain(client, staff, pupils[0]["id"], "ILL")
    assert codes(refused) == ["REQUIRED"]
    assert refused["errors"][0]["field"] == "note"
    not_applicable = await explain(client, staff, pupils[0]["id"], "ILL", note="住院", receivingSchoolCode="2153000037")
    assert codes(not_applicable) == ["NOT_APPLICABLE"]
    for p, reason in zip(pupils, ["ILL", "ON_LEAVE", "MOVED", "UNREACHABLE"], strict=True):
        done = await explain(client, staff, p["id"], reason, note=f"核实：{reason}")
        assert done["errors"] == []
        assert done["pupil"]["explanation"]["reason"] == reason
        assert done["pupil"]["explanation"]["explainedBy"] == STAFF
    again = await explain(client, staff, pupils[0]["id"], "MOVED", note="随父母迁往昆明")
    assert codes(again) == ["CONFLICT"]
    changed = await explain(client, staff, pupils[0]["id"], "MOVED", note="随父母迁往昆明", version=1)
    assert changed["pupil"]["explanation"]["reason"] == "MOVED"
    assert changed["pupil"]["explanation"]["version"] == 2
    explained = await unreported(client, staff, schoolCode=WUDING_PRIMARY, explained=True, reason="MOVED")
    assert set(listed_ids(explained)) == {pupils[0]["id"], pupils[2]["id"]}
    open_ones = listed_ids(await unreported(client, staff, schoolCode=WUDING_PRIMARY, explained=False))
    assert not {p["id"] for p in pupils} & set(open_ones)


async def test_a_transfer_needs_a_receiving_school_that_shows_the_pupil(client):
    """Transferred: the receiving school must then show the pupil (its enrolment is recorded there)."""
    staff = await token_for(client, STAFF)
    pupil = await enrolled_pupil(client, staff)
    await absent_in_window(client, staff, pupil["id"])
    assert codes(await explain(client, staff, pupil["id"], "TRANSFERRED")) == ["RECEIVING_SCHOOL_REQUIRED"]
    same = await explain(client, staff, pupil["id"], "TRANSFERRED", receivingSchoolCode=WUDING_PRIMARY)
    assert codes(same) == ["SAME_SCHOOL"]
    assert codes(await explain(client, staff, pupil["id"], "TRANSFERRED", receivingSchoolCode="2199999999")) == [
        "UNKNOWN_SCHOOL"
    ]
    early = await explain(client, staff, pupil["id"], "TRANSFERRED", receivingSchoolCode="2153000037")
    assert codes(early) == ["NOT_AT_RECEIVING_SCHOOL"]

    county = await token_for(client, COUNTY_EDU)
    version = pupil["version"]
    for change, school in (("TRANSFER_OUT", WUDING_PRIMARY), ("TRANSFER_IN", "2153000037")):
        moved = await gql(
            client,
            ENROLMENT,
            {
                "input": {
                    "studentId": pupil["id"],
                    "change": change,
                    "schoolCode": school,
                    "grade": 4,
                    "on": "2026-09-20",
                    "version": version,
                }
            },
            county,
        )
        assert moved.get("data"), moved
        answer = moved["data"]["recordEnrolmentChange"]
        assert answer["errors"] == [], answer
        version = answer["student"]["version"]
    done = await explain(client, staff, pupil["id"], "TRANSFERRED", receivingSchoolCode="2153000037", note="转入环州乡")
    assert done["errors"] == []
    assert done["pupil"]["explanation"]["receivingSchoolCode"] == "2153000037"
    assert done["pupil"]["schoolCode"] == WUDING_PRIMARY  # still on the old school's list, explained


async def test_suspected_opens_a_suspected_ledger_entry_or_links_the_open_one(client):
    """Put on the suspected ledger through the ledgers' own opening: one open entry per child."""
    staff = await token_for(client, STAFF)
    fresh = await enrolled_pupil(client, staff)
    await absent_in_window(client, staff, fresh["id"])
    opened = await explain(client, staff, fresh["id"], "SUSPECTED")
    entry = opened["pupil"]["explanation"]["entry"]
    assert (entry["ledger"], entry["source"], entry["status"]) == ("SUSPECTED", "MANUAL", "OPEN")
    on_ledger = await enrolled_pupil(client, staff)
    await absent_in_window(client, staff, on_ledger["id"])
    first = await gql(
        client,
        OPEN_ENTRY,
        {"input": {"studentId": on_ledger["id"], "ledger": "SUSPECTED", "source": "MANUAL", "openedOn": "2026-09-16"}},
        staff,
    )
    existing = first["data"]["openLedgerEntry"]["entry"]
    linked = await explain(client, staff, on_ledger["id"], "SUSPECTED")
    assert linked["pupil"]["explanation"]["entry"]["id"] == existing["id"]
    assert len(await entries_of(client, staff, on_ledger["id"])) == 1


async def test_only_the_listing_school_explains_and_only_listed_pupils(client):
    """The school's own staff state reasons (登记造册并逐一核实原因); a bureau reads, a neighbour sees nothing."""
    staff = await token_for(client, STAFF)
    pupil = await enrolled_pupil(client, staff)
    await absent_in_window(client, staff, pupil["id"])
    unlisted = await enrolled_pupil(client, staff)
    assert codes(await explain(client, staff, unlisted["id"], "ILL", note="x")) == ["NOT_LISTED"]
    neighbour = await explain(client, await token_for(client, NEIGHBOUR_EDU), pupil["id"], "ILL", note="x")
    assert codes(neighbour) == ["NOT_FOUND"]
    county = await explain(client, await token_for(client, COUNTY_EDU), pupil["id"], "ILL", note="x")
    assert county["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    township = await explain(client, await token_for(client, TOWNSHIP), pupil["id"], "ILL", note="x")
    assert township["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad_term = await explain(client, staff, pupil["id"], "ILL", note="x", term="2026-WINTER")
    assert codes(bad_term) == ["BAD_TERM"]


async def test_the_list_is_scoped_like_the_ledgers(client):
    """The county bureau and the township (by residence) see the pupil; the neighbour county, another
    township and the ministry do not (FORBIDDEN without ledger rights, UNKNOWN_SCHOOL for a school outside)."""
    staff = await token_for(client, STAFF)
    pupil = await enrolled_pupil(client, staff)
    await absent_in_window(client, staff, pupil["id"])
    for account in (COUNTY_EDU, TOWNSHIP, PRINCIPAL):
        assert pupil["id"] in listed_ids(await unreported(client, await token_for(client, account))), account
    assert pupil["id"] not in listed_ids(await unreported(client, await token_for(client, NEIGHBOUR_EDU)))
    assert pupil["id"] not in listed_ids(await unreported(client, await token_for(client, OTHER_TOWNSHIP)))
    outside = await unreported(client, await token_for(client, NEIGHBOUR_EDU), schoolCode=WUDING_PRIMARY)
    assert outside["data"]["unreportedPupils"] is None
    assert outside["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    ministry = await unreported(client, await token_for(client, MINISTRY))
    assert ministry["data"]["unreportedPupils"] is None
    assert ministry["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = await unreported(client, staff, term="2026-13")
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_township_records_term_start_rounds_on_a_listed_child_without_a_ledger_entry(client):
    """每学期开学初要协助各中小学校开展1-2次劝学工作，并做好记录: the township records its rounds on the listed
    child, shown on the list; another township cannot, and a round is a first-step method."""
    staff = await token_for(client, STAFF)
    pupil = await enrolled_pupil(client, staff)
    await absent_in_window(client, staff, pupil["id"])
    township = await token_for(client, TOWNSHIP)
    done = await visit(client, township, pupil["id"])
    assert done["errors"] == []
    assert done["visit"]["recordedBy"] == TOWNSHIP
    second = await visit(client, township, pupil["id"], visitedOn="2026-09-25", method="PHONE")
    assert second["errors"] == []
    assert codes(await visit(client, township, pupil["id"], method="ORDER_TO_CORRECT")) == ["METHOD_NOT_ALLOWED"]
    assert codes(await visit(client, township, pupil["id"], visitedOn="2026-08-20")) == ["OUT_OF_RANGE"]
    assert codes(await visit(client, township, pupil["id"], visitedOn="2099-09-20")) == ["FUTURE_DATE"]
    assert codes(await visit(client, township, pupil["id"], outcome="  ")) == ["REQUIRED"]
    other = await visit(client, await token_for(client, OTHER_TOWNSHIP), pupil["id"])
    assert codes(other) == ["NOT_FOUND"]
    answer = await unreported(client, township)
    row = next(
        e["node"] for e in answer["data"]["unreportedPupils"]["edges"] if e["node"]["student"]["id"] == pupil["id"]
    )
    assert [v["visitedOn"] for v in row["visits"]] == ["2026-09-18", "2026-09-25"]
    assert await entries_of(client, staff, pupil["id"]) == []
    node = await gql(
        client,
        "query($id: ID!) { node(id: $id) { ... on TermStartVisit { outcome } } }",
        {"id": done["visit"]["id"]},
        await token_for(client, NEIGHBOUR_EDU),
    )
    assert node["data"]["node"] is None


async def test_the_window_follows_the_province_setting(client):
    """开学后15天内 is a setting: with 5 days, absences on the 6th day onwards do not list a pupil."""
    staff = await token_for(client, STAFF)
    pupil = await enrolled_pupil(client, staff)
    await record_absent(client, staff, pupil["id"], [d for d in WINDOW if d > date(2026, 9, 5)][:2])
    assert pupil["id"] in listed_ids(await unreported(client, staff))
    province = await token_for(client, "edu-province-53")
    changed = await gql(
        client,
        """mutation($input: UpdateProvinceSettingsInput!) { updateProvinceSettings(input: $input) {
          settings { termStartReportDays version } errors { code } } }""",
        {"input": {"provinceCode": "53", "version": 0, "termStartReportDays": 5}},
        province,
    )
    assert changed["data"]["updateProvinceSettings"]["settings"]["termStartReportDays"] == 5
    assert pupil["id"] not in listed_ids(await unreported(client, staff))


async def test_the_demo_lists_two_unreported_pupils_at_the_autumn_start(client):
    """The README's walk-through: 环州乡中心小学 lists 陈敏 (absent 1–4 September, then not recorded) and 罗伟
    (on sick leave through September); 环州乡's government sees 陈敏, who lives there; the neighbour county none."""
    school = "2153000037"
    answer = await unreported(client, await token_for(client, f"staff-school-{school}"), schoolCode=school)
    rows = {e["node"]["student"]["name"]: e["node"] for e in answer["data"]["unreportedPupils"]["edges"]}
    assert set(rows) == {"陈敏", "罗伟"}
    assert (rows["陈敏"]["daysAbsent"], rows["陈敏"]["onLeave"]) == (4, False)
    assert (rows["罗伟"]["daysAbsent"], rows["罗伟"]["onLeave"]) == (0, True)
    township = await unreported(client, await token_for(client, "gov-township-532329207"))
    assert "陈敏" in {e["node"]["student"]["name"] for e in township["data"]["unreportedPupils"]["edges"]}
    assert listed_ids(await unreported(client, await token_for(client, NEIGHBOUR_EDU))) == []


async def test_while_the_window_is_open_the_list_is_provisional_and_no_reason_is_taken(client, monkeypatch):
    """The reasons are verified after the 15 days (开学后15天内…登记造册并逐一核实原因): on 10 September the
    pupil absent since the 1st is listed provisionally, and an explanation is refused (WINDOW_OPEN)."""
    staff = await token_for(client, STAFF)
    pupil = await enrolled_pupil(client, staff)
    await absent_in_window(client, staff, pupil["id"])
    for module in ("resolvers.term_start.listing", "resolvers.term_start.explaining", "schema.term_start.types"):
        monkeypatch.setattr(f"{module}.today", lambda: date(2026, 9, 10))
    answer = await unreported(client, staff, schoolCode=WUDING_PRIMARY)
    row = next(
        e["node"] for e in answer["data"]["unreportedPupils"]["edges"] if e["node"]["student"]["id"] == pupil["id"]
    )
    assert (row["windowClosed"], row["windowClosesOn"]) == (False, "2026-09-15")
    refused = await explain(client, staff, pupil["id"], "ILL", note="发烧")
    assert codes(refused) == ["WINDOW_OPEN"]


async def test_an_explanation_is_a_node_read_like_the_list(client):
    """`UnreportedExplanation` resolves by `node(id:)` where its pupil's list item is readable, and is null
    for the neighbour county, like a missing object."""
    staff = await token_for(client, STAFF)
    pupil = await enrolled_pupil(client, staff)
    await absent_in_window(client, staff, pupil["id"])
    done = await explain(client, staff, pupil["id"], "UNREACHABLE", note="电话停机")
    query = "query($id: ID!) { node(id: $id) { ... on UnreportedExplanation { reason term schoolCode } } }"
    variables = {"id": done["pupil"]["explanation"]["id"]}
    for account in (STAFF, COUNTY_EDU, TOWNSHIP):
        node = (await gql(client, query, variables, await token_for(client, account)))["data"]["node"]
        assert node == {"reason": "UNREACHABLE", "term": TERM, "schoolCode": WUDING_PRIMARY}, account
    for account in (NEIGHBOUR_EDU, OTHER_TOWNSHIP):
        assert (await gql(client, query, variables, await token_for(client, account)))["data"]["node"] is None
