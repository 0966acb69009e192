"""The change feed as a connection (issue 15 §2): `changes(after:, types:, regionCode:, first:)`.

The domain's root field: `schema/root.py` merges it. The same pages go out as JSON Lines at
`GET /exports/changes` (baoxue/changes.py); both call `resolvers/changes/reading.py`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from models.change_feed import ChangeOperation, ChangeType
from resolvers.changes import reading

from ..context import Info
from ..enums import described

described(
    ChangeType,
    {
        ChangeType.STUDENT: "学生 / a child (Student)",
        ChangeType.LEDGER_ENTRY: "台账记录 / a ledger entry",
        ChangeType.PERSUASION_VISIT: "劝返记录 / a persuasion visit",
        ChangeType.CASE_PLAN: "一人一案 / a case plan",
        ChangeType.DEFERRAL_REQUEST: "延缓入学申请 / a deferral request",
        ChangeType.HANDOVER: "书面移交 / a handover",
        ChangeType.REPORT: "报告（已报送）/ a submitted report",
    },
    "变更对象类型 / the kind of object a change is about",
)
described(
    ChangeOperation,
    {
        ChangeOperation.CREATE: "新建 / created",
        ChangeOperation.UPDATE: "修改 / updated",
        ChangeOperation.STATUS_CHANGE: "状态变化 / its status changed",
        ChangeOperation.CLOSE: "销号 / closed out (ledger entries)",
        ChangeOperation.LEFT_SCOPE: "移出辖区：请在镜像中删除 / left your scope: delete it from your copy",
    },
    "变更类别 / what happened",
)


@strawberry.type(description="一次变更 / one change, with the object as it was right after it (masked for your role).")
class Change:
    object_id: relay.GlobalID = strawberry.field(description="对象的全局 ID / the object's global ID.")
    type: ChangeType = strawberry.field(description="对象类型 / the object's type.")
    operation: ChangeOperation = strawberry.field(description="变更类别 / what happened.")
    version: int = strawberry.field(
        description="版本：有版本号的对象为其版本号，其余为变更序号，均随变更递增 / the object's version "
        "(Student, LedgerEntry, CasePlan, Report), else the change's number: it grows with each change."
    )
    changed_at: datetime = strawberry.field(description="提交时间 / when the change was committed.")
    object: JSON | None = strawberry.field(
        description="变更后的对象（GraphQL 字段名，个人信息按权限遮蔽；LEFT_SCOPE 时为空）/ the object right "
        "after the change, with GraphQL field names, personal data masked for your role (null for LEFT_SCOPE)."
    )

    @classmethod
    def of(cls, line: dict[str, Any]) -> Change:
        """From one line of the feed (resolvers/changes/reading.py), the same as GET /exports/changes sends."""
        return cls(
            object_id=relay.GlobalID.from_id(line["objectId"]),
            type=ChangeType[line["type"]],
            operation=ChangeOperation[line["operation"]],
            version=line["version"],
            changed_at=datetime.fromisoformat(line["changedAt"]),
            object=JSON(line["object"]) if line["object"] is not None else None,
        )


@strawberry.type(description="变更与其游标 / a change and its cursor.")
class ChangeEdge:
    cursor: str = strawberry.field(description="从这里继续 / continue after this change.")
    node: Change = strawberry.field(description="变更 / the change.")


@strawberry.type(
    description="变更流的一页：按提交顺序；保存 endCursor，下次从它继续 / a page of the change feed in commit "
    "order; keep `pageInfo.endCursor` and continue after it next time."
)
class ChangeConnection:
    edges: list[ChangeEdge] = strawberry.field(description="变更 / the changes.")
    page_info: relay.PageInfo = strawberry.field(description="分页 / paging.")


async def changes(
    info: Info,
    after: Annotated[
        str | None,
        strawberry.argument(
            description="游标（空：从最早保留的变更开始；`latest`：只取最新游标）/ a cursor (none: from the oldest "
            "change kept; `latest`: no changes, only the newest cursor)."
        ),
    ] = None,
    types: Annotated[
        list[ChangeType] | None, strawberry.argument(description="只要这些类型 / only these types.")
    ] = None,
    region_code: Annotated[str | None, strawberry.argument(description="只要此地区 / only this region.")] = None,
    first: Annotated[int, strawberry.argument(description="每页条数 1–100 / changes per page, 1–100.")] = 100,
) -> ChangeConnection:
    page = await reading.read_changes(
        info.context,
        after=after,
        types=types,
        region_code=region_code,
        limit=reading.check_limit(first, 100),
    )
    lines = [json.loads(line) for line in page.lines]
    edges = [ChangeEdge(cursor=line["cursor"], node=Change.of(line)) for line in lines]
    return ChangeConnection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=page.has_next,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=page.end_cursor,
        ),
    )


@strawberry.type
class Query:
    changes: ChangeConnection = strawberry.field(
        resolver=changes,
        description="变更流（数据对接）：需 EXPORT:RUN / the incremental change feed for integrators (needs "
        "EXPORT:RUN): every create, update, close-out and status change in commit order.",
    )
