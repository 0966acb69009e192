"""Getting children back (劝返复学) through the API: every visit recorded (seed 004 §9), the legal
four-step method in order (seed 000 §2), one plan per child, and deferral after three joint visits, a
judicial ruling or an expert assessment, approved at county level only (seed 001 §2.2)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from models import AuditLog
from models.base import today
from models.persuasion import PersuasionVisit
from tests.conftest import error_codes, gql, token_for
from tests.ledger_support import COUNTY_EDU, NEIGHBOUR_EDU, STAFF, WUDING, entries_of, make_student, raw_id

PRINCIPAL = "edu-school-2153000036"
CITY_EDU = "edu-city-5323"
COUNTY_GOV = f"gov-county-{WUDING}"
TOWNSHIP = f"gov-township-{WUDING}101"  # 狮山镇, where the test children live
NEXT_TOWNSHIP = f"gov-township-{WUDING}102"  # 高桥镇, the next township
SUPERVISOR = f"supervisor-county-{WUDING}"

TEACHER = [{"name": "班主任", "department": "学校", "line": "EDU"}]
JOINT = [
    {"name": "李校长", "department": "学校", "line": "EDU"},
    {"name": "王乡长", "department": "狮山镇人民政府", "line": "GOV"},
    {"name": "张所长", "department": "司法所", "line": "GOV"},
]

ERRORS = "errors { field code message }"
CASE_FIELDS = "id status category version openedOn lastVisitOn"
OPEN = f"""mutation($input: OpenLedgerEntryInput!) {{ openLedgerEntry(input: $input) {{
  entry {{ {CASE_FIELDS} }} {ERRORS} }} }}"""
VISIT = f"""mutation($input: RecordPersuasionVisitInput!) {{ recordPersuasionVisit(input: $input) {{
  visit {{ visitedOn method stage recordedBy }} entry {{ {CASE_FIELDS} }} {ERRORS} }} }}"""
PLAN = f"""mutation($input: SetCasePlanInput!) {{ setCasePlan(input: $input) {{
  plan {{ goal responsibleEdu responsibleGov steps updatedBy version }} {ERRORS} }} }}"""
REQUEST = f"""mutation($input: RequestDeferralInput!) {{ requestDeferral(input: $input) {{
  deferral {{ id basis status documentRef requestedBy }} entry {{ {CASE_FIELDS} }} {ERRORS} }} }}"""
DECIDE = f"""mutation($input: DecideDeferralInput!) {{ decideDeferral(input: $input) {{
  deferral {{ id status decidedBy decisionNote }} entry {{ {CASE_FIELDS} }} {ERRORS} }} }}"""
CATEGORY = f"""mutation($input: SetLedgerCategoryInput!) {{ setLedgerCategory(input: $input) {{
  entry {{ {CASE_FIELDS} }} {ERRORS} }} }}"""
CLOSE = f"""mutation($input: CloseOutLedgerEntryInput!) {{ closeOutLedgerEntry(input: $input) {{
  entry {{ {CASE_FIELDS} closeOut {{ reason by }} }} {ERRORS} }} }}"""
CASE = f"""query($id: ID!) {{ node(id: $id) {{ ... on LedgerEntry {{ {CASE_FIELDS}
  visits {{ visitedOn method stage outcome recordedBy participants {{ name department line }} }}
  deferrals {{ id status basis requestedBy decidedBy }}
  plan {{ goal version }} }} }} }}"""
AUDIT = """query($f: AuditFilter) { auditLog(filter: $f, first: 100) {
  edges { node { actor action targetType targetId } } } }"""


# --- helpers ---------------------------------------------------------------------------------------


async def mutate(client: httpx.AsyncClient, query: str, name: str, input: dict[str, Any], token: str) -> Any:
    """The mutation's payload, or the whole response when the operation was refused (FORBIDDEN)."""
    result = await gql(client, query, {"input": input}, token)
    return result["data"][name] if (result.get("data") or {}).get(name) else result


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def new_case(
    client: httpx.AsyncClient, county: str, *, opened_on: str = "2026-09-01", **student: Any
) -> dict[str, Any]:
    """A new child put on the suspected ledger by door-to-door search, as the county bureau."""
    child = await make_student(client, county, **student)
    payload = await mutate(
        client,
        OPEN,
        "openLedgerEntry",
        {"studentId": child["id"], "ledger": "SUSPECTED", "source": "DOOR_TO_DOOR", "openedOn": opened_on},
        county,
    )
    assert payload["errors"] == [], payload
    return {**payload["entry"], "studentId": child["id"]}


