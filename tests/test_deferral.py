"""Deferral and suspension (延缓入学 / 休学, seed 001 二2) through the API: the county bureau proposes after
three joint visits, a judicial ruling or an expert assessment, with the guardian's statement where the
grounds need it; the county leading group (county government) approves; the case stays open under P."""

from __future__ import annotations

from tests.conftest import error_codes, gql, token_for
from tests.ledger_support import COUNTY_EDU, NEIGHBOUR_EDU, STAFF, entries_of
from tests.persuasion_support import (
    CATEGORY,
    CITY_EDU,
    CLOSE,
    COUNTY_GOV,
    PLAN,
    PRINCIPAL,
    STATEMENT,
    TOWNSHIP,
    case,
    codes,
    decide,
    deferred_on_joint_visits,
    joint_visits,
    mutate,
    new_case,
    request_deferral,
    visit,
)
from tests.report_support import NEIGHBOUR_GOV

RULING = "（2026）云2329民初1号"

# --- the three grounds -------------------------------------------------------------------------------


async def test_deferral_on_joint_visits_needs_three_of_them_and_the_guardians_statement(client):
    """Seed 001 二2: 经相关部门联合劝返三次以上…、监护人已履行相应法定义务，但学生本人拒不返校的 — the statement
    is required and names the visit it was recorded on, a visit of this child."""
    county = await token_for(client, COUNTY_EDU)
    entry = await new_case(client, county)
    other = await new_case(client, county)
    first = await joint_visits(client, county, entry, ["2026-09-10", "2026-09-20"])
    assert (await visit(client, county, entry, "2026-09-25"))["errors"] == []  # not a joint visit
    refused = await request_deferral(client, county, entry, "JOINT_VISITS", statement_visit=first[-1])
    assert codes(refused) == ["TOO_FEW_JOINT_VISITS"]
    assert await entries_of(client, county, entry["studentId"], deferralPending=True) == []

    last = (await joint_visits(client, county, entry, ["2026-09-30"]))[-1]
    no_statement = await request_deferral(client, county, entry, "JOINT_VISITS", statement="  ", statement_visit=last)
    assert [(e["field"], e["code"]) for e in no_statement["errors"]] == [("guardianStatement", "REQUIRED")]
    no_visit = await request_deferral(client, county, entry, "JOINT_VISITS")
    assert [(e["field"], e["code"]) for e in no_visit["errors"]] == [("statementVisitId", "REQUIRED")]
    elsewhere = (await joint_visits(client, county, other, ["2026-09-12"]))[0]
    wrong = await request_deferral(client, county, entry, "JOINT_VISITS", statement_visit=elsewhere)
    assert [(e["field"], e["code"]) for e in wrong["errors"]] == [("statementVisitId", "NOT_FOUND")]
    assert await entries_of(client, county, entry["studentId"], deferralPending=True) == []

    requested = await request_deferral(client, county, entry, "JOINT_VISITS", statement_visit=last)
    assert requested["errors"] == []
    got = requested["deferral"]
    assert (got["basis"], got["status"], got["requestedBy"], got["guardianStatement"]) == (
        "JOINT_VISITS",
        "PENDING",
        COUNTY_EDU,
        STATEMENT,
    )
    assert got["statementVisit"] == {"id": last, "visitedOn": "2026-09-30"}
    assert requested["entry"]["status"] == "OPEN"
    pending = await entries_of(client, county, entry["studentId"], deferralPending=True)
    assert [e["id"] for e in pending] == [entry["id"]]

    again = await request_deferral(client, county, entry, "JUDICIAL_RULING", RULING)
    assert codes(again) == ["ALREADY_REQUESTED"]


async def test_deferral_on_a_judicial_ruling_needs_the_ruling_and_the_statement(client):
    """Seed 001 二2: 经司法部门判决裁定、监护人已履行相应法定义务 — the ruling is cited by its number, and the
    guardian's statement rests on it (no visit needed)."""
    county = await token_for(client, COUNTY_EDU)
    entry = await new_case(client, county)
    assert codes(await request_deferral(client, county, entry, "JUDICIAL_RULING")) == ["DOCUMENT_REQUIRED"]
    assert codes(await request_deferral(client, county, entry, "JUDICIAL_RULING", "  ")) == ["DOCUMENT_REQUIRED"]
    silent = await request_deferral(client, county, entry, "JUDICIAL_RULING", RULING, statement=None)
    assert codes(silent) == ["REQUIRED"]
    accepted = await request_deferral(client, county, entry, "JUDICIAL_RULING", RULING)
    assert accepted["errors"] == []
    got = accepted["deferral"]
    assert (got["status"], got["documentRef"], got["guardianStatement"], got["statementVisit"]) == (
        "PENDING",
        RULING,
        STATEMENT,
        None,
    )


