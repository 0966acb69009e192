"""Running the three comparisons (resolvers/comparisons/running.py) over 武定县's applied rosters: what each
comparison finds, what a later run keeps, closes and does not raise again, who may run, and one winner."""

from __future__ import annotations

import asyncio
import io
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from datagen.demo.people import national_id
from models import AuditLog
from models.child import Child
from models.comparison import ComparisonFinding, DismissReason, FindingAction, FindingState
from models.roster import RosterKind
from resolvers.comparisons.resolving import Decision, resolve_findings
from resolvers.comparisons.running import run_comparison
from resolvers.context import Context
from resolvers.errors import BadInput
from resolvers.rosters.decisions import apply_import
from resolvers.rosters.imports import import_roster
from tests.comparison_support import AS_OF, HEADERS, Cases, applied_roster, roster_line, wuding_cases
from tests.factories import make_child
from tests.ledger_support import WUDING_PRIMARY, WUDING_VILLAGE
from tests.resolvers.conftest import ContextFor, refusal
from tests.roster_support import csv_bytes

COUNTY_EDU, COUNTY_GOV, NEIGHBOUR_EDU = "edu-county-532329", "gov-county-532329", "edu-county-532328"
CITY_EDU, OTHER_CITY_EDU = "edu-city-5323", "edu-city-6404"  # 固原市, another province


async def findings(session: AsyncSession) -> dict[tuple[str, int | None], ComparisonFinding]:
    rows = await session.scalars(
        select(ComparisonFinding)
        .where(col(ComparisonFinding.county_path) == "53/5323/532329")
        .execution_options(populate_existing=True)
    )
    return {(f.kind.value, f.child_id): f for f in rows}


async def test_each_comparison_finds_its_children_with_the_category_by_age_and_the_batches_compared(
    session: Any, ctx: Context, context_for: ContextFor
) -> None:
    """POLICY 004 §2: household vs registry finds the school-age children out of school (A under 12 on the
    cut-off day, B from 12); registry vs the roll finds those registered but not at school; dropouts vs the
    poverty roster flags the poor ones and gives them the special group, with its source audited."""
    cases = await wuding_cases(session, ctx)
    (run,) = await run_comparison(await context_for(COUNTY_EDU), region_code="532329", as_of=AS_OF)
    assert {b["id"] for b in run.batches} == {b.id for b in cases.batches.values()}
    found = await findings(session)
    c = cases
    assert set(found) == {
        ("OUT_OF_SCHOOL", c.primary_out.id),
        ("OUT_OF_SCHOOL", c.junior_out_poor.id),
        ("REGISTERED_NOT_ATTENDING", c.not_attending.id),
        ("REGISTERED_NOT_ATTENDING", c.registered_only.id),
        ("POOR_HOUSEHOLD_DROPOUT", c.junior_out_poor.id),
        ("POOR_HOUSEHOLD_DROPOUT", c.poor_on_ledger.id),
    }
    assert found[("OUT_OF_SCHOOL", c.primary_out.id)].proposed_category == "A"
    assert found[("OUT_OF_SCHOOL", c.junior_out_poor.id)].proposed_category == "B"
    poor = found[("POOR_HOUSEHOLD_DROPOUT", c.poor_on_ledger.id)]
    assert (poor.special_group, poor.evidence_entry_id) == ("POVERTY_REGISTERED", c.entries["poor_on_ledger"].id)
    assert poor.import_id == c.batches[RosterKind.POVERTY].id
    assert all(f.state is FindingState.OPEN and f.run_id == run.id for f in found.values())
    assert run.counts["OUT_OF_SCHOOL"] | {} == {
        "found": 3, "raised": 2, "kept": 0, "closed": 0, "suppressed": 0, "onLedger": 1,
    }  # fmt: skip
    assert run.counts["POOR_HOUSEHOLD_DROPOUT"]["specialGroupsSet"] == 2
    for child, group in ((c.junior_out_poor, "LOW_INCOME"), (c.poor_on_ledger, "POVERTY_REGISTERED")):
        await session.refresh(child)
        assert group in child.special_groups
    audit = (
        await session.scalars(
            select(AuditLog).where(
                col(AuditLog.action) == "student.add_special_group",
                col(AuditLog.target_id) == str(c.poor_on_ledger.id),
            )
        )
    ).one()
    assert audit.summary["source"]["rosterImport"] == c.batches[RosterKind.POVERTY].id