async def visit(
    client: httpx.AsyncClient,
    token: str,
    entry: dict[str, Any],
    visited_on: date | str,
    *,
    method: str = "HOME_VISIT",
    stage: int = 1,
    people: list[dict[str, str]] | None = None,
    outcome: str = "家长表示考虑送孩子返校",
) -> Any:
    visited = visited_on if isinstance(visited_on, str) else visited_on.isoformat()
    input = {
        "entryId": entry["id"],
        "visitedOn": visited,
        "method": method,
        "stage": stage,
        "participants": TEACHER if people is None else people,
        "outcome": outcome,
    }
    return await mutate(client, VISIT, "recordPersuasionVisit", input, token)


async def joint_visits(client: httpx.AsyncClient, token: str, entry: dict[str, Any], days: list[str]) -> None:
    for day in days:
        payload = await visit(client, token, entry, day, method="JOINT_VISIT", people=JOINT)
        assert payload["errors"] == [], payload


async def request_deferral(
    client: httpx.AsyncClient, token: str, entry: dict[str, Any], basis: str, document_ref: str | None = None
) -> Any:
    input = {
        "entryId": entry["id"],
        "basis": basis,
        "grounds": "监护人已履行义务，本人仍拒不返校",
        "documentRef": document_ref,
    }
    return await mutate(client, REQUEST, "requestDeferral", input, token)


async def decide(
    client: httpx.AsyncClient, token: str, deferral_id: str, approve: bool, note: str | None = None
) -> Any:
    input = {"deferralId": deferral_id, "approve": approve, "note": note}
    return await mutate(client, DECIDE, "decideDeferral", input, token)


async def deferred_on_joint_visits(client: httpx.AsyncClient, requester: str, entry: dict[str, Any]) -> str:
    """Three joint visits, then a deferral request by `requester`: the request's id."""
    county = await token_for(client, COUNTY_EDU)
    await joint_visits(client, county, entry, ["2026-09-10", "2026-09-20", "2026-09-30"])
    payload = await request_deferral(client, requester, entry, "JOINT_VISITS")
    assert payload["errors"] == [], payload
    return str(payload["deferral"]["id"])


async def case(client: httpx.AsyncClient, token: str, entry: dict[str, Any]) -> Any:
    return (await gql(client, CASE, {"id": entry["id"]}, token))["data"]["node"]


# --- every visit recorded, the four steps ---------------------------------------------------------


async def test_every_visit_is_listed_on_the_entry_by_date_with_its_participants(client):
    """Seed 004 §9: 做好每次劝返记录 — every attempt is kept, listed by date, the latest on the entry."""
    county = await token_for(client, COUNTY_EDU)
    entry = await new_case(client, county)

    first = await visit(client, county, entry, "2026-10-20", outcome="家长外出")
    assert first["errors"] == []
    assert first["visit"] == {"visitedOn": "2026-10-20", "method": "HOME_VISIT", "stage": 1, "recordedBy": COUNTY_EDU}
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
    """Seed 000 §2 (依法控辍四步法): persuasion by school and village, then an order to correct within a
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

    assert (await visit(client, county, entry, "2026-09-20", stage=2, **order))["errors"] == []
    assert (await visit(client, county, entry, "2026-10-20", stage=3, **judicial))["errors"] == []
    seen = await case(client, county, entry)
    assert [(v["method"], v["stage"]) for v in seen["visits"]] == [
        ("HOME_VISIT", 1),
        ("ORDER_TO_CORRECT", 2),
        ("JUDICIAL_DOCUMENT", 3),
    ]


async def test_a_step_cannot_be_dated_before_the_step_it_follows(client):
    """Seed 000 §2: the order to correct comes after the persuasion failed (逾期不改的 … 再由司法部门),
    so a stage-2 visit dated before the first stage-1 visit skips a step even if recorded later."""
    county = await token_for(client, COUNTY_EDU)
    entry = await new_case(client, county)
    assert (await visit(client, county, entry, "2026-10-10", stage=1))["errors"] == []
    order = [{"name": "乡长", "department": "乡政府", "line": "GOV"}]
    early = await visit(client, county, entry, "2026-10-01", method="ORDER_TO_CORRECT", stage=2, people=order)
    assert codes(early) == ["STAGE_SKIPPED"]
    same_day = await visit(client, county, entry, "2026-10-10", method="ORDER_TO_CORRECT", stage=2, people=order)
    assert same_day["errors"] == []


async def test_a_joint_visit_needs_people_from_two_departments(client):
    """Seed 001 §2.2 (经相关部门联合劝返): a joint visit is one by several departments."""
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
    """DOMAIN 双线四级: the government line answers for every child living in its area — the township
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
    """Seed 001 §2.2 (一人一案制定工作方案), seed 004 §9: one plan per child, changed by version only."""
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