async def test_deferral_on_an_expert_assessment_is_for_disabled_children_only(client):
    """Seed 001 二2: 对不具备学习条件的 [残疾儿童]，经县级残疾人教育专家委员会评估认定，可以办理延缓入学或休学 —
    another sentence, without the guardian's statement."""
    county = await token_for(client, COUNTY_EDU)
    not_disabled = await new_case(client, county)
    refused = await request_deferral(client, county, not_disabled, "EXPERT_ASSESSMENT", "武残教评〔2026〕3号")
    assert codes(refused) == ["NOT_DISABLED"]
    disabled = await new_case(client, county, special_groups=["DISABLED"])
    assert codes(await request_deferral(client, county, disabled, "EXPERT_ASSESSMENT")) == ["DOCUMENT_REQUIRED"]
    accepted = await request_deferral(
        client, county, disabled, "EXPERT_ASSESSMENT", "武残教评〔2026〕3号", statement=None
    )
    assert accepted["errors"] == []
    assert accepted["deferral"]["basis"] == "EXPERT_ASSESSMENT"


# --- who proposes, who approves ------------------------------------------------------------------------


async def test_only_the_county_bureau_proposes_a_deferral(client):
    """Seed 001 二2 with 004 §2: the bureau keeping the county's ledgers proposes; a school, a township, the
    county government and the city do not (FORBIDDEN), a neighbouring bureau does not see the case."""
    county = await token_for(client, COUNTY_EDU)
    entry = await new_case(client, county)
    last = (await joint_visits(client, county, entry, ["2026-09-10", "2026-09-20", "2026-09-30"]))[-1]
    for username in (PRINCIPAL, STAFF, TOWNSHIP, COUNTY_GOV, CITY_EDU):
        refused = await request_deferral(client, await token_for(client, username), entry, "JOINT_VISITS")
        assert error_codes(refused) == ["FORBIDDEN"], username
    neighbour = await token_for(client, NEIGHBOUR_EDU)
    assert codes(await request_deferral(client, neighbour, entry, "JOINT_VISITS", statement_visit=last)) == [
        "NOT_FOUND"
    ]
    assert (await case(client, county, entry))["deferrals"] == []


async def test_the_county_government_approves_and_persuasion_goes_on(client):
    """Seed 001 二2: 经县级扶贫工作领导小组核实同意 — the county government, not the bureau alone, not the school,
    not the city, not a neighbouring county; 并继续做好劝返复学工作 — the approved case stays open: visits and
    the plan go on, status DEFERRED, category P (seed 003 annex 1 note 3)."""
    county = await token_for(client, COUNTY_EDU)
    county_gov = await token_for(client, COUNTY_GOV)
    principal = await token_for(client, PRINCIPAL)
    entry = await new_case(client, county)
    deferral_id = await deferred_on_joint_visits(client, entry)

    for username in (COUNTY_EDU, PRINCIPAL, CITY_EDU, TOWNSHIP):
        refused = await decide(client, await token_for(client, username), deferral_id, True)
        assert error_codes(refused) == ["FORBIDDEN"], username
    for username in (NEIGHBOUR_EDU, NEIGHBOUR_GOV):
        assert codes(await decide(client, await token_for(client, username), deferral_id, True)) == ["NOT_FOUND"]
    assert [d["status"] for d in (await case(client, county, entry))["deferrals"]] == ["PENDING"]

    approved = await decide(client, county_gov, deferral_id, True, "领导小组核实同意延缓入学一学期")
    assert approved["errors"] == []
    assert approved["deferral"] == {
        "id": deferral_id,
        "status": "APPROVED",
        "decidedBy": COUNTY_GOV,
        "decisionNote": "领导小组核实同意延缓入学一学期",
    }
    assert (approved["entry"]["status"], approved["entry"]["category"]) == ("DEFERRED", "P")
    assert codes(await decide(client, county_gov, deferral_id, False, "改判")) == ["ALREADY_DECIDED"]

    after = await visit(client, principal, entry, "2026-11-20", outcome="休学期间家访，继续劝返")
    assert after["errors"] == []
    assert (after["entry"]["status"], after["entry"]["lastVisitOn"]) == ("DEFERRED", "2026-11-20")
    plan = {
        "studentId": entry["studentId"],
        "goal": "延缓期间每月家访，期满复学",
        "responsibleEdu": "李校长",
        "responsibleGov": "王乡长",
        "steps": ["每月家访"],
    }
    assert (await mutate(client, PLAN, "setCasePlan", plan, county))["errors"] == []
    seen = await case(client, county, entry)
    assert (seen["status"], seen["category"], seen["plan"]["goal"]) == ("DEFERRED", "P", "延缓期间每月家访，期满复学")


