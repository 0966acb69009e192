"""Live events (issue 17 §6, POLICY 004 §3 快速发现与响应): subscriptions over graphql-transport-ws, against two
real server processes on one database. A change made through process A reaches a subscriber on process B
through PostgreSQL NOTIFY, re-read and re-checked for that subscriber (README "Live events")."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import psutil
import psycopg
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin, Subprotocol

from authz.tokens import TokenConfig, issue_access_token
from tests.conftest import TEST_SECRET, Databases
from tests.ledger_support import WUDING_PRIMARY, WUDING_VILLAGE, YUANMOU_PRIMARY, YUANMOU_VILLAGE, raw_id
from tests.live_support import PROTOCOL, Closed, LiveClient
from tests.test_grant_sync import DEMO_PASSWORD, Server, _environment, _gql, _token

pytestmark = pytest.mark.whole_app

WUDING, YUANMOU = "532329", "532328"
COUNTY_EDU, NEIGHBOUR_EDU, CITY_EDU = f"edu-county-{WUDING}", f"edu-county-{YUANMOU}", "edu-city-5323"
ADMIN = f"admin-county-{WUDING}"
STAFF, PRINCIPAL = f"staff-school-{WUDING_PRIMARY}", f"edu-school-{WUDING_PRIMARY}"
OTHER_PRINCIPAL = f"edu-school-{YUANMOU_PRIMARY}"
QUEUE_SIZE = 2
TODAY_B = date(2026, 12, 3)  # the school's November report is due 5 December: 2 days left
TODAY_A = date(2026, 12, 7)  # past it
APP_ORIGIN = "https://app.example.org"  # the one browser origin allowed (BAOXUE_CORS_ORIGINS)

LEDGER_EVENTS = """subscription($region: String!) { ledgerEvents(regionCode: $region) {
  type occurredAt entry { id status responsibleRegionCode student { id nationalId } }
  handover { id toRegionCode } deferral { id status } } }"""
REPORT_EVENTS = """subscription { reportEvents { type occurredAt
  report { id unitCode period status } deadline { unitCode period dueOn daysLeft } } }"""
CREATE = """mutation($input: CreateStudentInput!) { createStudent(input: $input) {
  student { id nationalId } errors { field code message } } }"""
OPEN = """mutation($input: OpenLedgerEntryInput!) { openLedgerEntry(input: $input) {
  entry { id } errors { field code message } } }"""
CLOSE_OUT = """mutation($input: CloseOutLedgerEntryInput!) { closeOutLedgerEntry(input: $input) {
  entry { id status } errors { field code message } } }"""
DRAFT = """mutation($input: DraftSchoolReportInput!) { draftSchoolReport(input: $input) {
  report { id version status dropouts { studentId } suspected { studentId } } errors { field code message } } }"""
REVIEW = """mutation($input: ReviewReportInput!) { reviewReport(input: $input) {
  report { id version status } errors { field code message } } }"""
SUBMIT = """mutation($input: SubmitReportInput!) { submitReport(input: $input) {
  report { id version status } errors { field code message } } }"""
RETURN = """mutation($input: ReturnReportInput!) { returnReport(input: $input) {
  report { id version status } errors { field code message } } }"""
HAND_OVER = """mutation($input: HandOverLedgerEntryInput!) { handOverLedgerEntry(input: $input) {
  handover { id } errors { field code message } } }"""
CREATE_ACCOUNT = """mutation($input: CreateAccountInput!) { createAccount(input: $input) {
  account { username } errors { code } } }"""
GRANT = """mutation($input: GrantRoleInput!) { grantRole(input: $input) { grant { id } errors { code } } }"""
REVOKE = """mutation($input: RevokeGrantInput!) { revokeGrant(input: $input) { grant { status } errors { code } } }"""
DISABLE = """mutation($input: DisableAccountInput!) { disableAccount(input: $input) {
  account { active } errors { code } } }"""

_ids = iter(range(1000, 9999))


@dataclass
class Live:
    a: Server
    b: Server
    url: str
    http: httpx.Client
    writer: Server | None = None  # where changes are made (A unless set)

    def token(self, username: str, server: Server | None = None) -> str:
        return _token(self.http, server or self.a, username, DEMO_PASSWORD)

    def gql(self, token: str, query: str, variables: dict[str, Any], server: Server | None = None) -> dict[str, Any]:
        answer = _gql(self.http, server or self.writer or self.a, token, query, variables)
        assert "errors" not in answer, answer
        return answer["data"]  # type: ignore[no-any-return]


def _national_id(county: str, serial: int) -> str:
    body = f"{county}20170512{serial:03d}"[:17]
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


def _open_entry(live: Live, token: str, village: str, school: str) -> str:
    """A new child of the village and school, put on the suspected ledger through A; the entry's id."""
    for _ in range(50):
        number = _national_id(village[:6], next(_ids) % 1000)
        created = live.gql(
            token,
            CREATE,
            {
                "input": {
                    "name": "实时测试",
                    "gender": "MALE",
                    "birthDate": "2017-05-12",
                    "nationalId": number,
                    "householdRegionCode": village,
                    "residenceRegionCode": village,
                    "schoolCode": school,
                    "grade": 3,
                    "specialGroups": [],
                    "guardians": [{"name": "监护人", "relation": "父亲", "phone": "13800001234"}],
                }
            },
        )["createStudent"]
        if created["errors"]:
            assert [e["code"] for e in created["errors"]] == ["DUPLICATE_NATIONAL_ID"], created
            continue
        opened = live.gql(
            token,
            OPEN,
            {
                "input": {
                    "studentId": created["student"]["id"],
                    "ledger": "SUSPECTED",
                    "source": "MANUAL",
                    "openedOn": "2026-11-20",
                }
            },
        )["openLedgerEntry"]
        assert opened["errors"] == [], opened
        return str(opened["entry"]["id"])
    raise AssertionError("no free national ID")