# --- deferral: the three grounds ---------------------------------------------------------------------


async def test_deferral_on_joint_visits_needs_three_of_them(client):
    """Seed 001 §2.2: 经相关部门联合劝返三次以上 … 准许先办理延缓入学或休学手续."""
    county = await token_for(client, COUNTY_EDU)
    township = await token_for(client, TOWNSHIP)
    entry = await new_case(client, county)
    await joint_visits(client, county, entry, ["2026-09-10", "2026-09-20"])
    assert (await visit(client, county, entry, "2026-09-25"))["errors"] == []  # not a joint visit
    assert codes(await request_deferral(client, township, entry, "JOINT_VISITS")) == ["TOO_FEW_JOINT_VISITS"]
    assert await entries_of(client, county, entry["studentId"], deferralPending=True) == []

    await joint_visits(client, county, entry, ["2026-09-30"])
    requested = await request_deferral(client, township, entry, "JOINT_VISITS")
    assert requested["errors"] == []
    assert {k: requested["deferral"][k] for k in ("basis", "status", "requestedBy")} == {
        "basis": "JOINT_VISITS",
        "status": "PENDING",
        "requestedBy": TOWNSHIP,
    }
    assert requested["entry"]["status"] == "OPEN"
    pending = await entries_of(client, county, entry["studentId"], deferralPending=True)
    assert [e["id"] for e in pending] == [entry["id"]]
    assert await entries_of(client, county, entry["studentId"], deferralPending=False) == []

    again = await request_deferral(client, county, entry, "JUDICIAL_RULING", "（2026）云2329民初1号")
    assert codes(again) == ["ALREADY_REQUESTED"]


async def test_deferral_on_a_judicial_ruling_needs_the_ruling(client):
    """Seed 001 §2.2: 经司法部门判决裁定 — the ruling is cited by its document number."""
    county = await token_for(client, COUNTY_EDU)
    entry = await new_case(client, county)
    assert codes(await request_deferral(client, county, entry, "JUDICIAL_RULING")) == ["DOCUMENT_REQUIRED"]
    assert codes(await request_deferral(client, county, entry, "JUDICIAL_RULING", "  ")) == ["DOCUMENT_REQUIRED"]
    accepted = await request_deferral(client, county, entry, "JUDICIAL_RULING", "（2026）云2329民初1号")
    assert accepted["errors"] == []
    assert (accepted["deferral"]["status"], accepted["deferral"]["documentRef"]) == ("PENDING", "（2026）云2329民初1号")


async def test_deferral_on_an_expert_assessment_is_for_disabled_children_only(client):
    """Seed 001 §2.2: 对不具备学习条件的 [残疾儿童]，经县级残疾人教育专家委员会评估认定，可以办理延缓入学或休学."""
    county = await token_for(client, COUNTY_EDU)
    not_disabled = await new_case(client, county)
    refused = await request_deferral(client, county, not_disabled, "EXPERT_ASSESSMENT", "武残教评〔2026〕3号")
    assert codes(refused) == ["NOT_DISABLED"]
    disabled = await new_case(client, county, special_groups=["DISABLED"])
    assert codes(await request_deferral(client, county, disabled, "EXPERT_ASSESSMENT")) == ["DOCUMENT_REQUIRED"]
    accepted = await request_deferral(client, county, disabled, "EXPERT_ASSESSMENT", "武残教评〔2026〕3号")
    assert accepted["errors"] == []
    assert accepted["deferral"]["basis"] == "EXPERT_ASSESSMENT"


# --- deferral: the county decides ----------------------------------------------------------------------