async def test_a_deferred_case_is_not_closed_out_for_the_deferral(client):
    """Seed 001 二2 (并继续做好劝返复学工作): there is no close-out reason for a deferral any more; the request
    is refused as a GraphQL input error, and the case stays DEFERRED."""
    county = await token_for(client, COUNTY_EDU)
    county_gov = await token_for(client, COUNTY_GOV)
    entry = await new_case(client, county)
    approved = await decide(client, county_gov, await deferred_on_joint_visits(client, entry), True)
    close = {"entryId": entry["id"], "reason": "DEFERRAL_APPROVED", "version": approved["entry"]["version"]}
    result = await gql(client, CLOSE, {"input": close}, county)
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert (await case(client, county, entry))["status"] == "DEFERRED"


async def test_a_rejection_needs_a_reason_and_leaves_the_case_open(client):
    """Seed 001 二2: the leading group may refuse; the refusal is reasoned and the case stays on the ledger."""
    county = await token_for(client, COUNTY_EDU)
    county_gov = await token_for(client, COUNTY_GOV)
    entry = await new_case(client, county)
    deferral_id = await deferred_on_joint_visits(client, entry)
    assert codes(await decide(client, county_gov, deferral_id, False)) == ["REQUIRED"]
    assert codes(await decide(client, county_gov, deferral_id, False, "  ")) == ["REQUIRED"]
    rejected = await decide(client, county_gov, deferral_id, False, "监护人尚未履行义务")
    assert rejected["errors"] == []
    assert (rejected["deferral"]["status"], rejected["entry"]["status"], rejected["entry"]["category"]) == (
        "REJECTED",
        "OPEN",
        None,
    )
    assert codes(await decide(client, county_gov, deferral_id, True)) == ["ALREADY_DECIDED"]
    assert await entries_of(client, county, entry["studentId"], deferralPending=True) == []


async def test_category_p_comes_only_from_an_approved_deferral(client):
    """Seed 003 annex 1 note 3 (P 延缓入学) with seed 001 二2: P is not set by hand, nor while pending."""
    county = await token_for(client, COUNTY_EDU)
    entry = await new_case(client, county)
    set_p = {"entryId": entry["id"], "category": "P", "version": entry["version"]}
    assert codes(await mutate(client, CATEGORY, "setLedgerCategory", set_p, county)) == ["DEFERRAL_NOT_APPROVED"]
    await deferred_on_joint_visits(client, entry)
    current = await case(client, county, entry)
    set_p["version"] = current["version"]
    assert codes(await mutate(client, CATEGORY, "setLedgerCategory", set_p, county)) == ["DEFERRAL_NOT_APPROVED"]
    assert (await case(client, county, entry))["category"] is None


async def test_a_deferral_is_not_approved_for_a_case_closed_meanwhile(client):
    """Seed 001 二2 defers a child still on the ledger: closing a case out (销号) withdraws its pending
    request, which can then no longer be approved: the closed entry never comes back as DEFERRED."""
    county = await token_for(client, COUNTY_EDU)
    county_gov = await token_for(client, COUNTY_GOV)
    entry = await new_case(client, county)
    deferral_id = await deferred_on_joint_visits(client, entry)
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
    assert codes(await decide(client, county_gov, deferral_id, True)) == ["ALREADY_DECIDED"]
    seen = await case(client, county, entry)
    assert (seen["status"], seen["category"]) == ("CLOSED", None)


async def test_a_deferred_child_stays_under_category_p(client):
    """Seed 001 二2: an approved deferral counts under category P while it lasts."""
    county = await token_for(client, COUNTY_EDU)
    county_gov = await token_for(client, COUNTY_GOV)
    entry = await new_case(client, county)
    assert codes(await decide(client, county_gov, await deferred_on_joint_visits(client, entry), True)) == []
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
