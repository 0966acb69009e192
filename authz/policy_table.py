"""The README's table of what each role may do, written from `authz/policy.csv` (never by hand):
`uv run baoxue export-schema` puts it between the markers below, and a test proves the two agree."""

from __future__ import annotations

from .enforcer import read_policy_lines

README_BEGIN = "<!-- permissions: generated from authz/policy.csv by `uv run baoxue export-schema` -->"
README_END = "<!-- end of permissions -->"
LINES = {"EDU": "edu", "GOV": "gov", "PLACE": "place"}


def role_permissions() -> dict[str, dict[str, list[str]]]:
    """Role → `OBJECT:ACTION` → the lines it holds it on, in the policy file's order."""
    roles: dict[str, dict[str, list[str]]] = {}
    for line in read_policy_lines():
        if line[0] == "p":
            roles.setdefault(line[1], {})
        elif line[0] == "g2":
            obj, act, on = line[2].split(":")
            roles.setdefault(line[1], {}).setdefault(f"{obj}:{act}", []).append(LINES[on])
    return roles


def permissions_markdown() -> str:
    """One row per role: each permission with the lines it holds (edu: by school, gov: by household or
    residence, place: by region)."""
    rows = [README_BEGIN, "", "| role | permissions (`OBJECT:ACTION` lines) |", "|---|---|"]
    for role, permissions in role_permissions().items():
        held = ", ".join(f"`{perm}` {'+'.join(lines)}" for perm, lines in permissions.items())
        rows.append(f"| `{role}` | {held} |")
    return "\n".join([*rows, "", README_END])
