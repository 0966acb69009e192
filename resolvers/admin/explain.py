"""`explainAccess`: why an account may or may not do something to an object, step by step."""

from __future__ import annotations

from dataclasses import dataclass, field

from authz.catalogue import ROLES, within
from authz.enforcer import permission
from authz.errors import Forbidden
from models.region import NATION_CODE
from models.repos import children as child_repo
from models.repos import grants as grant_repo
from models.repos import regions as region_repo
from models.repos import schools as school_repo
from models.repos.accounts import get_account_by_username

from ..context import Context
from ..errors import BadInput
from ..paging import parse_id
from .accounts import visible_account


@dataclass(frozen=True)
class Step:
    kind: str  # GRANT | ROLE | POLICY | SCOPE | REFUSAL
    detail: str


@dataclass
class Explanation:
    allowed: bool
    steps: list[Step] = field(default_factory=list)


async def object_paths(ctx: Context, type_name: str, object_id: str) -> tuple[str, dict[str, list[str | None]]] | None:
    """The object type (as the policy names it) and its jurisdiction paths per line, from its row."""
    session = ctx.session
    if type_name == "Region":
        region = await region_repo.get_region(session, object_id)
        return ("REGION", {"PLACE": [region.path]}) if region else None
    if type_name == "School":
        school = (await school_repo.get_schools(session, [object_id])).get(object_id)
        return ("SCHOOL", {"PLACE": [school.path]}) if school else None
    number = parse_id(object_id)
    if type_name == "Student" and number is not None:
        child = (await child_repo.get_children(session, [number])).get(number)
        return ("CHILD", child_repo.scope_paths(child)) if child else None
    if type_name == "Account":
        account = await get_account_by_username(session, object_id)
        return ("ACCOUNT", {"PLACE": [account.home_path]}) if account else None
    if type_name == "Grant" and number is not None:
        grant = await grant_repo.get_grant(session, number)
        return ("GRANT", {"PLACE": [grant.scope_path]}) if grant else None
    return None


async def explain_access(ctx: Context, *, username: str, action: str, type_name: str, object_id: str) -> Explanation:
    """Answerable by permission admins about accounts and objects inside their own jurisdiction."""
    admin = ctx.access()
    if not admin.holds_anywhere("GRANT", "READ"):
        raise Forbidden()
    await visible_account(ctx, username)
    found = await object_paths(ctx, type_name, object_id)
    admin_paths = admin.granted_paths("GRANT", "READ", "PLACE")

    def in_scope(path: str) -> bool:
        return any(within(path, a) for a in admin_paths)

    # Every place the object stands must be the admin's own: otherwise the answer would reveal
    # where a child outside its jurisdiction lives or studies.
    if found is None or not all(in_scope(p) for paths in found[1].values() for p in paths if p is not None):
        raise BadInput("objectId", "NOT_FOUND", "没有这个对象", "no such object")
    obj, paths = found
    # "CHILD:READ" names the object type too (e.g. LEDGER:READ asked of a child); "READ" uses the object's.
    prefix, _, act = action.upper().rpartition(":")
    obj = prefix or obj
    authorizer, now = admin.authorizer, admin.now
    grants = authorizer.grants_of(username, now)
    if not grants:
        account = await get_account_by_username(ctx.session, username)
        detail = (
            "账号已停用 / the account is disabled"
            if account and not account.active
            else ("没有有效授权（无、已过期或已撤销）/ no live grant (none, expired or revoked)")
        )
        return Explanation(False, [Step("REFUSAL", detail)])
    for line, line_paths in paths.items():
        present = [p for p in line_paths if p is not None]
        grant = authorizer.decide(username, permission(obj, act, line), present, now)
        if grant is None:
            continue
        target = next(p for p in present if within(p, grant.scope_path))
        expiry = grant.expires_at.isoformat() if grant.expires_at else "不过期 / no expiry"
        return Explanation(
            True,
            [
                Step("GRANT", f"#{grant.id} {grant.role.value} @ {grant.scope_path or NATION_CODE} ({expiry})"),
                Step("ROLE", f"{grant.role.value}: {ROLES[grant.role].label}"),
                Step("POLICY", f"g2, {grant.role.value}, {permission(obj, act, line)}"),
                Step("SCOPE", f"{grant.scope_path or NATION_CODE} ⊇ {target} ({line})"),
            ],
        )
    perms = [permission(obj, act, line) for line in paths]
    holding = [g for g in grants if any(authorizer.permits(g.role, p) for p in perms)]
    if not holding:
        roles = ", ".join(sorted({g.role.value for g in grants if in_scope(g.scope_path)})) or "—"
        return Explanation(
            False,
            [Step("REFUSAL", f"角色 {roles} 的策略不含 {obj}:{act} / no policy of roles {roles} allows {obj}:{act}")],
        )
    where = ", ".join(sorted({g.scope_path or NATION_CODE for g in holding if in_scope(g.scope_path)})) or "—"
    shown = "; ".join(f"{line}: {', '.join(p for p in ps if p) or '—'}" for line, ps in paths.items())
    return Explanation(
        False,
        [
            Step(
                "REFUSAL",
                f"授权辖区 {where} 不包含对象 ({shown}) / granted at {where}, which does not contain the object",
            )
        ],
    )