@pytest.fixture(scope="module")
def live(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("live")
    url = databases.create_demo("live")
    env = _environment(url, tmp) | {"BAOXUE_LIVE_QUEUE_SIZE": str(QUEUE_SIZE), "BAOXUE_CORS_ORIGINS": APP_ORIGIN}
    a = Server("A", env | {"BAOXUE_LIVE_TODAY": TODAY_A.isoformat()}, tmp)
    b = Server("B", env | {"BAOXUE_LIVE_TODAY": TODAY_B.isoformat()}, tmp)
    try:
        deadline = time.monotonic() + 300  # two servers after a demo seed, on a loaded CI machine
        a.wait_ready(deadline)
        b.wait_ready(deadline)
        with httpx.Client(timeout=10) as http:
            yield Live(a, b, url, http)
    finally:
        a.stop()
        b.stop()
    assert a.process.returncode == 0, a.log_tail()
    assert b.process.returncode == 0, b.log_tail()


def _deadline(payload: dict[str, Any]) -> bool:
    return str(payload["data"]["reportEvents"]["type"]).startswith("DEADLINE_")


def _entry_ids(payloads: list[dict[str, Any]]) -> list[str]:
    return [p["data"]["ledgerEvents"]["entry"]["id"] for p in payloads]


def test_a_change_through_a_reaches_in_scope_subscribers_on_b_and_no_sibling(live: Live) -> None:
    county = LiveClient.signed_in(live.b.base, live.token(COUNTY_EDU, live.b))
    neighbour = LiveClient.signed_in(live.b.base, live.token(NEIGHBOUR_EDU, live.b))
    city = LiveClient.signed_in(live.b.base, live.token(CITY_EDU, live.b))
    try:
        county.subscribe("w", LEDGER_EVENTS, {"region": WUDING})
        neighbour.subscribe("y", LEDGER_EVENTS, {"region": YUANMOU})
        city.subscribe("c", LEDGER_EVENTS, {"region": WUDING})
        time.sleep(0.5)  # the subscriptions register before the change commits (a later one starts later)
        wuding_token, yuanmou_token = live.token(COUNTY_EDU), live.token(NEIGHBOUR_EDU)
        first = _open_entry(live, wuding_token, WUDING_VILLAGE, WUDING_PRIMARY)
        (event,) = county.events("w", 1)
        got = event["data"]["ledgerEvents"]
        assert got["type"] == "OPENED"
        assert got["entry"]["id"] == first
        assert got["entry"]["status"] == "OPEN"
        assert "*" not in got["entry"]["student"]["nationalId"], "the county bureau holds CHILD:READ_PII"
        # The city bureau reads the ledgers but not personal data: the ID comes masked, as in queries.
        (seen_by_city,) = city.events("c", 1)
        masked = seen_by_city["data"]["ledgerEvents"]["entry"]["student"]["nationalId"]
        full = got["entry"]["student"]["nationalId"]
        assert masked != full
        assert masked[:6] == full[:6]
        assert masked[-4:] == full[-4:]
        assert set(masked[6:-4]) == {"*"}

        # Three subscriptions wait on B, and none holds a database connection in a transaction meanwhile.
        with psycopg.connect(live.url.replace("+psycopg", ""), autocommit=True) as conn:
            idle = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND state LIKE 'idle in transaction%'"
            ).fetchone()
        assert idle == (0,)

        # A sibling county's event never arrives: the neighbour's next event is its own, made after ours.
        marker = _open_entry(live, yuanmou_token, YUANMOU_VILLAGE, YUANMOU_PRIMARY)
        assert _entry_ids(neighbour.events("y", 1)) == [marker]
        second = _open_entry(live, wuding_token, WUDING_VILLAGE, WUDING_PRIMARY)
        assert _entry_ids(county.events("w", 1)) == [second], "Wuding's subscriber got Yuanmou's event"
        assert _entry_ids(city.events("c", 1)) == [second]

        closed = live.gql(
            wuding_token,
            CLOSE_OUT,
            {"input": {"entryId": first, "reason": "OTHER", "note": "实时测试：查明误报", "version": 1}},
        )["closeOutLedgerEntry"]
        assert closed["errors"] == [], closed
        (closing,) = county.events("w", 1)
        assert closing["data"]["ledgerEvents"]["type"] == "CLOSED_OUT"
        assert closing["data"]["ledgerEvents"]["entry"] == {**got["entry"], "status": "CLOSED"}
    finally:
        for client in (county, neighbour, city):
            client.close()