async def test_the_registry_status_says_whom_the_registry_accounts_for_and_whom_the_roll_should_show(
    session: Any, ctx: Context, context_for: ContextFor
) -> None:
    """A registry row's 学籍状态 (POLICY 002 二(七)): a child on the registry is not out of school (失学: never
    enrolled), but for one who finished primary and is on no junior registry (小升初), found with no category
    proposed; the roll is expected to show a pupil 在读 (a blank status) or marked 辍学, not one on leave
    (休学), transferred out (转出) or finished (毕业)."""
    out = {"school": None, "grade": None}
    suspended = await make_child(session, name="休学甲", birth_date=date(2016, 1, 1), **out)
    dropped = await make_child(session, name="辍学乙", birth_date=date(2015, 2, 2), **out)
    transferred = await make_child(session, name="转出丙", birth_date=date(2016, 3, 3))
    finished = await make_child(session, name="毕业丁", birth_date=date(2011, 10, 4), **out)
    primary_done = await make_child(session, name="小升初戊", birth_date=date(2014, 3, 1), **out)
    studying = await make_child(session, name="在读己", birth_date=date(2016, 5, 5))
    on_roll = await make_child(session, name="在校庚", birth_date=date(2016, 6, 6))
    statuses = [
        (suspended, "休学", "3"), (dropped, "辍学", "3"), (transferred, "转出", "3"), (finished, "毕业", "9"),
        (primary_done, "毕业", "6"), (studying, "", "3"),
    ]  # fmt: skip
    children = [child for child, _, _ in statuses]
    await applied_roster(ctx, RosterKind.HOUSEHOLD, [roster_line(RosterKind.HOUSEHOLD, c) for c in children])
    registry = [[*roster_line(RosterKind.REGISTRY, c)[:-1], grade, status] for c, status, grade in statuses]
    headers = [*HEADERS[RosterKind.REGISTRY], "学籍状态"]
    await applied_roster(ctx, RosterKind.REGISTRY, registry, headers=headers)
    await applied_roster(ctx, RosterKind.IN_SCHOOL, [roster_line(RosterKind.IN_SCHOOL, on_roll)])
    await run_comparison(await context_for(COUNTY_EDU), region_code="532329", as_of=AS_OF)
    found = await findings(session)
    assert set(found) == {
        ("OUT_OF_SCHOOL", primary_done.id),
        ("REGISTERED_NOT_ATTENDING", dropped.id),
        ("REGISTERED_NOT_ATTENDING", studying.id),
    }
    assert found[("OUT_OF_SCHOOL", primary_done.id)].proposed_category is None


async def test_a_child_first_known_from_the_registry_is_enrolled_only_while_the_registry_holds_a_place(
    session: Any, ctx: Context
) -> None:
    """Applying a registry roster registers the children no one knew: one on leave (休学) enrolled at the row's
    school; one transferred out (转出) or marked 辍学 at its household region without a school; one marked 辍学
    with no household region at the school (the only place known, where the roll comparison finds it); one
    transferred out with no household region, or deceased (死亡), not at all (its row stays without a child)."""
    rows = {
        "休学": ("休学", WUDING_VILLAGE),
        "转出": ("转出", WUDING_VILLAGE),
        "辍学": ("辍学", WUDING_VILLAGE),
        "辍学, no household": ("辍学", ""),
        "转出, no household": ("转出", ""),
        "死亡": ("死亡", WUDING_VILLAGE),
    }
    ids = {key: national_id("532329", date(2016, 7, n), 100 + n, male=True) for n, key in enumerate(rows, 1)}
    lines = [
        [f"新生{n}", ids[key], f"G{ids[key]}", WUDING_PRIMARY, "3", village, status]
        for n, (key, (status, village)) in enumerate(rows.items())
    ]
    headers = [*HEADERS[RosterKind.REGISTRY], "户籍地区划代码", "学籍状态"]
    data = csv_bytes([headers, *lines])
    staged = await import_roster(
        ctx, kind=RosterKind.REGISTRY, jurisdiction_code="532329", as_of=AS_OF, file_name="r.csv",
        stream=io.BytesIO(data),
    )  # fmt: skip
    assert staged.batch.id is not None
    await apply_import(ctx, import_id=str(staged.batch.id), version=staged.batch.version)
    registered = await session.execute(
        select(Child.national_id, Child.school_code).where(col(Child.national_id).in_(list(ids.values())))
    )
    assert dict(registered.all()) == {
        ids["休学"]: WUDING_PRIMARY,
        ids["转出"]: None,
        ids["辍学"]: None,
        ids["辍学, no household"]: WUDING_PRIMARY,
    }


async def test_a_later_run_keeps_what_holds_closes_what_no_longer_does_and_respects_dismissals(
    session: Any, ctx: Context, context_for: ContextFor
) -> None:
    county = await context_for(COUNTY_EDU)
    cases = await wuding_cases(session, ctx)
    await run_comparison(county, region_code="532329", as_of=AS_OF)
    found = await findings(session)
    dismissed = found[("REGISTERED_NOT_ATTENDING", cases.registered_only.id)]
    await resolve_findings(
        county,
        [
            Decision(
                id=str(dismissed.id), version=dismissed.version, action=FindingAction.DISMISS,
                reason=DismissReason.STUDYING_ELSEWHERE, note="在昆明就读", province_code="53",
            )
        ],
    )  # fmt: skip
    # The primary-age child is found enrolled on a newer registry roster: that finding no longer holds.
    registry = [cases.at_school, cases.not_attending, cases.registered_only, cases.poor_on_ledger, cases.primary_out]
    await applied_roster(
        ctx, RosterKind.REGISTRY, [roster_line(RosterKind.REGISTRY, c) for c in registry], name="registry-2.csv"
    )
    (second,) = await run_comparison(county, region_code="532329", as_of=AS_OF)
    again = await findings(session)
    assert again[("OUT_OF_SCHOOL", cases.primary_out.id)].state is FindingState.CLOSED
    assert again[("OUT_OF_SCHOOL", cases.primary_out.id)].closed_run_id == second.id
    assert again[("OUT_OF_SCHOOL", cases.junior_out_poor.id)].state is FindingState.OPEN
    assert again[("OUT_OF_SCHOOL", cases.junior_out_poor.id)].last_run_id == second.id
    assert again[("REGISTERED_NOT_ATTENDING", cases.registered_only.id)].state is FindingState.DISMISSED
    assert second.counts["REGISTERED_NOT_ATTENDING"]["suppressed"] == 1
    assert second.counts["OUT_OF_SCHOOL"]["closed"] == 1
    # Nothing raised twice; on the registry now but not on the school's roll, the child is a new finding.
    assert set(again) - set(found) == {("REGISTERED_NOT_ATTENDING", cases.primary_out.id)}


