"""Routing a pushed-down list (下发核实, POLICY 004 §9): when its sender applies the batch, every valid row
becomes a verification task in the county that answers for the child, due `verification_days` later.

The county is found by the registry school, then the residence, then the household registration
(`models/verification.route`). A row no rule routes becomes an UNROUTABLE task with its reason, which the
sender reads back (`verificationTasks(filter: {status: UNROUTABLE})`); rows refused on import are in the
batch's refused-rows download. Nothing is dropped silently.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from models.base import today
from models.repos import verification as repo
from models.roster_import import RosterImport
from models.verification import TaskStatus, UnroutableReason, route

from ..context import Context


async def open_tasks(ctx: Context, batch: RosterImport) -> dict[str, int]:
    """One task per valid row of the (locked, staged) batch; returns the counts by rule and by reason."""
    assert batch.id is not None
    rows = await repo.valid_rows(ctx.session, batch.id)
    routed: list[tuple[Any, str | UnroutableReason, str | None]] = []
    for row in rows:
        given = bool(row.school_code or row.household_region_code or row.residence_region_code)
        found = route(row.school_path, row.residence_path, row.household_path, codes_given=given)
        routed.append((row, *(found if isinstance(found, tuple) else (found, None))))
    days = await repo.verification_days(ctx.session, {r[1][:2] for r in routed if r[2] is not None})
    start = today()
    tasks: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    for row, place, rule in routed:
        base = {"import_id": batch.id, "line": row.line, "sender_path": batch.jurisdiction_path,
                "child_id": row.child_id, "created_by": ctx.actor}  # fmt: skip
        if rule is None:
            reason = UnroutableReason(place)
            tasks.append({**base, "status": TaskStatus.UNROUTABLE, "unroutable_reason": reason,
                          "province_code": batch.province_code})  # fmt: skip
            counts[reason.value] = counts.get(reason.value, 0) + 1
            continue
        county = str(place)
        tasks.append({
            **base, "status": TaskStatus.OPEN, "county_path": county, "county_code": county.rsplit("/", 1)[-1],
            "route": rule, "due_on": start + timedelta(days=days[county[:2]]), "province_code": county[:2],
        })  # fmt: skip
        counts[str(rule)] = counts.get(str(rule), 0) + 1
    keys = {k for task in tasks for k in task}  # one multi-row INSERT: every row names every column
    await repo.insert_tasks(ctx.session, [{k: task.get(k) for k in keys} for task in tasks])
    return counts