async def test_only_the_county_approves_a_deferral_and_persuasion_goes_on(client):
    """Seed 001 §2.2: deferral is approved at county level (经县级 … 核实同意) — not by the school, not by
    the city — and 并继续做好劝返复学工作: visits continue; the deferred child counts under P (seed 003)."""
    county = await token_for(client, COUNTY_EDU)
    principal = await token_for(client, PRINCIPAL)
    city = await token_for(client, CITY_EDU)
    neighbour = await token_for(client, NEIGHBOUR_EDU)
    entry = await new_case(client, county)
    deferral_id = await deferred_on_joint_visits(client, principal, entry)

    assert error_codes(await decide(client, principal, deferral_id, True)) == ["FORBIDDEN"]
    assert error_codes(await decide(client, city, deferral_id, True)) == ["FORBIDDEN"]
    assert codes(await decide(client, neighbour, deferral_id, True)) == ["NOT_FOUND"]
    assert [d["status"] for d in (await case(client, county, entry))["deferrals"]] == ["PENDING"]

    approved = await decide(client, county, deferral_id, True, "同意延缓入学一学期")
    assert approved["errors"] == []
    assert approved["deferral"] == {
        "id": deferral_id,
        "status": "APPROVED",
        "decidedBy": COUNTY_EDU,
        "decisionNote": "同意延缓入学一学期",
    }
    assert (approved["entry"]["status"], approved["entry"]["category"]) == ("DEFERRED", "P")
    assert codes(await decide(client, county, deferral_id, False, "改判")) == ["ALREADY_DECIDED"]

    after = await visit(client, principal, entry, "2026-11-20", outcome="继续劝返")
    assert after["errors"] == []
    assert (after["entry"]["status"], after["entry"]["lastVisitOn"]) == ("DEFERRED", "2026-11-20")


async def test_nobody_approves_their_own_deferral_request(client):
    """DOMAIN 双线四级: a level never approves its own submission; the county government (the leading
    group's line, seed 001 §2.2) may approve the bureau's request."""
    county = await token_for(client, COUNTY_EDU)
    county_gov = await token_for(client, COUNTY_GOV)
    entry = await new_case(client, county)
    deferral_id = await deferred_on_joint_visits(client, county, entry)
    assert codes(await decide(client, county, deferral_id, True)) == ["OWN_REQUEST"]
    approved = await decide(client, county_gov, deferral_id, True)
    assert approved["errors"] == []
    assert (approved["deferral"]["decidedBy"], approved["entry"]["status"]) == (COUNTY_GOV, "DEFERRED")


async def test_a_rejection_needs_a_reason_and_leaves_the_case_open(client):
    """Seed 001 §2.2: the county may refuse; the refusal is reasoned and the case stays on the ledger."""
    county = await token_for(client, COUNTY_EDU)
    staff = await token_for(client, STAFF)
    entry = await new_case(client, county)
    deferral_id = await deferred_on_joint_visits(client, staff, entry)
    assert codes(await decide(client, county, deferral_id, False)) == ["REQUIRED"]
    assert codes(await decide(client, county, deferral_id, False, "  ")) == ["REQUIRED"]
    rejected = await decide(client, county, deferral_id, False, "监护人尚未履行义务")
    assert rejected["errors"] == []
    assert (rejected["deferral"]["status"], rejected["entry"]["status"], rejected["entry"]["category"]) == (
        "REJECTED",
        "OPEN",
        None,
    )
    assert codes(await decide(client, county, deferral_id, True)) == ["ALREADY_DECIDED"]
    assert await entries_of(client, county, entry["studentId"], deferralPending=True) == []


async def test_category_p_comes_only_from_an_approved_deferral(client):
    """Seed 003 annex 1 note 3 (P 延缓入学) with seed 001 §2.2: P is not set by hand, nor while pending."""
    county = await token_for(client, COUNTY_EDU)
    staff = await token_for(client, STAFF)
    entry = await new_case(client, county)
    set_p = {"entryId": entry["id"], "category": "P", "version": entry["version"]}
    assert codes(await mutate(client, CATEGORY, "setLedgerCategory", set_p, county)) == ["DEFERRAL_NOT_APPROVED"]
    await deferred_on_joint_visits(client, staff, entry)
    current = await case(client, county, entry)
    set_p["version"] = current["version"]
    assert codes(await mutate(client, CATEGORY, "setLedgerCategory", set_p, county)) == ["DEFERRAL_NOT_APPROVED"]
    assert (await case(client, county, entry))["category"] is None