async def test_a_comparison_without_both_rosters_does_not_run(
    session: Any, ctx: Context, context_for: ContextFor
) -> None:
    """Without a registry roster, "on no registry roster" would find every child: the run says so."""
    child = await _out_of_school(session)
    await applied_roster(ctx, RosterKind.HOUSEHOLD, [roster_line(RosterKind.HOUSEHOLD, child)])
    (run,) = await run_comparison(await context_for(COUNTY_GOV), region_code="532329", as_of=AS_OF)
    assert set(run.counts["notRun"]) == {"OUT_OF_SCHOOL", "REGISTERED_NOT_ATTENDING", "POOR_HOUSEHOLD_DROPOUT"}
    assert await findings(session) == {}


async def test_a_city_runs_each_of_its_counties_and_a_neighbour_or_another_city_may_not(
    session: Any, context_for: ContextFor
) -> None:
    runs = await run_comparison(await context_for(CITY_EDU), region_code="5323", as_of=AS_OF)
    assert len(runs) > 1
    assert all(r.county_path.startswith("53/5323/") for r in runs)
    # A county outside the caller's scope answers like one that does not exist (issue 17 §4).
    for account, region in ((NEIGHBOUR_EDU, "532329"), (OTHER_CITY_EDU, "532329"), (OTHER_CITY_EDU, "5323")):
        with pytest.raises(BadInput) as excinfo:
            await run_comparison(await context_for(account), region_code=region, as_of=AS_OF)
        assert refusal(excinfo) == ("regionCode", "UNKNOWN_REGION")


async def test_a_run_refuses_a_school_a_township_and_a_future_date(context_for: ContextFor) -> None:
    county = await context_for(COUNTY_EDU)
    for region, as_of, expected in (
        ("2153000036", AS_OF, ("regionCode", "UNKNOWN_REGION")),
        ("532329101", AS_OF, ("regionCode", "NOT_A_COUNTY")),
        ("532329", date(2100, 1, 1), ("asOf", "FUTURE_DATE")),
        ("999999", AS_OF, ("regionCode", "UNKNOWN_REGION")),
        ("5323\x00", AS_OF, ("regionCode", "UNKNOWN_REGION")),
    ):
        with pytest.raises(BadInput) as excinfo:
            await run_comparison(county, region_code=region, as_of=as_of)
        assert refusal(excinfo) == expected


async def test_two_runs_of_one_county_at_once_have_one_winner_and_a_typed_loser(engine: Any, authorizer: Any) -> None:
    """ARCHITECTURE §12: the county's lock is taken without waiting; the second run is ALREADY_RUNNING."""
    from authz.authentication import principal_of
    from authz.principal import CredentialKind
    from models.repos import accounts

    async def context(session: AsyncSession) -> Context:
        account = await accounts.get_account_by_username(session, COUNTY_EDU)
        assert account is not None
        principal = principal_of(account, CredentialKind.PASSWORD_JWT)
        return Context(session=session, principal=principal, authorizer=authorizer)

    first_holds = asyncio.Event()
    release = asyncio.Event()

    async def first() -> str:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            await run_comparison(await context(session), region_code="532329", as_of=AS_OF)
            first_holds.set()
            await release.wait()
            await session.rollback()
            return "RAN"

    async def second() -> str:
        await first_holds.wait()
        async with AsyncSession(engine, expire_on_commit=False) as session:
            try:
                await run_comparison(await context(session), region_code="532329", as_of=AS_OF)
                return "RAN"
            except BadInput as exc:
                return exc.error.code
            finally:
                await session.rollback()
                release.set()

    assert sorted(await asyncio.gather(first(), second())) == ["ALREADY_RUNNING", "RAN"]


async def _out_of_school(session: AsyncSession) -> Child:
    from tests.factories import make_child

    return await make_child(session, name="失学", birth_date=date(2017, 1, 1), school=None, grade=None)


async def test_cases_fixture_is_consistent(session: Any, ctx: Context) -> None:
    """The cases' rosters all match their children exactly (the apply contract)."""
    cases: Cases = await wuding_cases(session, ctx)
    assert all(b.rows_matched == b.rows_valid for b in cases.batches.values())