def test_changes_committed_at_once_through_both_processes_all_arrive(live: Live) -> None:
    """Two writers at once, one through each process: the subscriber on B gets both, once each."""
    client = LiveClient.signed_in(live.b.base, live.token(COUNTY_EDU, live.b))
    try:
        client.subscribe("s", LEDGER_EVENTS, {"region": WUDING})
        time.sleep(0.5)
        tokens = {live.a.name: live.token(COUNTY_EDU), live.b.name: live.token(COUNTY_EDU, live.b)}

        def open_through(server: Server) -> str:
            with httpx.Client(timeout=10) as http:
                return _open_entry(
                    Live(live.a, live.b, live.url, http, server), tokens[server.name], WUDING_VILLAGE, WUDING_PRIMARY
                )

        with ThreadPoolExecutor(2) as pool:
            opened = set(pool.map(open_through, [live.a, live.b]))
        assert len(opened) == 2
        assert sorted(_entry_ids(client.events("s", 2))) == sorted(opened)
        with pytest.raises(TimeoutError):
            client.next(timeout=1.0)  # and nothing twice
    finally:
        client.close()


def test_a_handover_reaches_the_receiving_county_not_the_sending_side(live: Live) -> None:
    """POLICY 001 §2.2: the flow-in region receives the written handover; it learns of it at once."""
    sender = LiveClient.signed_in(live.b.base, live.token(COUNTY_EDU, live.b))
    receiver = LiveClient.signed_in(live.b.base, live.token(NEIGHBOUR_EDU, live.b))
    try:
        token = live.token(COUNTY_EDU)
        entry = _open_entry(live, token, WUDING_VILLAGE, WUDING_PRIMARY)
        sender.subscribe("s", LEDGER_EVENTS, {"region": WUDING})
        receiver.subscribe("r", LEDGER_EVENTS, {"region": YUANMOU})
        time.sleep(0.5)
        handed = live.gql(
            token,
            HAND_OVER,
            {"input": {"entryId": entry, "toRegionCode": YUANMOU, "notice": "随迁至元谋县，请接收", "version": 1}},
        )["handOverLedgerEntry"]
        assert handed["errors"] == [], handed
        (received,) = receiver.events("r", 1)
        event = received["data"]["ledgerEvents"]
        assert event["type"] == "HANDOVER_RECEIVED"
        assert event["handover"] == {"id": handed["handover"]["id"], "toRegionCode": YUANMOU}
        assert event["entry"]["id"] == entry
        assert event["entry"]["status"] == "TRANSFERRED"
        # The sending county's subscription skips it: its next event is the marker opened after it.
        marker = _open_entry(live, token, WUDING_VILLAGE, WUDING_PRIMARY)
        assert _entry_ids(sender.events("s", 1)) == [marker]
    finally:
        sender.close()
        receiver.close()


