"""The Casbin enforcer over live grants, with a per-account index so no decision scans all grants.

Decisions walk the ≤7 ancestors of an object's path and ask Casbin only about domains where the
account holds a grant (exact domains, no pattern matching: ARCHITECTURE §4). List scopes come from the
same grants and the role→permission table Casbin loaded, compiled once per build.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import casbin
from casbin import persist

from models.region import NATION_CODE, NATION_PATH

from .catalogue import Role, ancestors

log = logging.getLogger("baoxue.authz")

HERE = Path(__file__).resolve().parent
MODEL_PATH = HERE / "model.conf"
POLICY_PATH = HERE / "policy.csv"
LINES = ("EDU", "GOV", "PLACE")
NATION_DOMAIN = NATION_CODE


def domain_of(path: str) -> str:
    """Casbin's domain for a jurisdiction path (an empty domain means "none" to Casbin)."""
    return path or NATION_DOMAIN


def permission(obj: str, act: str, line: str) -> str:
    return f"{obj}:{act}:{line}"


@dataclass(frozen=True)
class GrantRef:
    """What the enforcer knows of one grant."""

    id: int
    username: str
    role: Role
    scope_path: str
    expires_at: datetime | None = None

    def live(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now


def read_policy_lines() -> list[list[str]]:
    lines = []
    for raw in POLICY_PATH.read_text(encoding="utf-8").splitlines():
        raw = raw.strip()
        if raw and not raw.startswith("#"):
            lines.append([token.strip() for token in raw.split(",")])
    return lines


class _ListAdapter(persist.Adapter):  # type: ignore[misc]
    """Feeds policy lines straight into the model: loading 100k grants takes well under a second."""

    def __init__(self, lines: Iterable[list[str]]) -> None:
        self.lines = lines

    def load_policy(self, model: Any) -> None:
        for line in self.lines:
            model.model[line[0][0]][line[0]].policy.append(line[1:])


ANSWERS_KEPT = 100_000


class Authorizer:
    """One built enforcer. Changes apply incrementally; a full rebuild makes a new one to swap in."""

    def __init__(self, grants: Iterable[GrantRef]) -> None:
        policy = read_policy_lines()
        grants = list(grants)
        # One Casbin link per (account, role, domain), however many grants stand behind it: the
        # index counts the grants, and `remove` drops the link with the last of them.
        links = {(g.username, g.role.value, domain_of(g.scope_path)) for g in grants}
        g_lines = [["g", *link] for link in sorted(links)]
        self.enforcer = casbin.Enforcer(str(MODEL_PATH), _ListAdapter(policy + g_lines))
        # Exact names and domains only: the default name matcher makes every new domain cost O(links²).
        self.enforcer.get_role_manager().add_matching_func(None)
        self.enforcer.build_role_links()
        self.roles_with: dict[str, frozenset[Role]] = self._compile_permissions(policy)
        self.index: dict[str, dict[str, dict[int, GrantRef]]] = defaultdict(lambda: defaultdict(dict))
        for grant in grants:
            self.index[grant.username][grant.scope_path][grant.id] = grant
        # Casbin's answers, until the next change of links: pycasbin parses its matcher on every call
        # (about 0.07 ms), and a page asks the same question again and again (issue 18 §2).
        self.answers: dict[tuple[str, str, str], bool] = {}
        self.enforcer.enforce("warm-up", NATION_DOMAIN, "REGION:READ:PLACE")  # compiles the matcher

    @staticmethod
    def _compile_permissions(policy: list[list[str]]) -> dict[str, frozenset[Role]]:
        table: dict[str, set[Role]] = defaultdict(set)
        for line in policy:
            if line[0] == "g2":
                table[line[2]].add(Role(line[1]))
        return {perm: frozenset(roles) for perm, roles in table.items()}

    # -- what an account holds ------------------------------------------------------------
    def grants_of(self, username: str, now: datetime) -> list[GrantRef]:
        held = self.index.get(username, {})
        return [g for by_id in held.values() for g in by_id.values() if g.live(now)]

    def scope_paths(self, username: str, obj: str, act: str, now: datetime) -> dict[str, list[str]]:
        """Per line, the jurisdiction paths where `username` may do obj:act (for SQL predicates)."""
        out: dict[str, list[str]] = {}
        grants = self.grants_of(username, now)
        for line in LINES:
            roles = self.roles_with.get(permission(obj, act, line), frozenset())
            paths = sorted({g.scope_path for g in grants if g.role in roles})
            if paths:
                out[line] = paths
        return out

    # -- decisions --------------------------------------------------------------------------
    def decide(self, username: str, perm: str, paths: Sequence[str], now: datetime) -> GrantRef | None:
        """May `username` do `perm` on an object at one of `paths`? The grant that allows it, or None."""
        held = self.index.get(username)
        roles = self.roles_with.get(perm, frozenset())
        if not held or not roles:
            return None
        for path in paths:
            for domain_path in ancestors(path):
                grants = held.get(domain_path)
                # Ask Casbin only where a grant held here could allow it: denials stay cheap.
                if not grants or not any(g.role in roles for g in grants.values()):
                    continue
                self._drop_expired(username, domain_path, now)
                if self._enforce(username, domain_of(domain_path), perm):
                    allowing = next((g for g in held[domain_path].values() if g.role in roles), None)
                    if allowing is not None:
                        return allowing
        return None

    def _enforce(self, username: str, domain: str, perm: str) -> bool:
        question = (username, domain, perm)
        answer = self.answers.get(question)
        if answer is None:
            if len(self.answers) >= ANSWERS_KEPT:
                self.answers.clear()
            answer = self.answers[question] = bool(self.enforcer.enforce(username, domain, perm))
        return answer

    def permits(self, role: Role, perm: str) -> bool:
        return role in self.roles_with.get(perm, frozenset())

    # -- changes ----------------------------------------------------------------------------
    def add(self, grant: GrantRef) -> None:
        """Apply a new grant (idempotent)."""
        by_id = self.index[grant.username][grant.scope_path]
        if grant.id in by_id:
            return
        same_role = any(g.role == grant.role for g in by_id.values())
        by_id[grant.id] = grant
        if not same_role:
            self.enforcer.add_grouping_policy(grant.username, grant.role.value, domain_of(grant.scope_path))
            self.answers.clear()

    def remove(self, grant_id: int, username: str, scope_path: str) -> None:
        """Apply a revocation or expiry (idempotent)."""
        by_id = self.index.get(username, {}).get(scope_path)
        if not by_id or grant_id not in by_id:
            return
        gone = by_id.pop(grant_id)
        if not any(g.role == gone.role for g in by_id.values()):
            self.enforcer.remove_grouping_policy(username, gone.role.value, domain_of(scope_path))
            self.answers.clear()

    def _drop_expired(self, username: str, scope_path: str, now: datetime) -> None:
        for grant in list(self.index[username][scope_path].values()):
            if not grant.live(now):
                self.remove(grant.id, username, scope_path)


__all__ = ["NATION_DOMAIN", "NATION_PATH", "Authorizer", "GrantRef", "domain_of", "permission"]
