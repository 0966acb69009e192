"""Comparison runs (models/comparison.py): the three comparisons of one county as set-based SQL (reading runs
and findings is models/repos/comparisons.py).

Which batches a county's run compares ("in effect"): of every applied batch whose jurisdiction lies in the
county, for each (jurisdiction, kind) the latest by as-of date, then id, so a township's door-to-door list
counts beside the county's household roster and a newer roster replaces an older one of the same place.
An in-school roll is taken per school: each school's latest applied IN_SCHOOL batch holding rows of it,
so a county may import one roll for all its schools or one per school. Only valid rows tied to a child
count: after an apply every valid row is (exact, confirmed, or registered as new).

One county is compared in a handful of statements (no per-row Python): the rows found go to a temporary
table, open findings that no longer hold are closed, those still holding are kept, and the rest are raised
unless the same facts were dismissed, or (out of school, registered not attending) the child already has an
entry not closed out: the ledger follows that child already, and the run counts it as `onLedger`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..comparison import ComparisonRun, FindingKind
from ..region import Region, RegionLevel
from ..roster import EXPECTED_ON_ROLL, JUNIOR_LAST_GRADE
from .paths import within_path


async def try_lock_county(session: AsyncSession, county_path: str) -> bool:
    """Take the county's comparison lock for this transaction, without waiting: False when another run of
    the county holds it (ARCHITECTURE §12)."""
    key = func.hashtextextended("comparison:" + county_path, 0)
    return bool(await session.scalar(select(func.pg_try_advisory_xact_lock(key))))


@dataclass(frozen=True)
class BatchRef:
    id: int
    kind: str
    jurisdiction_path: str
    jurisdiction_code: str
    as_of: date


BATCHES_SQL = """
SELECT id, kind, jurisdiction_path, jurisdiction_code, as_of FROM (
    SELECT DISTINCT ON (jurisdiction_path, kind) id, kind, jurisdiction_path, jurisdiction_code, as_of
      FROM roster_import
     WHERE status = 'APPLIED' AND kind NOT IN ('IN_SCHOOL', 'EXAM_REGISTRATION', 'PUSHED') AND as_of <= :as_of
       AND jurisdiction_path >= :county AND jurisdiction_path < :county_end
     ORDER BY jurisdiction_path, kind, as_of DESC, id DESC
) latest
UNION ALL
SELECT id, kind, jurisdiction_path, jurisdiction_code, as_of
  FROM roster_import
 WHERE status = 'APPLIED' AND kind = 'IN_SCHOOL' AND as_of <= :as_of
   AND jurisdiction_path >= :county AND jurisdiction_path < :county_end
 ORDER BY kind, id
"""


async def batches_in_effect(session: AsyncSession, county_path: str, as_of: date) -> list[BatchRef]:
    """The applied batches a run of the county on `as_of` compares (module docstring); rosters dated after
    `as_of` are not yet in effect. IN_SCHOOL: every applied roll, the SQL takes each school's latest."""
    params = {"county": county_path, "county_end": county_path + "0", "as_of": as_of}
    rows = (await session.execute(text(BATCHES_SQL), params)).all()
    return [BatchRef(int(r.id), r.kind, r.jurisdiction_path, r.jurisdiction_code, r.as_of) for r in rows]


FOUND_TABLE = """
CREATE TEMP TABLE IF NOT EXISTS cmp_found (
    kind text NOT NULL, child_id bigint NOT NULL, facts text NOT NULL, import_id bigint, line int,
    category text, special_group text, entry_id bigint, PRIMARY KEY (kind, child_id)
) ON COMMIT DROP
"""