def test_queries_and_mutations_over_the_websocket_are_refused(live: Live) -> None:
    client = LiveClient.signed_in(live.b.base, live.token(COUNTY_EDU, live.b))
    try:
        client.subscribe("q", "{ viewer { username } }")
        refused = client.next()
        assert refused["type"] == "error", refused
        assert [e["extensions"]["code"] for e in refused["payload"]] == ["SUBSCRIPTIONS_ONLY"]
        client.subscribe("s", LEDGER_EVENTS, {"region": WUDING})  # the connection is still usable
        time.sleep(0.5)
        marker = _open_entry(live, live.token(COUNTY_EDU), WUDING_VILLAGE, WUDING_PRIMARY)
        assert _entry_ids(client.events("s", 1)) == [marker]
    finally:
        client.close()


def test_subscribing_without_the_right_or_outside_scope_is_refused(live: Live) -> None:
    ministry = LiveClient.signed_in(live.b.base, live.token("edu-nation-CN", live.b))
    neighbour = LiveClient.signed_in(live.b.base, live.token(NEIGHBOUR_EDU, live.b))
    try:
        ministry.subscribe("m", LEDGER_EVENTS, {"region": "53"})
        refused = ministry.next()
        assert refused["type"] == "next", refused
        assert refused["payload"]["data"] is None
        assert [e["extensions"]["code"] for e in refused["payload"]["errors"]] == ["FORBIDDEN"]
        assert ministry.next() == {"id": "m", "type": "complete"}
        neighbour.subscribe("n", LEDGER_EVENTS, {"region": WUDING})
        unknown = neighbour.next()
        assert unknown["payload"]["data"] is None
        assert [e["extensions"] for e in unknown["payload"]["errors"]] == [
            {"code": "BAD_USER_INPUT", "field": "regionCode", "reason": "UNKNOWN_REGION"}
        ]
        assert neighbour.next() == {"id": "n", "type": "complete"}
    finally:
        ministry.close()
        neighbour.close()


@pytest.mark.parametrize(
    "init",
    [None, {"Authorization": "Bearer not-a-token"}, {"token": "not-a-token"}, {"Authorization": 42}],
)
def test_a_connection_without_a_valid_credential_is_closed_4403(live: Live, init: dict[str, Any] | None) -> None:
    client = LiveClient.__new__(LiveClient)
    with pytest.raises(Closed) as refused:
        LiveClient.__init__(client, live.b.base, init)
    assert refused.value.code == 4403


