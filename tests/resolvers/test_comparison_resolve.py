"""Resolving findings (resolvers/comparisons/resolving.py): on the ledger (linked both ways), tied to an
entry, dismissed with a typed reason; a list is all or nothing; versions and two decisions at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import AuditLog
from models.child import Child
from models.comparison import ComparisonFinding, ComparisonRun, DismissReason, FindingAction, FindingState
from models.ledger import EntrySource, LedgerEntry
from resolvers.comparisons.resolving import Decision, resolve_findings
from resolvers.comparisons.running import run_comparison
from resolvers.context import Context
from resolvers.errors import BadInput
from tests.comparison_support import AS_OF, Cases, wuding_cases
from tests.factories import make_child
from tests.resolvers.conftest import ContextFor, refusal

COUNTY_EDU, COUNTY_GOV, NEIGHBOUR_EDU, CITY_EDU = (
    "edu-county-532329",
    "gov-county-532329",
    "edu-county-532328",
    "edu-city-5323",
)


async def ran(session: AsyncSession, ctx: Context, county: Context) -> tuple[Cases, dict[tuple[str, int], Any]]:
    cases = await wuding_cases(session, ctx)
    await run_comparison(county, region_code="532329", as_of=AS_OF)
    rows = await session.scalars(select(ComparisonFinding).execution_options(populate_existing=True))
    return cases, {(f.kind.value, f.child_id or 0): f for f in rows}


def decision(finding: ComparisonFinding, action: FindingAction, **fields: Any) -> Decision:
    return Decision(id=str(finding.id), version=finding.version, action=action, **fields)


async def test_a_finding_put_on_the_ledger_opens_a_comparison_entry_linked_both_ways(
    session: Any, ctx: Context, context_for: ContextFor
) -> None:
    county = await context_for(COUNTY_EDU)
    cases, found = await ran(session, ctx, county)
    finding = found[("OUT_OF_SCHOOL", cases.primary_out.id or 0)]
    (resolved,) = await resolve_findings(county, [decision(finding, FindingAction.LEDGER, note="入户核实确认失学")])
    assert resolved.state is FindingState.LEDGERED
    entry = await session.get(LedgerEntry, resolved.ledger_entry_id)
    assert entry is not None
    assert (entry.child_id, entry.source, entry.category, entry.opened_on) == (
        cases.primary_out.id, EntrySource.COMPARISON, "A", AS_OF,
    )  # fmt: skip
    audit = (
        await session.scalars(
            select(AuditLog).where(
                col(AuditLog.target_type) == "ComparisonFinding", col(AuditLog.target_id) == str(finding.id)
            )
        )
    ).one()
    assert (audit.action, audit.summary["state"]) == ("comparison.ledger", {"before": "OPEN", "after": "LEDGERED"})


async def test_a_poor_household_dropout_on_the_ledger_is_linked_to_its_entry_not_opened_twice(
    session: Any, ctx: Context, context_for: ContextFor
) -> None:
    county = await context_for(COUNTY_GOV)
    cases, found = await ran(session, ctx, county)
    poor = found[("POOR_HOUSEHOLD_DROPOUT", cases.poor_on_ledger.id or 0)]
    with pytest.raises(BadInput) as excinfo:
        await resolve_findings(county, [decision(poor, FindingAction.LEDGER)])
    assert refusal(excinfo) == ("decisions.0.studentId", "ALREADY_ON_LEDGER")
    other = cases.entries["on_ledger"]
    with pytest.raises(BadInput) as excinfo:
        await resolve_findings(county, [decision(poor, FindingAction.LINK, entry_id=str(other.id))])
    assert refusal(excinfo) == ("decisions.0.entryId", "NOT_THIS_CHILD")
    entry = cases.entries["poor_on_ledger"]
    (linked,) = await resolve_findings(county, [decision(poor, FindingAction.LINK, entry_id=str(entry.id))])
    assert (linked.state, linked.ledger_entry_id) == (FindingState.LEDGERED, entry.id)


async def test_a_dismissal_needs_its_reason_and_note_and_names_where_a_child_studies_elsewhere(
    session: Any, ctx: Context, context_for: ContextFor
) -> None:
    county = await context_for(COUNTY_EDU)
    cases, found = await ran(session, ctx, county)
    finding = found[("REGISTERED_NOT_ATTENDING", cases.not_attending.id or 0)]
    dismiss = FindingAction.DISMISS
    for fields, expected in (
        ({"note": "已核实"}, ("decisions.0.reason", "REQUIRED")),
        ({"reason": DismissReason.DECEASED}, ("decisions.0.note", "REQUIRED")),
        (
            {"reason": DismissReason.STUDYING_ELSEWHERE, "note": "随父母"},
            ("decisions.0.schoolCode", "ELSEWHERE_REQUIRED"),
        ),
        (
            {"reason": DismissReason.STUDYING_ELSEWHERE, "note": "随父母", "school_code": "0000000000"},
            ("decisions.0.schoolCode", "UNKNOWN_SCHOOL"),
        ),
        ({"reason": DismissReason.OTHER, "note": "x\x00"}, ("decisions.0.note", "INVALID_TEXT")),
        (
            {"reason": DismissReason.STUDYING_ELSEWHERE, "note": "随父母", "school_code": "21530\x0000036"},
            ("decisions.0.schoolCode", "UNKNOWN_SCHOOL"),
        ),
        (
            {"reason": DismissReason.STUDYING_ELSEWHERE, "note": "随父母", "province_code": "5"},
            ("decisions.0.provinceCode", "UNKNOWN_REGION"),
        ),
        ({"reason": DismissReason.OTHER, "note": "长" * 501}, ("decisions.0.note", "TOO_LONG")),
    ):
        with pytest.raises(BadInput) as excinfo:
            await resolve_findings(county, [decision(finding, dismiss, **fields)])
        assert refusal(excinfo) == expected
    (done,) = await resolve_findings(
        county,
        [
            decision(
                finding, dismiss, reason=DismissReason.STUDYING_ELSEWHERE, note="随父母在广东就读", province_code="44"
            )
        ],
    )
    assert (done.state, done.dismiss_reason, done.elsewhere_province_code) == (
        FindingState.DISMISSED, DismissReason.STUDYING_ELSEWHERE, "44",
    )  # fmt: skip


async def test_a_list_is_all_or_nothing_and_the_refusal_names_its_item(
    session: Any, ctx: Context, context_for: ContextFor
) -> None:
    county = await context_for(COUNTY_EDU)
    cases, found = await ran(session, ctx, county)
    good = found[("OUT_OF_SCHOOL", cases.junior_out_poor.id or 0)]
    stale = found[("REGISTERED_NOT_ATTENDING", cases.registered_only.id or 0)]
    note = {"reason": DismissReason.DUPLICATE_RECORD, "note": "重复"}
    good_id = good.id
    with pytest.raises(BadInput) as excinfo:
        async with session.begin_nested():  # as the mutation runs it: nothing of the list is kept
            await resolve_findings(
                county,
                [
                    decision(good, FindingAction.DISMISS, **note),
                    Decision(id=str(stale.id), version=stale.version + 1, action=FindingAction.DISMISS, **note),
                ],
            )
    assert refusal(excinfo) == ("decisions.1.version", "CONFLICT")
    again = await session.scalar(
        select(ComparisonFinding).where(col(ComparisonFinding.id) == good_id).execution_options(populate_existing=True)
    )
    assert again is not None
    assert again.state is FindingState.OPEN
    with pytest.raises(BadInput) as excinfo:
        await resolve_findings(county, [decision(again, FindingAction.DISMISS, **note)] * 2)
    assert refusal(excinfo) == ("decisions.1.id", "DUPLICATE_ID")


async def test_an_out_of_scope_account_can_neither_read_nor_resolve_the_finding(
    session: Any, ctx: Context, context_for: ContextFor
) -> None:
    cases, found = await ran(session, ctx, await context_for(COUNTY_EDU))
    finding = found[("OUT_OF_SCHOOL", cases.primary_out.id or 0)]
    for account in (NEIGHBOUR_EDU, CITY_EDU):
        with pytest.raises(BadInput) as excinfo:
            await resolve_findings(
                await context_for(account),
                [decision(finding, FindingAction.DISMISS, reason=DismissReason.DECEASED, note="x")],
            )
        assert refusal(excinfo) == ("decisions.0.id", "NOT_FOUND")
    await session.refresh(finding)
    assert finding.state is FindingState.OPEN


async def test_two_decisions_on_one_finding_at_once_have_one_winner_and_a_typed_loser(
    engine: Any, authorizer: Any
) -> None:
    """ARCHITECTURE §12: the finding row is locked; the second decision then sees the first (CONFLICT)."""
    from authz.authentication import principal_of
    from authz.principal import CredentialKind
    from models.repos import accounts

    async with AsyncSession(engine, expire_on_commit=False) as session:
        child = await make_child(session, name="并发", school=None, grade=None)
        run = ComparisonRun(
            county_code="532329", county_path="53/5323/532329", requested_code="532329", as_of=AS_OF,
            cutoff=AS_OF, created_by="setup", province_code="53",
        )  # fmt: skip
        session.add(run)
        await session.flush()
        finding = ComparisonFinding(
            run_id=run.id or 0, last_run_id=run.id or 0, kind="OUT_OF_SCHOOL", child_id=child.id, facts="0" * 32,
            county_path=run.county_path, household_path=child.household_path, residence_path=child.residence_path,
            province_code="53",
        )  # fmt: skip
        session.add(finding)
        await session.commit()
    ids = (child.id, run.id, finding.id)

    async def decide(actor: str) -> str:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            account = await accounts.get_account_by_username(session, COUNTY_EDU)
            assert account is not None
            principal = principal_of(account, CredentialKind.PASSWORD_JWT)
            ctx = Context(session=session, principal=principal, authorizer=authorizer)
            try:
                await resolve_findings(
                    ctx,
                    [
                        Decision(
                            id=str(ids[2]), version=1, action=FindingAction.DISMISS,
                            reason=DismissReason.MOVED_ABROAD, note=f"{actor} 核实",
                        )
                    ],
                )  # fmt: skip
                await asyncio.sleep(0.2)  # hold the lock: the other decision waits for this commit
            except BadInput as exc:
                await session.rollback()
                return exc.error.code
            await session.commit()
            return "DISMISSED"

    try:
        assert sorted(await asyncio.gather(decide("first"), decide("second"))) == ["CONFLICT", "DISMISSED"]
    finally:
        async with engine.begin() as conn:
            await conn.execute(delete(AuditLog).where(col(AuditLog.target_type) == "ComparisonFinding"))
            await conn.execute(delete(ComparisonFinding).where(col(ComparisonFinding.id) == ids[2]))
            await conn.execute(delete(ComparisonRun).where(col(ComparisonRun.id) == ids[1]))
            await conn.execute(delete(Child).where(col(Child.id) == ids[0]))
