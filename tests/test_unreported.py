"""The unreported list at term start (POLICY 002 一(三): "每学期开学后15天内，对未报到的学生登记造册并逐一核实原因"):
who lands on it, the reasons the school verifies, the townships' term-start rounds (每学期开学初要协助各中小学校
开展1-2次劝学工作，并做好记录), and who may see and change what."""

from __future__ import annotations

from datetime import date

from tests.conftest import error_codes, token_for
from tests.ledger_support import COUNTY_EDU, NEIGHBOUR_EDU, STAFF, WUDING_PRIMARY, record_absent
from tests.report_support import MINISTRY, PRINCIPAL
from tests.term_start_support import (
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
