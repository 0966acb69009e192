"""Re-check separation (复核): the level that submits is never the level that approves."""

from __future__ import annotations

from dataclasses import dataclass

from .access import Access
from .catalogue import REPORTING_PARENT, ancestors, level_of_path
from .enforcer import GrantRef, permission


@dataclass(frozen=True)
class ReviewDecision:
    allowed: bool
    reason: str
    grant: GrantRef | None = None


REVIEW_PERMISSION = {"EDU": permission("REPORT", "REVIEW", "EDU"), "GOV": permission("REPORT", "COSIGN", "GOV")}


def may_review(access: Access, *, submission_path: str, submitted_by: str, line: str = "EDU") -> ReviewDecision:
    """May this principal re-check (line EDU) or co-sign (line GOV) a submission?

    Only from the jurisdiction exactly one reporting level above the submission's, containing it,
    with a reviewing role on that line, and never one's own submission.
    """
    if submitted_by == access.username:
        return ReviewDecision(False, "OWN_SUBMISSION")
    parent_level = REPORTING_PARENT.get(level_of_path(submission_path))
    if parent_level is None:
        return ReviewDecision(False, "NOT_REVIEWABLE")
    parent = next((p for p in ancestors(submission_path)[1:] if level_of_path(p) == parent_level), None)
    if parent is None:
        return ReviewDecision(False, "NOT_REVIEWABLE")
    # The nearest allowing grant must sit exactly at the parent: one held higher up is two levels away.
    grant = access.authorizer.decide(access.username, REVIEW_PERMISSION[line], [parent], access.now)
    if grant is None or grant.scope_path != parent:
        return ReviewDecision(False, "NOT_ONE_LEVEL_UP_IN_SCOPE")
    return ReviewDecision(True, "ONE_LEVEL_UP", grant)
