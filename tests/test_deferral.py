"""Deferral and suspension (延缓入学 / 休学, POLICY 001 §2.2) through the API: after three joint visits, a
judicial ruling or an expert assessment; approved at county level only; counted under category P."""

from __future__ import annotations

from typing import Any

from tests.conftest import error_codes, token_for
from tests.ledger_support import COUNTY_EDU, NEIGHBOUR_EDU, STAFF, entries_of
from tests.persuasion_support import (
    CATEGORY,
    CITY_EDU,
    CLOSE,
    COUNTY_GOV,
    PRINCIPAL,
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

# --- deferral: the three grounds ---------------------------------------------------------------------


async def test_deferral_on_joint_visits_needs_three_of_them(client):
    """POLICY 001 §2.2: 经相关部门联合劝返三次以上 … 准许先办理延缓入学或休学手续."""
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
    """POLICY 001 §2.2: 经司法部门判决裁定 — the ruling is cited by its document number."""
    county = await token_for(client, COUNTY_EDU)
    entry = await new_case(client, county)
    assert codes(await request_deferral(client, county, entry, "JUDICIAL_RULING")) == ["DOCUMENT_REQUIRED"]
    assert codes(await request_deferral(client, county, entry, "JUDICIAL_RULING", "  ")) == ["DOCUMENT_REQUIRED"]
    accepted = await request_deferral(client, county, entry, "JUDICIAL_RULING", "（2026）云2329民初1号")
    assert accepted["errors"] == []
    assert (accepted["deferral"]["status"], accepted["deferral"]["documentRef"]) == ("PENDING", "（2026）云2329民初1号")


async def test_deferral_on_an_expert_assessment_is_for_disabled_children_only(client):
    """POLICY 001 §2.2: 对不具备学习条件的 [残疾儿童]，经县级残疾人教育专家委员会评估认定，可以办理延缓入学或休学."""
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
    """POLICY 001 §2.2: deferral is approved at county level (经县级 … 核实同意) — not by the school, not by
    the city — and 并继续做好劝返复学工作: visits continue; the deferred child counts under P (POLICY 003)."""
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
    """双线四级 (ARCHITECTURE §4): a level never approves its own submission; the county government (the leading
    group's line, POLICY 001 §2.2) may approve the bureau's request."""
    county = await token_for(client, COUNTY_EDU)
    county_gov = await token_for(client, COUNTY_GOV)
    entry = await new_case(client, county)
    deferral_id = await deferred_on_joint_visits(client, county, entry)
    assert codes(await decide(client, county, deferral_id, True)) == ["OWN_REQUEST"]
    approved = await decide(client, county_gov, deferral_id, True)
    assert approved["errors"] == []
    assert (approved["deferral"]["decidedBy"], approved["entry"]["status"]) == (COUNTY_GOV, "DEFERRED")


async def test_a_rejection_needs_a_reason_and_leaves_the_case_open(client):
    """POLICY 001 §2.2: the county may refuse; the refusal is reasoned and the case stays on the ledger."""
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
    """POLICY 003 annex 1 note 3 (P 延缓入学) with POLICY 001 §2.2: P is not set by hand, nor while pending."""
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
    """POLICY 004 §9 (动态销号) with POLICY 001 §2.2: a case is closed out as deferred only once approved."""
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
    """POLICY 001 §2.2 defers a child still on the ledger: closing a case out (销号) withdraws its pending
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
    """POLICY 001 §2.2: an approved deferral counts under category P while it lasts."""
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
