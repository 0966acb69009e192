"""Getting children back (劝返复学) through the API: every visit recorded (POLICY 004 §9), the legal
four-step method in order (POLICY 000 §2), one plan per child (一人一案), cases followed up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from models import AuditLog
from models.base import today
from models.persuasion import PersuasionVisit
from tests.conftest import error_codes, gql, token_for
from tests.ledger_support import COUNTY_EDU, NEIGHBOUR_EDU, entries_of, raw_id
from tests.persuasion_support import (
    AUDIT,
    CITY_EDU,
    COUNTY_GOV,
    JOINT,
    NEXT_TOWNSHIP,
    PLAN,
    SUPERVISOR,
    TOWNSHIP,
    case,
    codes,
    decide,
    deferred_on_joint_visits,
    mutate,
    new_case,
    visit,
)

# --- every visit recorded, the four steps ---------------------------------------------------------


async def test_every_visit_is_listed_on_the_entry_by_date_with_its_participants(client):
    """POLICY 004 §9: 做好每次劝返记录 — every attempt is kept, listed by date, the latest on the entry."""
    county = await token_for(client, COUNTY_EDU)
    entry = await new_case(client, county)

    first = await visit(client, county, entry, "2026-10-20", outcome="家长外出")
    assert first["errors"] == []
    assert {k: v for k, v in first["visit"].items() if k != "id"} == {
        "visitedOn": "2026-10-20",
        "method": "HOME_VISIT",
        "stage": 1,
        "correctBy": None,
        "liabilityOutcome": None,
        "recordedBy": COUNTY_EDU,
    }
    assert first["entry"]["lastVisitOn"] == "2026-10-20"
    earlier = await visit(client, county, entry, "2026-09-05", method="PHONE", outcome="电话无人接听")
    assert earlier["errors"] == []
    assert earlier["entry"]["lastVisitOn"] == "2026-10-20"  # a visit recorded late does not move it back
    joint = await visit(client, county, entry, "2026-11-02", method="JOINT_VISIT", people=JOINT, outcome="答应返校")
    assert joint["entry"]["lastVisitOn"] == "2026-11-02"

    seen = await case(client, county, entry)
    assert [(v["visitedOn"], v["method"], v["outcome"]) for v in seen["visits"]] == [
        ("2026-09-05", "PHONE", "电话无人接听"),
        ("2026-10-20", "HOME_VISIT", "家长外出"),
        ("2026-11-02", "JOINT_VISIT", "答应返校"),
    ]
    assert seen["visits"][2]["participants"] == JOINT
    assert seen["lastVisitOn"] == "2026-11-02"
    assert seen["version"] == entry["version"] + 3


async def test_the_four_steps_are_taken_in_order(client):
    """POLICY 000 §2 (依法控辍四步法): persuasion by school and village, then an order to correct within a
    time limit by the township or county bureau, then judicial documents — never a step skipped."""
    county = await token_for(client, COUNTY_EDU)
    entry = await new_case(client, county)

    order = {"method": "ORDER_TO_CORRECT", "people": [{"name": "乡长", "department": "乡政府", "line": "GOV"}]}
    assert codes(await visit(client, county, entry, "2026-09-05", stage=2, **order)) == ["STAGE_SKIPPED"]
    assert codes(await visit(client, county, entry, "2026-09-05", stage=1, **order)) == ["METHOD_NEEDS_STAGE"]
    assert codes(await visit(client, county, entry, "2026-09-05", stage=5)) == ["OUT_OF_RANGE"]

    assert (await visit(client, county, entry, "2026-09-05", stage=1))["errors"] == []
    judicial = {"method": "JUDICIAL_DOCUMENT", "people": [{"name": "法官", "department": "法院", "line": "GOV"}]}
    assert codes(await visit(client, county, entry, "2026-09-20", stage=2, **judicial)) == ["METHOD_NEEDS_STAGE"]
    assert codes(await visit(client, county, entry, "2026-09-20", stage=3, **judicial)) == ["STAGE_SKIPPED"]

    assert (await visit(client, county, entry, "2026-09-20", stage=2, correctBy="2026-10-05", **order))["errors"] == []
    assert (await visit(client, county, entry, "2026-10-20", stage=3, **judicial))["errors"] == []
    seen = await case(client, county, entry)
    assert [(v["method"], v["stage"]) for v in seen["visits"]] == [
        ("HOME_VISIT", 1),
        ("ORDER_TO_CORRECT", 2),
        ("JUDICIAL_DOCUMENT", 3),
    ]


async def test_a_step_cannot_be_dated_before_the_step_it_follows(client):
    """POLICY 000 §2: the order to correct comes after the persuasion failed (逾期不改的 … 再由司法部门),
    so a stage-2 visit dated before the first stage-1 visit skips a step even if recorded later."""
    county = await token_for(client, COUNTY_EDU)
    entry = await new_case(client, county)
    assert (await visit(client, county, entry, "2026-10-10", stage=1))["errors"] == []
    order = [{"name": "乡长", "department": "乡政府", "line": "GOV"}]
    early = await visit(
        client, county, entry, "2026-10-01", method="ORDER_TO_CORRECT", stage=2, people=order, correctBy="2026-10-15"
    )
    assert codes(early) == ["STAGE_SKIPPED"]
    same_day = await visit(
        client, county, entry, "2026-10-10", method="ORDER_TO_CORRECT", stage=2, people=order, correctBy="2026-10-24"
    )
    assert same_day["errors"] == []


async def test_a_joint_visit_needs_people_from_two_departments(client):
    """POLICY 001 §2.2 (经相关部门联合劝返): a joint visit is one by several departments."""
    county = await token_for(client, COUNTY_EDU)
    entry = await new_case(client, county)
    one_department = [
        {"name": "李老师", "department": "学校", "line": "EDU"},
        {"name": "王老师", "department": " 学校 ", "line": "EDU"},
    ]
    refused = await visit(client, county, entry, "2026-09-10", method="JOINT_VISIT", people=one_department)
    assert codes(refused) == ["JOINT_NEEDS_DEPARTMENTS"]
    blank = [
        {"name": "李老师", "department": "学校", "line": "EDU"},
        {"name": "某人", "department": "  ", "line": "GOV"},
    ]
    refused = await visit(client, county, entry, "2026-09-10", method="JOINT_VISIT", people=blank)
    assert codes(refused) == ["JOINT_NEEDS_DEPARTMENTS"]
    assert codes(await visit(client, county, entry, "2026-09-10", people=[])) == ["REQUIRED"]
    accepted = await visit(client, county, entry, "2026-09-10", method="JOINT_VISIT", people=JOINT)
    assert accepted["errors"] == []


async def test_the_township_records_visits_for_children_living_in_it(client):
    """双线四级 (ARCHITECTURE §4): the government line answers for every child living in its area — the township
    visits as well as the school; the next township sees nothing of the case."""
    county = await token_for(client, COUNTY_EDU)
    township = await token_for(client, TOWNSHIP)
    next_township = await token_for(client, NEXT_TOWNSHIP)
    entry = await new_case(client, county)

    people = [{"name": "王乡长", "department": "狮山镇人民政府", "line": "GOV"}]
    recorded = await visit(client, township, entry, "2026-09-15", people=people)
    assert recorded["errors"] == []
    assert recorded["visit"]["recordedBy"] == TOWNSHIP
    refused = await visit(client, next_township, entry, "2026-09-16", people=people)
    assert codes(refused) == ["NOT_FOUND"]
    seen = await case(client, county, entry)
    assert [(v["visitedOn"], v["recordedBy"]) for v in seen["visits"]] == [("2026-09-15", TOWNSHIP)]
    assert seen["lastVisitOn"] == "2026-09-15"


# --- one plan per child ----------------------------------------------------------------------------


async def test_one_plan_per_child_is_created_then_updated_with_its_version(client):
    """POLICY 001 §2.2 (一人一案制定工作方案), POLICY 004 §9: one plan per child, changed by version only."""
    county = await token_for(client, COUNTY_EDU)
    entry = await new_case(client, county)
    plan = {
        "studentId": entry["studentId"],
        "goal": "秋季学期返校",
        "responsibleEdu": "李校长",
        "responsibleGov": "王乡长",
        "steps": ["入户劝返", " ", "联合劝返"],
    }
    created = await mutate(client, PLAN, "setCasePlan", plan, county)
    assert created["errors"] == []
    assert created["plan"] == {
        "goal": "秋季学期返校",
        "responsibleEdu": "李校长",
        "responsibleGov": "王乡长",
        "steps": ["入户劝返", "联合劝返"],
        "updatedBy": COUNTY_EDU,
        "version": 1,
    }
    assert codes(await mutate(client, PLAN, "setCasePlan", {**plan, "version": 0}, county)) == ["CONFLICT"]
    updated = await mutate(client, PLAN, "setCasePlan", {**plan, "goal": "插班就读", "version": 1}, county)
    assert (updated["errors"], updated["plan"]["version"]) == ([], 2)
    stale = await mutate(client, PLAN, "setCasePlan", {**plan, "goal": "旧版本", "version": 1}, county)
    assert codes(stale) == ["CONFLICT"]
    assert (await case(client, county, entry))["plan"] == {"goal": "插班就读", "version": 2}


async def test_a_plan_is_refused_to_a_reader_and_hidden_from_the_neighbour_county(client):
    """LEDGER:WRITE is needed to set a plan (authz/policy.csv); a sibling county sees no such child."""
    county = await token_for(client, COUNTY_EDU)
    city = await token_for(client, CITY_EDU)
    neighbour = await token_for(client, NEIGHBOUR_EDU)
    entry = await new_case(client, county)
    plan = {
        "studentId": entry["studentId"],
        "goal": "返校",
        "responsibleEdu": "甲",
        "responsibleGov": "乙",
        "steps": [],
    }
    assert error_codes(await mutate(client, PLAN, "setCasePlan", plan, city)) == ["FORBIDDEN"]
    assert codes(await mutate(client, PLAN, "setCasePlan", plan, neighbour)) == ["NOT_FOUND"]
    assert (await case(client, county, entry))["plan"] is None


# --- following cases up ------------------------------------------------------------------------------


async def test_no_visit_for_days_finds_cases_left_unvisited(client):
    """POLICY 004 §9 (加强劝返复学，做好每次劝返记录): the county finds cases nobody has visited lately."""
    county = await token_for(client, COUNTY_EDU)
    now = today()
    opened = (now - timedelta(days=60)).isoformat()
    stale = await new_case(client, county, opened_on=opened)
    assert (await visit(client, county, stale, now - timedelta(days=40)))["errors"] == []
    recent = await new_case(client, county, opened_on=opened)
    assert (await visit(client, county, recent, now - timedelta(days=2)))["errors"] == []
    never = await new_case(client, county, opened_on=(now - timedelta(days=45)).isoformat())
    fresh = await new_case(client, county, opened_on=(now - timedelta(days=5)).isoformat())

    async def unvisited(entry: dict[str, Any], days: int) -> bool:
        found = await entries_of(client, county, entry["studentId"], noVisitForDays=days)
        return [e["id"] for e in found] == [entry["id"]]

    assert [await unvisited(e, 30) for e in (stale, recent, never, fresh)] == [True, False, True, False]
    assert await unvisited(recent, 1)
    assert not await unvisited(stale, 40)  # visited exactly 40 days ago: not more than 40


async def test_every_change_is_audited_with_its_actor(client, sessions):
    """ARCHITECTURE §5 (audit rows in the same transaction): each persuasion step is audited."""
    county = await token_for(client, COUNTY_EDU)
    township = await token_for(client, TOWNSHIP)
    county_gov = await token_for(client, COUNTY_GOV)
    entry = await new_case(client, county)
    assert (await visit(client, township, entry, "2026-09-05"))["errors"] == []
    plan = {
        "studentId": entry["studentId"],
        "goal": "返校",
        "responsibleEdu": "甲",
        "responsibleGov": "乙",
        "steps": [],
    }
    assert (await mutate(client, PLAN, "setCasePlan", plan, county))["errors"] == []
    deferral_id = await deferred_on_joint_visits(client, entry)
    assert error_codes(await decide(client, township, deferral_id, True)) == ["FORBIDDEN"]  # no audit row
    assert (await decide(client, county_gov, deferral_id, True))["errors"] == []

    async with sessions() as s:
        rows = (
            await s.execute(
                select(AuditLog.actor, AuditLog.action)
                .where(AuditLog.target_type == "LedgerEntry", AuditLog.target_id == str(raw_id(entry["id"])))
                .order_by(AuditLog.id)
            )
        ).all()
        plan_rows = (
            await s.execute(
                select(AuditLog.actor, AuditLog.action).where(
                    AuditLog.target_type == "Student", AuditLog.target_id == str(raw_id(entry["studentId"]))
                )
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        (COUNTY_EDU, "ledger.open"),
        (TOWNSHIP, "ledger.record_visit"),
        (COUNTY_EDU, "ledger.record_visit"),
        (COUNTY_EDU, "ledger.record_visit"),
        (COUNTY_EDU, "ledger.record_visit"),
        (COUNTY_EDU, "ledger.request_deferral"),
        (COUNTY_GOV, "ledger.decide_deferral"),
    ]
    assert (COUNTY_EDU, "ledger.set_plan") in [tuple(r) for r in plan_rows]

    supervisor = await token_for(client, SUPERVISOR)
    log = await gql(client, AUDIT, {"f": {"action": "ledger.decide_deferral", "actor": COUNTY_GOV}}, supervisor)
    targets = [e["node"]["targetId"] for e in log["data"]["auditLog"]["edges"]]
    assert targets == [str(raw_id(entry["id"]))]


async def test_a_refused_visit_leaves_no_trace(client, sessions):
    """ARCHITECTURE §2 (one transaction per operation, no partial writes): a refused visit writes no visit, no
    audit row and does not move the entry's latest visit or version."""
    county = await token_for(client, COUNTY_EDU)
    city = await token_for(client, CITY_EDU)
    entry = await new_case(client, county)
    first = await visit(client, county, entry, "2026-10-10")
    assert first["errors"] == []

    async def trace() -> tuple[int, int]:
        async with sessions() as s:
            visits = await s.scalar(
                select(func.count()).select_from(PersuasionVisit).where(PersuasionVisit.entry_id == raw_id(entry["id"]))
            )
            audits = await s.scalar(
                select(func.count()).select_from(AuditLog).where(AuditLog.target_id == str(raw_id(entry["id"])))
            )
        return visits or 0, audits or 0

    before = await trace()
    assert before == (1, 2)
    later = (today() + timedelta(days=1)).isoformat()
    one_department = [{"name": "甲", "department": "学校", "line": "EDU"}]
    assert codes(await visit(client, county, entry, "2026-10-20", stage=3)) == ["STAGE_SKIPPED"]
    assert codes(await visit(client, county, entry, "2026-10-21", method="JOINT_VISIT", people=one_department)) == [
        "JOINT_NEEDS_DEPARTMENTS"
    ]
    assert codes(await visit(client, county, entry, later)) == ["OUT_OF_RANGE"]
    assert codes(await visit(client, county, entry, "2026-08-31")) == ["OUT_OF_RANGE"]  # before opening
    assert codes(await visit(client, county, entry, "2026-10-22", outcome="  ")) == ["REQUIRED"]
    assert error_codes(await visit(client, city, entry, "2026-10-23")) == ["FORBIDDEN"]

    assert await trace() == before
    seen = await case(client, county, entry)
    assert (seen["lastVisitOn"], seen["version"]) == ("2026-10-10", first["entry"]["version"])