# Household vs registry: school-age by the cut-off day, on a household roster, on no registry roster, and not
# enrolled. A registry row of any status means the child was registered, so not 失学 (A and B are for a child
# never enrolled), but for one saying the pupil finished below the last junior grade (小升初: finished primary
# and on no junior registry): that child is found with no category proposed (S needs the transition on
# baoxue's record; a person categorises). Otherwise the category proposed: A under the junior age on the
# cut-off day, B from it.
OUT_OF_SCHOOL_SQL = """
INSERT INTO cmp_found (kind, child_id, facts, import_id, line, category)
SELECT DISTINCT ON (c.id) 'OUT_OF_SCHOOL', c.id,
       md5(concat_ws('|', 'OUT_OF_SCHOOL', c.id, c.birth_date, c.household_path, c.residence_path)),
       h.import_id, h.line,
       CASE WHEN EXISTS (SELECT 1 FROM roster_row g WHERE g.import_id = ANY(:registry) AND g.child_id = h.child_id)
            THEN NULL WHEN c.birth_date > :primary_born_after THEN 'A' ELSE 'B' END
  FROM roster_row h
  JOIN child c ON c.id = h.child_id
 WHERE h.import_id = ANY(:household) AND h.status = 'VALID'
   AND c.birth_date > :born_after AND c.birth_date <= :born_by
   AND c.school_code IS NULL
   AND NOT EXISTS (
       SELECT 1 FROM roster_row g
        WHERE g.import_id = ANY(:registry) AND g.child_id = h.child_id
          AND (g.registry_status IS DISTINCT FROM 'GRADUATED' OR g.grade >= :last_grade)
   )
 ORDER BY c.id, h.import_id DESC, h.line
"""

# Registry vs in school: on the registry at a school whose roll is in, as studying or marked as having left
# without a transfer (在读, 辍学, 其他离校: models/roster.EXPECTED_ON_ROLL; 002 二(七) verifies them one by
# one), and on no roll in effect. The status is part of the facts, except 在读 (the facts of rows from
# before the column stay the same).
NOT_ATTENDING_SQL = """
WITH roll AS (
    SELECT DISTINCT ON (s.school_path) s.school_path, s.import_id
      FROM roster_row s JOIN roster_import i ON i.id = s.import_id
     WHERE s.import_id = ANY(:in_school) AND s.status = 'VALID' AND s.school_path IS NOT NULL
     ORDER BY s.school_path, i.as_of DESC, i.id DESC
)
INSERT INTO cmp_found (kind, child_id, facts, import_id, line)
SELECT DISTINCT ON (g.child_id) 'REGISTERED_NOT_ATTENDING', g.child_id,
       md5(concat_ws('|', 'REGISTERED_NOT_ATTENDING', g.child_id, g.school_code, g.grade,
                     NULLIF(g.registry_status, 'ENROLLED'))),
       g.import_id, g.line
  FROM roster_row g
  JOIN roll r ON r.school_path = g.school_path
 WHERE g.import_id = ANY(:registry) AND g.status = 'VALID' AND g.child_id IS NOT NULL
   AND coalesce(g.registry_status, 'ENROLLED') = ANY(CAST(:expected_on_roll AS text[]))
   AND NOT EXISTS (
       SELECT 1 FROM roster_row s
        WHERE s.import_id = ANY(:in_school) AND s.import_id IN (SELECT DISTINCT import_id FROM roll)
          AND s.child_id = g.child_id AND s.status = 'VALID'
   )
 ORDER BY g.child_id, g.import_id DESC, g.line
"""

# Dropouts vs the poverty database: on a poverty roster, and on a ledger (an entry not closed out) or
# found out of school or not attending by this run (an open finding of the county).
POOR_SQL = """
INSERT INTO cmp_found (kind, child_id, facts, import_id, line, special_group, entry_id)
SELECT DISTINCT ON (p.child_id) 'POOR_HOUSEHOLD_DROPOUT', p.child_id,
       md5(concat_ws('|', 'POOR_HOUSEHOLD_DROPOUT', p.child_id, p.poverty_kind)),
       p.import_id, p.line, p.poverty_kind, e.id
  FROM roster_row p
  LEFT JOIN ledger_entry e ON e.child_id = p.child_id AND e.status <> 'CLOSED'
 WHERE p.import_id = ANY(:poverty) AND p.status = 'VALID' AND p.child_id IS NOT NULL
   AND p.poverty_kind IS NOT NULL
   AND (e.id IS NOT NULL OR EXISTS (
       SELECT 1 FROM comparison_finding f
        WHERE f.county_path = :county AND f.kind IN ('OUT_OF_SCHOOL', 'REGISTERED_NOT_ATTENDING')
          AND f.child_id = p.child_id AND f.state = 'OPEN'
   ))
 ORDER BY p.child_id, p.import_id DESC, p.line
"""

CLOSE_SQL = """
WITH closed AS (
    UPDATE comparison_finding f SET state = 'CLOSED', closed_run_id = :run, last_run_id = :run,
           version = f.version + 1
     WHERE f.county_path = :county AND f.kind = ANY(:kinds) AND f.state = 'OPEN'
       AND NOT EXISTS (SELECT 1 FROM cmp_found x WHERE x.kind = f.kind AND x.child_id = f.child_id)
    RETURNING f.kind
)
SELECT kind, count(*) FROM closed GROUP BY kind
"""

