"""The authorization benchmark's synthetic province, its grants and the requests it decides.

A synthetic province: 53 (Yunnan-like), 16 cities x 8 counties x 10 townships x 10 villages. Each
township has 10 primary schools hung on the township, each county 4 junior schools hung on the
county: 16 * 8 * (10 * 10 + 4) = 13,312 schools.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from authz.catalogue import ROLES, Level, Line, Role, ancestors, level_of_path, role_fits_level
from authz.enforcer import Authorizer, GrantRef

PROVINCE = "53"
CITIES, COUNTIES, TOWNSHIPS, VILLAGES = 16, 8, 10, 10
TOWNSHIP_SCHOOLS, COUNTY_SCHOOLS = 10, 4
UNSEEN_PROVINCE = "11"  # no region, school or grant lives there


def county_of(path: str) -> str:
    return "/".join(path.split("/")[:3])


def city_of(path: str) -> str:
    return "/".join(path.split("/")[:2])


def township_of(path: str) -> str:
    return "/".join(path.split("/")[:4])


def code_of(path: str) -> str:
    return path.rsplit("/", 1)[-1]


@dataclass
class Geo:
    """Every region and school path, and for each jurisdiction the paths of each level inside it."""

    regions: list[tuple[str, str, str, str | None, str]] = field(default_factory=list)  # code,name,level,parent,path
    schools: list[tuple[str, str, str, str, str, str, str]] = field(default_factory=list)
    under: dict[Level, dict[str, list[str]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    villages: list[str] = field(default_factory=list)
    primary_schools: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # by township
    junior_schools: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # by county

    def add_region(self, code: str, level: Level, parent: str | None, path: str) -> None:
        self.regions.append((code, f"{level.name.lower()} {code}", level.name, parent, path))
        self._index(level, path)

    def add_school(self, code: str, region_code: str, region_path: str, stage: str) -> str:
        path = f"{region_path}/{code}"
        self.schools.append((code, f"school {code}", region_code, "{" + stage + "}", "PUBLIC", path, PROVINCE))
        self._index(Level.SCHOOL, path)
        return path

    def _index(self, level: Level, path: str) -> None:
        for ancestor in ancestors(path):
            self.under[level][ancestor].append(path)

    def pick(self, level: Level, rng: random.Random, inside: str = "") -> str:
        """A random path of `level` within the jurisdiction `inside` (the nation by default)."""
        if level == Level.NATION:
            return ""
        if level == Level.PROVINCE:
            return PROVINCE
        return rng.choice(self.under[level][inside])


def build_geo() -> Geo:
    geo = Geo()
    geo.add_region(PROVINCE, Level.PROVINCE, None, PROVINCE)
    for c in range(1, CITIES + 1):
        city = f"{PROVINCE}{c:02d}"
        city_path = f"{PROVINCE}/{city}"
        geo.add_region(city, Level.CITY, PROVINCE, city_path)
        for k in range(1, COUNTIES + 1):
            county = f"{city}{k:02d}"
            county_path = f"{city_path}/{county}"
            geo.add_region(county, Level.COUNTY, city, county_path)
            for j in range(COUNTY_SCHOOLS):
                path = geo.add_school(f"3{county}{j:03d}", county, county_path, "JUNIOR")
                geo.junior_schools[county_path].append(path)
            for t in range(TOWNSHIPS):
                township = f"{county}{101 + t:03d}"
                township_path = f"{county_path}/{township}"
                geo.add_region(township, Level.TOWNSHIP, county, township_path)
                for s in range(TOWNSHIP_SCHOOLS):
                    path = geo.add_school(
                        f"2{county}{t * TOWNSHIP_SCHOOLS + s:03d}", township, township_path, "PRIMARY"
                    )
                    geo.primary_schools[township_path].append(path)
                for v in range(VILLAGES):
                    village = f"{township}{201 + v:03d}"
                    village_path = f"{township_path}/{village}"
                    geo.add_region(village, Level.VILLAGE, township, village_path)
                    geo.villages.append(village_path)
    return geo


# --------------------------------------------------------------------------------------------------
# Grants: a realistic mix (most accounts are school staff and village committees), each role at a
# level the catalogue allows; 15% of accounts hold 2-4 grants, the extra ones near the first.
# --------------------------------------------------------------------------------------------------
ROLE_MIX: list[tuple[Role, float, dict[Level, float] | None]] = [
    (Role.SCHOOL_STAFF, 620, None),
    (Role.SCHOOL_PRINCIPAL, 80, None),
    (Role.VILLAGE, 140, None),
    (Role.TOWNSHIP, 60, None),
    (Role.COUNTY_EDU, 30, None),
    (Role.COUNTY_GOV, 15, None),
    (Role.CITY_EDU, 6, None),
    (Role.CITY_GOV, 4, None),
    (Role.PROVINCE_EDU, 1, None),
    (Role.PROVINCE_GOV, 1, None),
    (Role.MINISTRY, 0.3, None),
    (Role.PERMISSION_ADMIN, 10, {Level.COUNTY: 8, Level.CITY: 1.5, Level.PROVINCE: 0.4, Level.NATION: 0.1}),
    (Role.INTEGRATOR, 3, {Level.COUNTY: 6, Level.CITY: 3, Level.PROVINCE: 1}),
    (Role.SUPERVISOR, 8, {Level.COUNTY: 6, Level.CITY: 3, Level.PROVINCE: 1}),
]


def pick_role(rng: random.Random) -> tuple[Role, Level]:
    role, _, levels = rng.choices(ROLE_MIX, weights=[w for _, w, _ in ROLE_MIX])[0]
    if levels is None:
        (level,) = ROLES[role].levels
    else:
        level = rng.choices(list(levels), weights=list(levels.values()))[0]
    assert role_fits_level(role, level)
    return role, level


def make_grants(n: int, geo: Geo, rng: random.Random, now: datetime) -> list[GrantRef]:
    grants: list[GrantRef] = []
    account = 0
    while len(grants) < n:
        account += 1
        username = f"acct{account:07d}"
        held = rng.choices([1, 2, 3, 4], weights=[85, 10, 4, 1])[0]
        near = ""  # extra grants of one account stay in the first one's county
        for _ in range(min(held, n - len(grants))):
            role, level = pick_role(rng)
            inside = near if level >= Level.COUNTY else ""
            path = geo.pick(level, rng, inside)
            if not near and level >= Level.COUNTY:
                near = county_of(path)
            expires = now + timedelta(days=rng.randint(1, 365)) if rng.random() < 0.05 else None
            grants.append(GrantRef(len(grants) + 1, username, role, path, expires))
    return grants


# --------------------------------------------------------------------------------------------------
# Decision requests
# --------------------------------------------------------------------------------------------------
KINDS = ("allow", "deny_sibling_county", "deny_missing_permission", "deny_unseen_domain")
KIND_LABELS = {
    "allow": "allowed: object inside one of the account's grants",
    "deny_sibling_county": "denied: object in a sibling county (no held domain on the walk)",
    "deny_missing_permission": "denied: object inside the grant, a permission the role lacks",
    "deny_unseen_domain": "denied: object in a province no grant or region mentions",
}
LACKING_CANDIDATES = (
    "LEDGER:APPROVE_DEFERRAL:EDU",
    "CHILD:READ_PII:GOV",
    "EXPORT:RUN:EDU",
    "GRANT:WRITE:PLACE",
)


@dataclass(frozen=True)
class Request:
    kind: str
    username: str
    perm: str
    paths: tuple[str, ...]


def object_for(role: Role, inside: str, geo: Geo, rng: random.Random) -> tuple[str, tuple[str, ...]]:
    """A permission the role holds and the paths of an object within `inside` (as resolvers pass them)."""
    if role == Role.PERMISSION_ADMIN:
        return "ACCOUNT:READ:PLACE", (geo.pick(Level.VILLAGE, rng, inside),)
    if role == Role.MINISTRY:
        return "REPORT:READ:EDU", (geo.pick(Level.SCHOOL, rng, inside),)
    if ROLES[role].line == Line.GOVERNMENT:
        residence = geo.pick(Level.VILLAGE, rng, inside)
        # Half the children are registered elsewhere: decide() then walks the household path first.
        household = geo.pick(Level.VILLAGE, rng) if rng.random() < 0.5 else residence
        return "CHILD:READ:GOV", (household, residence)
    return "CHILD:READ:EDU", (geo.pick(Level.SCHOOL, rng, inside),)


def make_requests(
    grants: list[GrantRef], authorizer: Authorizer, geo: Geo, rng: random.Random, per_kind: int
) -> list[Request]:
    by_user: dict[str, list[GrantRef]] = defaultdict(list)
    for g in grants:
        by_user[g.username].append(g)
    local = [g for g in grants if all(level_of_path(x.scope_path) >= Level.COUNTY for x in by_user[g.username])]
    out: list[Request] = []

    for _ in range(per_kind):
        g = rng.choice(grants)
        perm, paths = object_for(g.role, g.scope_path, geo, rng)
        out.append(Request("allow", g.username, perm, paths))

    made = 0
    while made < per_kind:
        g = rng.choice(local)
        held = {county_of(x.scope_path) for x in by_user[g.username]}
        siblings = [c for c in geo.under[Level.COUNTY][city_of(g.scope_path)] if c not in held]
        if not siblings:
            continue
        perm, paths = object_for(g.role, rng.choice(siblings), geo, rng)
        out.append(Request("deny_sibling_county", g.username, perm, paths))
        made += 1

    for _ in range(per_kind):
        g = rng.choice(grants)
        _, paths = object_for(g.role, g.scope_path, geo, rng)
        perm = next(p for p in LACKING_CANDIDATES if not authorizer.permits(g.role, p))
        out.append(Request("deny_missing_permission", g.username, perm, paths))

    for i in range(per_kind):
        g = rng.choice(grants)
        perm, _ = object_for(g.role, g.scope_path, geo, rng)
        county = f"{UNSEEN_PROVINCE}01{1 + i % 8:02d}"
        township = f"{county}{101 + i % 10:03d}"
        path = f"{UNSEEN_PROVINCE}/{UNSEEN_PROVINCE}01/{county}/{township}"
        path += f"/2{county}{i % 100:03d}" if perm.endswith(":EDU") else f"/{township}{201 + i % 10:03d}"
        out.append(Request("deny_unseen_domain", g.username, perm, (path,)))
    return out
