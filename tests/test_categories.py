"""Categories fit the child (seed 003 annex 1 note 3) through the API: a category that contradicts the
child's record is refused with CATEGORY_MISMATCH naming the rule (models/ledger_categories.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.conftest import error_codes, gql, token_for
from tests.ledger_support import COUNTY_EDU, NEIGHBOUR_EDU, make_student
from tests.migrant_support import WUDING_JUNIOR
from tests.persuasion_support import CASE, CATEGORY, OPEN, TOWNSHIP, codes, mutate, request_deferral


class Cases:
    """One suspected entry per child, opened on first use: `category(child, X)` sets X on it."""

    def __init__(self, client: Any, token: str) -> None:
        self.client, self.token = client, token
        self.entries: dict[str, dict[str, Any]] = {}

    async def category(self, student: dict[str, Any], category: str) -> Any:
        if student["id"] not in self.entries:
            input = {
                "studentId": student["id"],
                "ledger": "SUSPECTED",
                "source": "DOOR_TO_DOOR",
                "openedOn": "2026-09-01",
            }
            opened = await mutate(self.client, OPEN, "openLedgerEntry", input, self.token)
            assert opened["errors"] == [], opened
            self.entries[student["id"]] = opened["entry"]
        return await set_category(self.client, self.token, self.entries[student["id"]], category)


async def set_category(client, token: str, entry: dict[str, Any], category: str) -> Any:
    current = (await gql(client, CASE, {"id": entry["id"]}, token))["data"]["node"]
    input = {"entryId": entry["id"], "category": category, "version": current["version"]}
    return await mutate(client, CATEGORY, "setLedgerCategory", input, token)


def mismatch(payload: dict[str, Any]) -> str | None:
    """The rule named by a CATEGORY_MISMATCH refusal, None when accepted."""
    if payload["errors"] == []:
        return None
    [error] = payload["errors"]
    assert (error["field"], error["code"]) == ("category", "CATEGORY_MISMATCH"), error
    return error["message"].split("规则 ")[1].split("，")[0]


async def test_a_and_b_are_children_never_enrolled_of_their_age_band(client):
    """Seed 003 annex 1 note 3: A 失学（小学适龄阶段）, B 失学（初中适龄阶段） — never enrolled, and of primary
    (6–11) or junior-secondary (12–15) age when found."""
    township = await token_for(client, TOWNSHIP)
    cases = Cases(client, township)
    eight = await make_student(client, township, school=None, grade=None, birth=date(2018, 3, 1))
    thirteen = await make_student(client, township, school=None, grade=None, birth=date(2013, 3, 1))
    pupil = await make_student(client, township, birth=date(2018, 3, 1))  # at 狮山镇中心小学
    assert mismatch(await cases.category(eight, "B")) == "JUNIOR_AGE"
    assert mismatch(await cases.category(thirteen, "A")) == "PRIMARY_AGE"
    assert mismatch(await cases.category(pupil, "A")) == "NEVER_ENROLLED"
    accepted = await cases.category(thirteen, "B")
    assert mismatch(accepted) is None
    assert accepted["entry"]["category"] == "B"
    assert mismatch(await cases.category(eight, "A")) is None


async def test_c_and_d_are_disabled_children_d_with_the_expert_committees_assessment(client):
    """Seed 003 annex 1 note 3: C 因残辍学（可以在校就读）, D 因残辍学（经评估不适宜在校就读）; seed 001 二2:
    the assessment is the county disability-education expert committee's."""
    county = await token_for(client, COUNTY_EDU)
    cases = Cases(client, county)
    healthy = await make_student(client, county)
    disabled = await make_student(client, county, special_groups=["DISABLED"])
    assert mismatch(await cases.category(healthy, "C")) == "DISABLED"
    assert mismatch(await cases.category(healthy, "D")) == "DISABLED"
    assert mismatch(await cases.category(disabled, "C")) is None

    other = await make_student(client, county, special_groups=["DISABLED"])
    opened = await mutate(
        client,
        OPEN,
        "openLedgerEntry",
        {"studentId": other["id"], "ledger": "DROPOUT", "source": "DOOR_TO_DOOR", "openedOn": "2026-09-01"},
        county,
    )
    entry = opened["entry"]
    assert mismatch(await set_category(client, county, entry, "D")) == "EXPERT_ASSESSED"
    assessed = await request_deferral(client, county, entry, "EXPERT_ASSESSMENT", "武残教评〔2026〕5号", statement=None)
    assert assessed["errors"] == []
    assert mismatch(await set_category(client, county, entry, "D")) is None