# Still holding: the run and the row it stands on now, the child's paths as they are now; the version
# moves only when the facts did (a person who read the finding need not reload for nothing).
KEEP_SQL = """
UPDATE comparison_finding f
   SET last_run_id = :run, import_id = x.import_id, line = x.line, facts = x.facts,
       proposed_category = x.category, special_group = x.special_group, evidence_entry_id = x.entry_id,
       school_path = c.school_path, household_path = c.household_path, residence_path = c.residence_path,
       version = f.version + CASE WHEN f.facts = x.facts THEN 0 ELSE 1 END
  FROM cmp_found x JOIN child c ON c.id = x.child_id
 WHERE f.county_path = :county AND f.state = 'OPEN' AND f.kind = x.kind AND f.child_id = x.child_id
   AND x.kind = ANY(:kinds)
"""

RAISE_SQL = """
WITH classified AS (
    SELECT x.*, CASE
        WHEN EXISTS (SELECT 1 FROM comparison_finding f
                      WHERE f.county_path = :county AND f.kind = x.kind AND f.child_id = x.child_id
                        AND f.state = 'OPEN') THEN 'kept'
        WHEN EXISTS (SELECT 1 FROM comparison_finding f
                      WHERE f.county_path = :county AND f.kind = x.kind AND f.child_id = x.child_id
                        AND f.facts = x.facts
                        AND (f.state = 'DISMISSED' OR (f.state = 'LEDGERED' AND EXISTS (
                            SELECT 1 FROM ledger_entry e WHERE e.id = f.ledger_entry_id AND e.status <> 'CLOSED'
                        )))) THEN 'suppressed'
        WHEN x.kind <> 'POOR_HOUSEHOLD_DROPOUT' AND EXISTS (
            SELECT 1 FROM ledger_entry e WHERE e.child_id = x.child_id AND e.status <> 'CLOSED'
        ) THEN 'onLedger'
        ELSE 'raised' END AS fate
      FROM cmp_found x
     WHERE x.kind = ANY(:kinds)
), raised AS (
    INSERT INTO comparison_finding (
        run_id, last_run_id, kind, state, child_id, import_id, line, facts, proposed_category, special_group,
        evidence_entry_id, county_path, school_path, household_path, residence_path, province_code, version,
        created_at)
    SELECT :run, :run, x.kind, 'OPEN', x.child_id, x.import_id, x.line, x.facts, x.category, x.special_group,
           x.entry_id, :county, c.school_path, c.household_path, c.residence_path, :province, 1, now()
      FROM classified x JOIN child c ON c.id = x.child_id
     WHERE x.fate = 'raised'
    RETURNING 1
)
SELECT kind, fate, count(*) FROM classified GROUP BY kind, fate
"""

# The special group of a poor-household dropout still flagged (open or on the ledger), with its source
# audited: the roster row and the run. Set-based, like the rows it follows; the audit columns are those
# `models/repos/audit.record` writes.
SPECIAL_GROUP_SQL = """
WITH changed AS (
    UPDATE child c
       SET special_groups = array_append(c.special_groups, x.special_group::varchar),
           version = c.version + 1, updated_at = now()
      FROM cmp_found x
     WHERE x.kind = 'POOR_HOUSEHOLD_DROPOUT' AND c.id = x.child_id
       AND NOT (x.special_group::varchar = ANY(c.special_groups))
       AND EXISTS (SELECT 1 FROM comparison_finding f
                    WHERE f.county_path = :county AND f.kind = x.kind AND f.child_id = x.child_id
                      AND f.state IN ('OPEN', 'LEDGERED'))
    RETURNING c.id, x.special_group, x.import_id, x.line
), audited AS (
    INSERT INTO audit_log (at, actor, action, target_type, target_id, scope_path, summary, request_id)
    SELECT now(), :actor, 'student.add_special_group', 'Student', changed.id::text, :county,
           jsonb_build_object('specialGroup', special_group, 'source',
               jsonb_build_object('rosterImport', import_id, 'line', line, 'comparisonRun', :run)),
           :request_id
      FROM changed
    RETURNING 1
)
SELECT count(*) FROM audited
"""


@dataclass(frozen=True)
class CountyInputs:
    county_path: str
    province_code: str
    run_id: int
    born_after: date
    born_by: date
    primary_born_after: date
    household: list[int]
    registry: list[int]
    in_school: list[int]
    poverty: list[int]
    actor: str
    request_id: str | None


