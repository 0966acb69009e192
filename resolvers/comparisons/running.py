"""Running the three comparisons (三比对, POLICY 004 §2) for a county, or a city or province over its counties.

Who runs: the county bureau and the county government for their county; a city or province over its
counties (`COMPARISON:RUN` over the region asked for). Each county is one run, compared in SQL
(`models/repos/comparison_runs.py`): the latest applied rosters of the county against the children, their
enrolment and the ledgers. A county being compared by someone else answers ALREADY_RUNNING, not a wait:
the lock is taken without waiting, and a city run takes its counties' locks in path order.
"""

from __future__ import annotations

from datetime import date

from authz.catalogue import Level, level_of_path
from models.base import today
from models.child import JUNIOR_AGE
from models.comparison import ComparisonRun, FindingKind
from models.province import school_age_birth_window
from models.repos import comparison_runs as repo
from models.repos import jurisdictions

from ..audit import record_change
from ..context import Context
from ..errors import BadInput
from ..ledgers.school_age import current_school_year, cutoff_day
from .errors import ComparisonErrorCode

COMPARISON = "COMPARISON"
EARLIEST = date(2000, 1, 1)


def primary_born_after(cutoff: date) -> date:
    """Born after this day: under the junior age on the cut-off day, so category A (else B), the boundary
    `models.comparison.proposed_category` draws for one child, as a date the SQL compares."""
    try:
        return cutoff.replace(year=cutoff.year - JUNIOR_AGE)
    except ValueError:  # a cut-off on 29 February
        return cutoff.replace(year=cutoff.year - JUNIOR_AGE, day=28)


async def run_comparison(ctx: Context, *, region_code: str, as_of: date) -> list[ComparisonRun]:
    """Compare each county of the region as of `as_of`: one run per county, its findings raised, kept or
    closed; all of it or nothing (one transaction). The SQL writes findings and children behind the
    session's back: objects of them this session already holds are stale until read again."""
    digits = region_code.isascii() and region_code.isdigit() and len(region_code) <= 12  # no NUL reaches SQL
    path = await jurisdictions.path_of(ctx.session, region_code) if digits else None
    if path is None or len(region_code) == 10 or path == "":
        raise BadInput("regionCode", ComparisonErrorCode.UNKNOWN_REGION)
    if not ctx.operator:  # the operator (CLI, bench) runs any region
        ctx.access().require_at(
            COMPARISON, "RUN", {"PLACE": [path]}, BadInput("regionCode", ComparisonErrorCode.UNKNOWN_REGION)
        )
    if level_of_path(path) > Level.COUNTY:
        raise BadInput("regionCode", ComparisonErrorCode.NOT_A_COUNTY)
    if as_of > today():
        raise BadInput("asOf", ComparisonErrorCode.FUTURE_DATE)
    if as_of < EARLIEST:
        raise BadInput("asOf", ComparisonErrorCode.OUT_OF_RANGE, "日期须在 2000 年以后", "the date lies after 2000")
    counties = await repo.counties_within(ctx.session, path)
    for code, county_path in counties:
        if not await repo.try_lock_county(ctx.session, county_path):
            raise BadInput(
                "regionCode",
                ComparisonErrorCode.ALREADY_RUNNING,
                f"{code} 的比对正在进行，请稍后再试",
                f"a comparison of {code} is running; try again later",
            )
    province = path.split("/")[0]
    cutoff = await cutoff_day(ctx, current_school_year(as_of), province)
    born_after, born_by = school_age_birth_window(cutoff)
    runs = []
    for code, county_path in counties:
        batches = await repo.batches_in_effect(ctx.session, county_path, as_of)
        run = await repo.add_run(
            ctx.session,
            ComparisonRun(
                county_code=code, county_path=county_path, requested_code=region_code, as_of=as_of, cutoff=cutoff,
                batches=[
                    {"id": b.id, "kind": b.kind, "jurisdiction": b.jurisdiction_code, "asOf": b.as_of.isoformat()}
                    for b in batches
                ],
                created_by=ctx.actor, province_code=province,
            ),
        )  # fmt: skip
        assert run.id is not None

        def ids(kind: str, batches: list[repo.BatchRef] = batches) -> list[int]:
            return [b.id for b in batches if b.kind == kind]

        inputs = repo.CountyInputs(
            county_path=county_path, province_code=province, run_id=run.id, born_after=born_after, born_by=born_by,
            primary_born_after=primary_born_after(cutoff), household=ids("HOUSEHOLD"), registry=ids("REGISTRY"),
            in_school=ids("IN_SCHOOL"), poverty=ids("POVERTY"), actor=ctx.actor, request_id=ctx.request_id,
        )  # fmt: skip
        counts: dict[str, object] = dict(await repo.compare_county(ctx.session, inputs))
        ran = set(counts)
        counts["notRun"] = [k.value for k in FindingKind if k.value not in ran]
        run.counts = counts
        ctx.session.add(run)
        await record_change(
            ctx,
            action="comparison.run",
            target_type="ComparisonRun",
            target_id=str(run.id),
            scope_path=county_path,
            summary={"asOf": as_of.isoformat(), "batches": [b.id for b in batches], "counts": counts},
        )
        runs.append(run)
    await ctx.session.flush()
    return runs