def test_a_connection_closes_4411_when_its_token_expires(live: Live) -> None:
    config = TokenConfig(hs256_secret=TEST_SECRET, issuer="baoxue", audience="baoxue", ttl=timedelta(seconds=2))
    token = issue_access_token(config, username=COUNTY_EDU, account_id=0, now=datetime.now(UTC))
    client = LiveClient.signed_in(live.b.base, token)
    try:
        client.subscribe("s", LEDGER_EVENTS, {"region": WUDING})
        closed = client.closed(timeout=6)
        assert closed.code == 4411, closed
        assert "TOKEN_EXPIRED" in closed.reason
    finally:
        client.close()
    with pytest.raises(Closed) as refused:
        LiveClient(live.b.base, {"token": token})
    assert refused.value.code == 4403


@pytest.mark.parametrize(
    "message", ["not json", "[1, 2]", '{"type": "ping", "payload": ' + "[" * 100 + "]" * 100 + "}"]
)
def test_a_message_that_is_not_a_json_object_closes_4400(live: Live, message: str) -> None:
    client = LiveClient.signed_in(live.b.base, live.token(COUNTY_EDU, live.b))
    try:
        client.ws.send(message)
        assert client.closed(timeout=5).code == 4400
    finally:
        client.close()


def test_a_browser_page_of_another_origin_cannot_open_the_socket(live: Live) -> None:
    url = live.b.base.replace("http://", "ws://") + "/graphql"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, subprotocols=[Subprotocol(PROTOCOL)], origin=Origin("https://evil.example.net"), open_timeout=10)
    assert refused.value.response.status_code == 403
    with connect(url, subprotocols=[Subprotocol(PROTOCOL)], origin=Origin(APP_ORIGIN), open_timeout=10) as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": {"token": live.token(COUNTY_EDU)}}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "connection_ack"}


def test_the_older_graphql_ws_protocol_is_refused_4406(live: Live) -> None:
    url = live.b.base.replace("http://", "ws://") + "/graphql"
    with (
        connect(url, subprotocols=[Subprotocol("graphql-ws")], open_timeout=10) as ws,
        pytest.raises(ConnectionClosed) as closed,
    ):
        ws.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4406


def test_a_token_in_the_token_field_signs_in(live: Live) -> None:
    client = LiveClient(live.b.base, {"token": live.token(COUNTY_EDU)})
    assert client.ack["type"] == "connection_ack"
    client.close()


def _probe(live: Live, name: str) -> tuple[str, str]:
    """A fresh account of Wuding with COUNTY_EDU, created and granted through A: (token, grant id)."""
    admin = live.token(ADMIN)
    created = live.gql(
        admin,
        CREATE_ACCOUNT,
        {
            "input": {
                "username": name,
                "displayName": "实时探针",
                "jurisdictionCode": WUDING,
                "password": "live-probe-pw-1",
            }
        },
    )["createAccount"]
    assert created["errors"] == [], created
    granted = live.gql(
        admin,
        GRANT,
        {"input": {"username": name, "role": "COUNTY_EDU", "jurisdictionCode": WUDING, "reason": "live"}},
    )["grantRole"]
    assert granted["errors"] == [], granted
    return _token(live.http, live.b, name, "live-probe-pw-1"), granted["grant"]["id"]


