"""What live events announce, and the NOTIFY that carries them (README "Live events").

A payload carries ids only (ARCHITECTURE §11): each process's listener hands it to the subscriptions,
which re-read the object with their own principal. The NOTIFY is sent from the one audit path
(`resolvers/audit.py` calls `announce` for every audited change) in the writing transaction, so
PostgreSQL delivers it only if the change commits, and every write path that audits is covered.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.repos.notifications import notify

CHANNEL = "baoxue_live"
"""The live-event channel; grant changes travel on `baoxue_grants` (authz/state.py), read here too."""


class LedgerEventType(enum.StrEnum):
    """What happened to a ledger entry (POLICY 004 §3 快速发现与响应)."""

    OPENED = "OPENED"  # 纳入台账（含规则重新纳入）
    ESCALATED = "ESCALATED"  # 疑似辍学转为辍学
    RETURNED = "RETURNED"  # 返校
    CLOSED_OUT = "CLOSED_OUT"  # 销号
    HANDOVER_RECEIVED = "HANDOVER_RECEIVED"  # 收到书面移交
    DEFERRAL_DECIDED = "DEFERRAL_DECIDED"  # 缓学申请已审批


class ReportEventType(enum.StrEnum):
    """What happened to a report, or which deadline is near (POLICY 004 §4–§7)."""

    SUBMITTED = "SUBMITTED"
    RETURNED = "RETURNED"
    APPROVED = "APPROVED"
    AWAITING_RECHECK = "AWAITING_RECHECK"
    DEADLINE_IN_3_DAYS = "DEADLINE_IN_3_DAYS"
    DEADLINE_IN_1_DAY = "DEADLINE_IN_1_DAY"
    DEADLINE_PASSED = "DEADLINE_PASSED"


class Kind(enum.StrEnum):
    LEDGER = "ledger"
    REPORT = "report"
    ACCESS = "access"  # an account lost access (disabled, a token or grant revoked): close its connections


# The audited actions that are live events (resolvers/ledgers/*, resolvers/reports/workflow.py).
LEDGER_ACTIONS: dict[str, LedgerEventType] = {
    "ledger.open": LedgerEventType.OPENED,
    "ledger.rules.open_suspected": LedgerEventType.OPENED,
    "ledger.rules.reopen": LedgerEventType.OPENED,
    "ledger.rules.escalate": LedgerEventType.ESCALATED,
    "ledger.mark_returned": LedgerEventType.RETURNED,
    "ledger.rules.returned": LedgerEventType.RETURNED,
    "ledger.close_out": LedgerEventType.CLOSED_OUT,
    "ledger.hand_over": LedgerEventType.HANDOVER_RECEIVED,
    "ledger.decide_deferral": LedgerEventType.DEFERRAL_DECIDED,
}
REPORT_ACTIONS: dict[str, ReportEventType] = {
    "report.submit": ReportEventType.SUBMITTED,
    "report.return": ReportEventType.RETURNED,
}
ACCESS_ACTIONS = ("account.disable",)


@dataclass(frozen=True)
class Announcement:
    """One event as sent on the channel: its kind and type, the object's id, the related object's
    (a deferral request), or the account (ACCESS), and when."""

    kind: str
    type: str
    id: int = 0
    related: int | None = None
    username: str | None = None
    at: str = ""

    def payload(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}, separators=(",", ":"))

    @classmethod
    def parse(cls, payload: str) -> Announcement | None:
        """The announcement a payload carries, or None when it is not one (a stray NOTIFY)."""
        try:
            data = json.loads(payload)
            found = cls(**data) if isinstance(data, dict) else None
        except (ValueError, TypeError):
            return None
        if found is None or found.kind not in set(Kind):
            return None
        return found

    @property
    def occurred_at(self) -> datetime:
        try:
            return datetime.fromisoformat(self.at)
        except ValueError:
            return utcnow()


def announcement_for(action: str, target_id: str, summary: dict[str, Any] | None) -> Announcement | None:
    """The live event an audited change is, if it is one."""
    summary = summary or {}
    at = utcnow().isoformat()
    if action in LEDGER_ACTIONS and target_id.isdigit():
        related = summary.get("request") if action == "ledger.decide_deferral" else None
        return Announcement(
            Kind.LEDGER,
            LEDGER_ACTIONS[action],
            int(target_id),
            int(related) if isinstance(related, str) and related.isdigit() else None,
            at=at,
        )
    if action == "report.review" and target_id.isdigit():
        kind = ReportEventType.APPROVED if summary.get("decision") == "APPROVE" else ReportEventType.RETURNED
        return Announcement(Kind.REPORT, kind, int(target_id), at=at)
    if action in REPORT_ACTIONS and target_id.isdigit():
        return Announcement(Kind.REPORT, REPORT_ACTIONS[action], int(target_id), at=at)
    if action in ACCESS_ACTIONS:
        return Announcement(Kind.ACCESS, "", username=target_id, at=at)
    return None


async def announce(session: AsyncSession, action: str, target_id: str, summary: dict[str, Any] | None) -> None:
    """NOTIFY the live event an audited change is, if it is one; delivered only if the transaction commits."""
    found = announcement_for(action, target_id, summary)
    if found is not None:
        await notify(session, CHANNEL, found.payload())


async def announce_access_lost(session: AsyncSession, username: str) -> None:
    """NOTIFY that the account lost access (a token revoked): every process closes its connections."""
    await notify(session, CHANNEL, Announcement(Kind.ACCESS, "", username=username, at=utcnow().isoformat()).payload())