async def test_o_is_over_age_s_the_primary_to_junior_step_r_a_relocated_household(client):
    """Seed 003 annex 1 note 3: O 超龄离校 (older than 15), S “小升初”辍学 (grade 6 or out after finishing
    primary), R 易地扶贫搬迁辍学 (a household known as relocated: special group RELOCATED)."""
    county = await token_for(client, COUNTY_EDU)
    cases = Cases(client, county)
    fourteen = await make_student(client, county, school=WUDING_JUNIOR, grade=8, birth=date(2012, 3, 1))
    seventeen = await make_student(client, county, school=WUDING_JUNIOR, grade=9, birth=date(2009, 3, 1))
    assert mismatch(await cases.category(fourteen, "O")) == "OVER_AGE"
    assert mismatch(await cases.category(seventeen, "O")) is None

    third_grade = await make_student(client, county)
    sixth_grade = await make_student(client, county, grade=6, birth=date(2014, 3, 1))
    assert mismatch(await cases.category(third_grade, "S")) == "PRIMARY_TO_JUNIOR"
    assert mismatch(await cases.category(sixth_grade, "S")) is None

    stayed = await make_student(client, county)
    moved = await make_student(client, county, special_groups=["RELOCATED", "POVERTY_REGISTERED"])
    assert mismatch(await cases.category(stayed, "R")) == "RELOCATED"
    assert mismatch(await cases.category(moved, "R")) is None
    # Categories that say what only a visit finds out fit any child.
    assert mismatch(await cases.category(await make_student(client, county), "F")) is None


async def test_a_mismatch_when_opening_writes_nothing_and_strangers_are_refused(client):
    """Seed 003 annex 1 note 3 applies when the entry is opened with its category too: nothing is written.
    A neighbouring county does not see the entry (NOT_FOUND), the city may not write (FORBIDDEN)."""
    county = await token_for(client, COUNTY_EDU)
    pupil = await make_student(client, county)
    refused = await mutate(
        client,
        OPEN,
        "openLedgerEntry",
        {
            "studentId": pupil["id"],
            "ledger": "DROPOUT",
            "source": "DOOR_TO_DOOR",
            "openedOn": "2026-09-01",
            "category": "A",
        },
        county,
    )
    assert codes(refused) == ["CATEGORY_MISMATCH"]
    assert "NEVER_ENROLLED" in refused["errors"][0]["message"]
    opened = await mutate(
        client,
        OPEN,
        "openLedgerEntry",
        {"studentId": pupil["id"], "ledger": "DROPOUT", "source": "DOOR_TO_DOOR", "openedOn": "2026-09-01"},
        county,
    )
    assert opened["errors"] == []  # the refused opening left no entry behind
    neighbour = await token_for(client, NEIGHBOUR_EDU)
    input = {"entryId": opened["entry"]["id"], "category": "F", "version": opened["entry"]["version"]}
    assert codes(await mutate(client, CATEGORY, "setLedgerCategory", input, neighbour)) == ["NOT_FOUND"]
    city = await token_for(client, "edu-city-5323")
    assert error_codes(await mutate(client, CATEGORY, "setLedgerCategory", input, city)) == ["FORBIDDEN"]
