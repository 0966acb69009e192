"""Role administration: accounts, grants, the audit log, explainAccess and the signed-in viewer.

The domain's root fields: `schema/root.py` merges every domain's `Query` and `Mutation`."""

from __future__ import annotations

import strawberry

from ..connection import Connection
from . import accounts as account_types
from . import audit as audit_types
from . import budgets as budget_types
from . import explain as explain_types
from . import grants as grant_types
from . import viewer as viewer_types


@strawberry.type
class Query:
    viewer: viewer_types.Viewer = strawberry.field(
        resolver=viewer_types.viewer,
        description="当前登录账号 / the signed-in account (UNAUTHENTICATED without a token).",
    )
    accounts: Connection[account_types.Account] = strawberry.field(
        resolver=account_types.accounts,
        description="账号 / accounts in my jurisdiction (permission admins, supervisors).",
    )
    grants: Connection[grant_types.Grant] = strawberry.field(
        resolver=grant_types.grants, description="授权 / grants in my jurisdiction (permission admins, supervisors)."
    )
    audit_log: audit_types.AuditConnection = strawberry.field(
        resolver=audit_types.audit_log, description="审计日志 / audit log of my jurisdiction (supervisors, admins)."
    )
    explain_access: explain_types.AccessExplanation = strawberry.field(
        resolver=explain_types.explain_access,
        description="访问判定说明 / may USERNAME do ACTION (e.g. CHILD:READ) on the object, and why.",
    )


@strawberry.type
class Mutation:
    create_account: account_types.CreateAccountPayload = strawberry.mutation(
        resolver=account_types.create_account, description="新建账号 / create an account in my jurisdiction."
    )
    disable_account: account_types.DisableAccountPayload = strawberry.mutation(
        resolver=account_types.disable_account, description="停用账号 / disable an account (kept, never deleted)."
    )
    grant_role: grant_types.GrantRolePayload = strawberry.mutation(
        resolver=grant_types.grant_role, description="授予角色 / grant a role within my jurisdiction."
    )
    revoke_grant: grant_types.RevokeGrantPayload = strawberry.mutation(
        resolver=grant_types.revoke_grant, description="撤销授权 / revoke a grant I could have made."
    )
    set_export_budget: budget_types.SetExportBudgetPayload = strawberry.mutation(
        resolver=budget_types.set_export_budget,
        description="设定导出额度 / set an account's export rows per day (permission admins, in their jurisdiction).",
    )
