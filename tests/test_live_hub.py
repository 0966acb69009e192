"""The parts of live events that need no server: what an audited change announces, the deadline rule,
and the hub's bounded queues and closes (README "Live events")."""

from __future__ import annotations

import asyncio

import pytest

from resolvers.live.events import Announcement, Kind, LedgerEventType, ReportEventType, announcement_for
from resolvers.live.hub import ACCESS_CHANGED, LISTENER_LOST, SLOW_CONSUMER, TOKEN_EXPIRED, Hub
from resolvers.live.reports import deadline_type


@pytest.mark.parametrize(
    ("action", "summary", "kind", "type_"),
    [
        ("ledger.open", {}, Kind.LEDGER, LedgerEventType.OPENED),
        ("ledger.rules.open_suspected", {}, Kind.LEDGER, LedgerEventType.OPENED),
        ("ledger.rules.escalate", {}, Kind.LEDGER, LedgerEventType.ESCALATED),
        ("ledger.mark_returned", {}, Kind.LEDGER, LedgerEventType.RETURNED),
        ("ledger.close_out", {}, Kind.LEDGER, LedgerEventType.CLOSED_OUT),
        ("ledger.hand_over", {"to": "53/5323"}, Kind.LEDGER, LedgerEventType.HANDOVER_RECEIVED),
        ("ledger.decide_deferral", {"request": "9"}, Kind.LEDGER, LedgerEventType.DEFERRAL_DECIDED),
        ("report.submit", {}, Kind.REPORT, ReportEventType.SUBMITTED),
        ("report.review", {"decision": "APPROVE"}, Kind.REPORT, ReportEventType.APPROVED),
        ("report.review", {"decision": "RETURN"}, Kind.REPORT, ReportEventType.RETURNED),
        ("report.return", {}, Kind.REPORT, ReportEventType.RETURNED),
    ],
)
def test_an_audited_change_announces_its_event_with_ids_only(
    action: str, summary: dict[str, str], kind: Kind, type_: str
) -> None:
    found = announcement_for(action, "42", summary)
    assert found is not None
    assert (found.kind, found.type, found.id) == (kind, type_, 42)
    assert found.related == (9 if action == "ledger.decide_deferral" else None)
    assert Announcement.parse(found.payload()) == found
    assert "53/5323" not in found.payload(), "payloads carry ids, never paths or names"


@pytest.mark.parametrize("action", ["ledger.record_visit", "ledger.set_category", "report.draft", "student.create"])
def test_other_changes_announce_nothing(action: str) -> None:
    assert announcement_for(action, "42", {}) is None


def test_a_disabled_account_is_announced_by_name() -> None:
    found = announcement_for("account.disable", "staff-school-1", {})
    assert found is not None
    assert (found.kind, found.username) == (Kind.ACCESS, "staff-school-1")


@pytest.mark.parametrize("payload", ["", "[]", "{}", '{"kind": "other", "type": "X"}', '{"kind": "ledger"}', "{"])
def test_a_stray_notification_is_ignored(payload: str) -> None:
    assert Announcement.parse(payload) is None


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [
        (5, None),
        (4, None),
        (3, ReportEventType.DEADLINE_IN_3_DAYS),
        (2, ReportEventType.DEADLINE_IN_3_DAYS),
        (1, ReportEventType.DEADLINE_IN_1_DAY),
        (0, ReportEventType.DEADLINE_IN_1_DAY),
        (-1, ReportEventType.DEADLINE_PASSED),
        (-40, ReportEventType.DEADLINE_PASSED),
    ],
)
def test_deadline_events_by_days_left(days_left: int, expected: ReportEventType | None) -> None:
    assert deadline_type(days_left) is expected


def test_close_reasons_fit_a_websocket_close_frame() -> None:
    for code in (ACCESS_CHANGED, SLOW_CONSUMER, LISTENER_LOST, TOKEN_EXPIRED):
        assert 4000 <= code.code <= 4999
        assert len(code.reason.encode()) <= 123, code


async def test_a_full_queue_closes_its_connection_once_and_spares_the_others() -> None:
    hub = Hub(queue_size=3)
    closed: list[tuple[str, int]] = []

    def closer(name: str):  # type: ignore[no-untyped-def]
        async def close(code: int, reason: str) -> None:
            closed.append((name, code))

        return close

    slow, fast = hub.connect("slow", closer("slow")), hub.connect("fast", closer("fast"))
    slow_sub = hub.subscribe(slow, Kind.LEDGER)
    fast_sub = hub.subscribe(fast, Kind.LEDGER)
    other_kind = hub.subscribe(fast, Kind.REPORT)
    for n in range(10):
        hub.publish(Announcement(Kind.LEDGER, LedgerEventType.OPENED, n))
        fast_sub.queue.get_nowait()  # this one keeps up
    await asyncio.sleep(0)
    assert closed == [("slow", SLOW_CONSUMER.code)]
    assert slow_sub.queue.empty(), "a closed connection's queue is dropped"
    assert slow not in hub.connections
    assert fast in hub.connections
    assert other_kind.queue.empty()


async def test_access_lost_closes_every_connection_of_the_account_only() -> None:
    hub = Hub(queue_size=3)
    closed: list[tuple[str, int]] = []

    def closer(name: str):  # type: ignore[no-untyped-def]
        async def close(code: int, reason: str) -> None:
            closed.append((name, code))

        return close

    hub.connect("a", closer("a1"))
    hub.connect("a", closer("a2"))
    hub.connect("b", closer("b"))
    hub.publish(Announcement(Kind.ACCESS, "", username="a"))
    await asyncio.sleep(0)
    assert sorted(closed) == [("a1", ACCESS_CHANGED.code), ("a2", ACCESS_CHANGED.code)]
    assert [c.username for c in hub.connections] == ["b"]