async def test_close_out_for_deferral_needs_an_approved_deferral(client):
    """Seed 004 §9 (动态销号) with seed 001 §2.2: a case is closed out as deferred only once approved."""
    county = await token_for(client, COUNTY_EDU)
    township = await token_for(client, TOWNSHIP)
    entry = await new_case(client, county)

    def close(version: int) -> dict[str, Any]:
        return {"entryId": entry["id"], "reason": "DEFERRAL_APPROVED", "version": version}

    refused = await mutate(client, CLOSE, "closeOutLedgerEntry", close(entry["version"]), county)
    assert codes(refused) == ["DEFERRAL_NOT_APPROVED"]
    deferral_id = await deferred_on_joint_visits(client, township, entry)
    pending = await case(client, county, entry)
    refused = await mutate(client, CLOSE, "closeOutLedgerEntry", close(pending["version"]), county)
    assert codes(refused) == ["DEFERRAL_NOT_APPROVED"]

    approved = await decide(client, county, deferral_id, True)
    closed = await mutate(client, CLOSE, "closeOutLedgerEntry", close(approved["entry"]["version"]), county)
    assert closed["errors"] == []
    assert (closed["entry"]["status"], closed["entry"]["closeOut"]) == (
        "CLOSED",
        {"reason": "DEFERRAL_APPROVED", "by": COUNTY_EDU},
    )


async def test_a_deferral_is_not_approved_for_a_case_closed_meanwhile(client):
    """Seed 001 §2.2 defers a child still on the ledger: closing a case out (销号) withdraws its pending
    request, which can then no longer be approved: the closed entry never comes back as DEFERRED."""
    county = await token_for(client, COUNTY_EDU)
    county_gov = await token_for(client, COUNTY_GOV)
    entry = await new_case(client, county)
    deferral_id = await deferred_on_joint_visits(client, county, entry)
    current = await case(client, county, entry)
    closed = await mutate(
        client,
        CLOSE,
        "closeOutLedgerEntry",
        {"entryId": entry["id"], "reason": "ENROLLED_ELSEWHERE_CONFIRMED", "version": current["version"]},
        county,
    )
    assert closed["errors"] == []
    seen = await case(client, county, entry)
    assert [(d["status"], d["decidedBy"]) for d in seen["deferrals"]] == [("WITHDRAWN", COUNTY_EDU)]
    refused = await decide(client, county_gov, deferral_id, True)
    assert codes(refused) == ["ALREADY_DECIDED"]
    seen = await case(client, county, entry)
    assert (seen["status"], seen["category"]) == ("CLOSED", None)


async def test_a_deferred_child_stays_under_category_p(client):
    """Seed 001 §2.2 / DOMAIN: an approved deferral counts under category P while it lasts."""
    county = await token_for(client, COUNTY_EDU)
    county_gov = await token_for(client, COUNTY_GOV)
    entry = await new_case(client, county)
    deferral_id = await deferred_on_joint_visits(client, county, entry)
    assert codes(await decide(client, county_gov, deferral_id, True)) == []
    current = await case(client, county, entry)
    moved = await mutate(
        client,
        CATEGORY,
        "setLedgerCategory",
        {"entryId": entry["id"], "category": "F", "version": current["version"]},
        county,
    )
    assert codes(moved) == ["BAD_STATUS"]
    assert (await case(client, county, entry))["category"] == "P"


# --- following cases up ------------------------------------------------------------------------------


async def test_no_visit_for_days_finds_cases_left_unvisited(client):
    """Seed 004 §9 (加强劝返复学，做好每次劝返记录): the county finds cases nobody has visited lately."""
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
    """DESIGN §5 / STYLE (audit rows in the same transaction): each persuasion step is audited."""
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
    deferral_id = await deferred_on_joint_visits(client, township, entry)
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
        (TOWNSHIP, "ledger.request_deferral"),
        (COUNTY_GOV, "ledger.decide_deferral"),
    ]
    assert (COUNTY_EDU, "ledger.set_plan") in [tuple(r) for r in plan_rows]

    supervisor = await token_for(client, SUPERVISOR)
    log = await gql(client, AUDIT, {"f": {"action": "ledger.decide_deferral", "actor": COUNTY_GOV}}, supervisor)
    targets = [e["node"]["targetId"] for e in log["data"]["auditLog"]["edges"]]
    assert targets == [str(raw_id(entry["id"]))]


async def test_a_refused_visit_leaves_no_trace(client, sessions):
    """STYLE (one transaction per operation, no partial writes): a refused visit writes no visit, no
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
