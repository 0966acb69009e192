"""Batched reads for the unreported list's items: school names, term-start rounds, the school's report."""

from __future__ import annotations

from models.report import Report
from models.repos import reports as report_repo
from models.repos import schools as school_repo
from models.repos import term_start as term_repo
from models.school import School
from models.term_start import UnreportedReason, UnreportedVisit

from ..context import Context


async def schools_by_code(ctx: Context, codes: list[str]) -> dict[str, School]:
    """Listing schools by code (every list item's school is one the caller may read the list of)."""
    return await school_repo.get_schools(ctx.session, codes)


async def rounds_by_key(ctx: Context, keys: list[str]) -> dict[str, list[UnreportedVisit]]:
    """The rounds of each `child|term` key (items already in the caller's scope)."""
    pairs = [(int(k.split("|")[0]), k.split("|")[1]) for k in keys]
    found = await term_repo.visits_of(ctx.session, pairs)
    return {f"{c}|{t}": found.get((c, t), []) for c, t in pairs}


async def report_states(ctx: Context, keys: list[str]) -> dict[str, tuple[Report, UnreportedReason | None] | None]:
    """For each `school|term|child` key, the school's term-start report once submitted (a draft stays with
    the school: POLICY 004 §4, each level sees what is sent up) and the pupil's reason as its current
    version reports it. The written report goes to the county bureau and the township government
    (POLICY 002 一(三)): its readers see it on their listed pupils."""
    parts = [k.split("|") for k in keys]
    reports = await term_repo.term_start_reports(ctx.session, sorted({(p[0], p[1]) for p in parts}))
    sent = {k: r for k, r in reports.items() if r.first_submitted_at is not None}
    revisions: dict[tuple[str, str], int] = {}
    for pair, report in sent.items():
        revisions[pair] = (await report_repo.revision_of(ctx.session, report)).id or 0
    rows = await term_repo.report_rows(ctx.session, list(revisions.values()))
    out: dict[str, tuple[Report, UnreportedReason | None] | None] = {}
    for key, (school, term, child) in zip(keys, parts, strict=True):
        report = sent.get((school, term))
        if report is None:
            out[key] = None
            continue
        mine = [r for r in rows.get(revisions[(school, term)], []) if str(r.child_id) == child]
        out[key] = (report, mine[0].reason if mine else None)
    return out