@pytest.mark.parametrize("how", ["revoke", "disable"])
def test_a_revoked_grant_or_disabled_account_closes_its_subscriptions_within_a_second(live: Live, how: str) -> None:
    token, grant_id = _probe(live, f"live-probe-{how}")
    client = LiveClient.signed_in(live.b.base, token)
    try:
        client.subscribe("p", LEDGER_EVENTS, {"region": WUDING})
        client.subscribe("r", REPORT_EVENTS)
        time.sleep(0.5)
        admin = live.token(ADMIN)
        if how == "revoke":
            done = live.gql(admin, REVOKE, {"input": {"grantId": grant_id, "reason": "live"}})["revokeGrant"]
        else:
            done = live.gql(admin, DISABLE, {"input": {"username": f"live-probe-{how}", "reason": "live"}})[
                "disableAccount"
            ]
        changed_at = time.monotonic()
        assert done["errors"] == [], done
        closed = client.closed(timeout=3)
        delay = time.monotonic() - changed_at
        assert closed.code == 4410, closed
        assert "ACCESS_CHANGED" in closed.reason
        assert delay <= 1.0, f"closed after {delay:.3f}s"
    finally:
        client.close()
    # Signing in again is refused for the disabled account; the revoked one connects with no rights.
    if how == "disable":
        with pytest.raises(Closed) as refused:
            LiveClient(live.b.base, {"Authorization": f"Bearer {token}"})
        assert refused.value.code == 4403


def test_report_events_deadlines_submission_recheck_and_return(live: Live) -> None:
    principal = LiveClient.signed_in(live.b.base, live.token(PRINCIPAL, live.b))
    county = LiveClient.signed_in(live.b.base, live.token(COUNTY_EDU, live.b))
    other = LiveClient.signed_in(live.a.base, live.token(OTHER_PRINCIPAL))
    try:
        principal.subscribe("p", REPORT_EVENTS)
        county.subscribe("c", REPORT_EVENTS)
        other.subscribe("o", REPORT_EVENTS)
        # On B it is 3 December: the November report (due 5 December) is 2 days away, sent once.
        (due,) = principal.events("p", 1)
        assert due["data"]["reportEvents"]["type"] == "DEADLINE_IN_3_DAYS"
        assert due["data"]["reportEvents"]["deadline"] == {
            "unitCode": WUDING_PRIMARY,
            "period": "2026-11",
            "dueOn": "2026-12-05",
            "daysLeft": 2,
        }
        # On A it is 7 December: the other school has passed its November deadline.
        (passed,) = other.events("o", 1)
        assert passed["data"]["reportEvents"]["type"] == "DEADLINE_PASSED"
        assert passed["data"]["reportEvents"]["deadline"]["unitCode"] == YUANMOU_PRIMARY
        assert passed["data"]["reportEvents"]["deadline"]["daysLeft"] == -2

        drafted = live.gql(live.token(STAFF), DRAFT, {"input": {"schoolCode": WUDING_PRIMARY, "period": "2026-11"}})
        report = drafted["draftSchoolReport"]
        assert report["errors"] == [], report
        submitted = live.gql(
            live.token(PRINCIPAL),
            SUBMIT,
            {"input": {"reportId": report["report"]["id"], "version": report["report"]["version"]}},
        )["submitReport"]
        assert submitted["errors"] == [], submitted
        (own,) = principal.events("p", 1)
        assert own["data"]["reportEvents"]["type"] == "SUBMITTED"
        assert own["data"]["reportEvents"]["report"]["id"] == report["report"]["id"]
        (awaiting,) = county.events("c", 1, skip=_deadline)  # the county's own deadlines come too
        assert awaiting["data"]["reportEvents"]["type"] == "AWAITING_RECHECK"
        assert awaiting["data"]["reportEvents"]["report"]["status"] == "SUBMITTED"

        returned = live.gql(
            live.token(COUNTY_EDU),
            RETURN,
            {
                "input": {
                    "reportId": report["report"]["id"],
                    "reason": "请核对",
                    "version": submitted["report"]["version"],
                }
            },
        )["returnReport"]
        assert returned["errors"] == [], returned
        (back,) = principal.events("p", 1)
        assert back["data"]["reportEvents"]["type"] == "RETURNED"
        assert back["data"]["reportEvents"]["report"]["status"] == "RETURNED"

        # Corrected, submitted again and approved: the school hears both, the county is asked again.
        redrafted = live.gql(
            live.token(STAFF),
            DRAFT,
            {"input": {"schoolCode": WUDING_PRIMARY, "period": "2026-11", "version": returned["report"]["version"]}},
        )["draftSchoolReport"]
        assert redrafted["errors"] == [], redrafted
        again = live.gql(
            live.token(PRINCIPAL),
            SUBMIT,
            {"input": {"reportId": report["report"]["id"], "version": redrafted["report"]["version"]}},
        )["submitReport"]
        assert again["errors"] == [], again
        assert principal.events("p", 1)[0]["data"]["reportEvents"]["type"] == "SUBMITTED"
        assert county.events("c", 1, skip=_deadline)[0]["data"]["reportEvents"]["type"] == "AWAITING_RECHECK"
        listed = {r["studentId"] for r in [*redrafted["report"]["dropouts"], *redrafted["report"]["suspected"]]}
        approved = live.gql(
            live.token(COUNTY_EDU),
            REVIEW,
            {
                "input": {
                    "reportId": report["report"]["id"],
                    "decision": "APPROVE",
                    "verdicts": [{"studentId": s, "verdict": "CONFIRMED"} for s in sorted(listed)],
                    "version": again["report"]["version"],
                }
            },
        )["reviewReport"]
        assert approved["errors"] == [], approved
        (done,) = principal.events("p", 1)
        assert done["data"]["reportEvents"]["type"] == "APPROVED"
        assert done["data"]["reportEvents"]["report"]["status"] == "APPROVED"
        # Another county's school saw none of it: its next event is its own deadline-free silence; a
        # marker from its own unit is not available without drafting, so its queue is checked empty.
        with pytest.raises(TimeoutError):
            other.next(timeout=1.0)
    finally:
        for client in (principal, county, other):
            client.close()