def kinds_that_run(inputs: CountyInputs) -> list[FindingKind]:
    """A comparison runs only when both of its sides are in: without a registry roster, "on no registry
    roster" would find every child; without a poverty roster, nothing is found and nothing may close."""
    kinds = []
    if inputs.household and inputs.registry:
        kinds.append(FindingKind.OUT_OF_SCHOOL)
    if inputs.registry and inputs.in_school:
        kinds.append(FindingKind.REGISTERED_NOT_ATTENDING)
    if inputs.poverty:
        kinds.append(FindingKind.POOR_HOUSEHOLD_DROPOUT)
    return kinds


async def compare_county(session: AsyncSession, inputs: CountyInputs) -> dict[str, dict[str, int]]:
    """Run the comparisons of one county (the caller holds its lock): per kind that ran, how many were
    found, raised, kept, closed, suppressed (dismissed for the same facts) and onLedger; and how many
    children were given a special group (`specialGroupsSet`)."""
    kinds = kinds_that_run(inputs)
    counts: dict[str, dict[str, int]] = {k.value: {} for k in kinds}
    params: dict[str, Any] = {
        "county": inputs.county_path, "province": inputs.province_code, "run": inputs.run_id,
        "born_after": inputs.born_after, "born_by": inputs.born_by, "primary_born_after": inputs.primary_born_after,
        "household": inputs.household, "registry": inputs.registry, "in_school": inputs.in_school,
        "poverty": inputs.poverty, "actor": inputs.actor, "request_id": inputs.request_id,
        "expected_on_roll": sorted(EXPECTED_ON_ROLL), "last_grade": JUNIOR_LAST_GRADE,
    }  # fmt: skip
    await session.execute(text(FOUND_TABLE))
    await session.execute(text("TRUNCATE cmp_found"))
    first = [k for k in kinds if k is not FindingKind.POOR_HOUSEHOLD_DROPOUT]
    if FindingKind.OUT_OF_SCHOOL in first:
        await session.execute(text(OUT_OF_SCHOOL_SQL), params)
    if FindingKind.REGISTERED_NOT_ATTENDING in first:
        await session.execute(text(NOT_ATTENDING_SQL), params)
    if first:  # the poverty comparison reads the open findings these leave
        await _settle(session, params, [k.value for k in first], counts)
    if FindingKind.POOR_HOUSEHOLD_DROPOUT in kinds:
        await session.execute(text(POOR_SQL), params)
        poor = FindingKind.POOR_HOUSEHOLD_DROPOUT.value
        await _settle(session, params, [poor], counts)
        groups = int(await session.scalar(text(SPECIAL_GROUP_SQL), params) or 0)
        counts[poor]["specialGroupsSet"] = groups
    return counts


async def _settle(session: AsyncSession, params: dict[str, Any], kinds: list[str], counts: dict[str, Any]) -> None:
    """Close, keep and raise the findings of `kinds` from what `cmp_found` holds."""
    await session.execute(text("ANALYZE cmp_found"))  # temporary tables are never analysed by autovacuum
    found = await session.execute(
        text("SELECT kind, count(*) FROM cmp_found WHERE kind = ANY(:kinds) GROUP BY kind"), {"kinds": kinds}
    )
    for kind, n in found.all():
        counts[kind]["found"] = int(n)
    step = {**params, "kinds": kinds}
    for kind, n in (await session.execute(text(CLOSE_SQL), step)).all():
        counts[kind]["closed"] = int(n)
    await session.execute(text(KEEP_SQL), step)
    for kind, fate, n in (await session.execute(text(RAISE_SQL), step)).all():
        counts[kind][fate] = int(n)
    for kind in kinds:
        for key in ("found", "raised", "kept", "closed", "suppressed", "onLedger"):
            counts[kind].setdefault(key, 0)


async def add_run(session: AsyncSession, run: ComparisonRun) -> ComparisonRun:
    session.add(run)
    await session.flush()
    return run


async def counties_within(session: AsyncSession, path: str) -> list[tuple[str, str]]:
    """(code, path) of each county at or below `path`, in path order (the order runs take their locks)."""
    stmt = (
        select(col(Region.code), col(Region.path))
        .where(col(Region.level) == RegionLevel.COUNTY, within_path(col(Region.path), path))
        .order_by(col(Region.path))
    )
    return [(code, p) for code, p in (await session.execute(stmt)).all()]