def test_a_slow_subscriber_is_closed_4413_and_memory_stays_bounded(live: Live) -> None:
    entry = _open_entry(live, live.token(COUNTY_EDU), WUDING_VILLAGE, WUDING_PRIMARY)
    server = psutil.Process(live.b.process.pid)
    slow = LiveClient.signed_in(live.b.base, live.token(COUNTY_EDU, live.b))
    slow.subscribe("s", LEDGER_EVENTS, {"region": WUDING})
    time.sleep(0.5)
    before = server.memory_info().rss
    # Far more events at once than the queue holds, while the client reads nothing (distinct payloads:
    # PostgreSQL delivers identical notifications of one transaction once).
    with psycopg.connect(live.url.replace("+psycopg", ""), autocommit=False) as conn:
        for burst in range(20):
            for n in range(200):
                at = f"2026-12-03T08:{burst:02d}:{n // 60:02d}.{n % 60:06d}+00:00"
                announcement = json.dumps({"kind": "ledger", "type": "OPENED", "id": raw_id(entry), "at": at})
                conn.execute("SELECT pg_notify('baoxue_live', %s)", [announcement])
            conn.commit()
    closed = slow.closed(timeout=10)
    assert closed.code == 4413, closed
    assert "SLOW_CONSUMER" in closed.reason
    grown = server.memory_info().rss - before
    assert grown < 30 * 2**20, f"the server grew {grown / 2**20:.1f} MiB"
    # The server goes on serving others.
    fresh = LiveClient.signed_in(live.b.base, live.token(COUNTY_EDU, live.b))
    fresh.subscribe("f", LEDGER_EVENTS, {"region": WUDING})
    time.sleep(0.5)
    marker = _open_entry(live, live.token(COUNTY_EDU), WUDING_VILLAGE, WUDING_PRIMARY)
    assert _entry_ids(fresh.events("f", 1)) == [marker]
    fresh.close()
    assert os.environ.get("BAOXUE_LIVE_QUEUE_SIZE") is None  # the servers' setting, not the tests'
