"""A graphql-transport-ws client for the live-event tests (the `websockets` package, a real socket)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

PROTOCOL = "graphql-transport-ws"


class Closed(Exception):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed {code}: {reason}")
        self.code = code
        self.reason = reason


class LiveClient:
    """One WebSocket to /graphql: connection_init with a payload, then subscriptions by id."""

    def __init__(self, base: str, init: dict[str, Any] | None, *, read_buffer: int | None = None) -> None:
        url = base.replace("http://", "ws://") + "/graphql"
        self.ws: ClientConnection = connect(
            url, subprotocols=[PROTOCOL], open_timeout=10, max_queue=read_buffer
        ).__enter__()  # closed by `close`
        self.ws.send(json.dumps({"type": "connection_init", "payload": init or {}}))
        self.ack = self._recv(10)

    @classmethod
    def signed_in(cls, base: str, token: str, **kwargs: Any) -> LiveClient:
        client = cls(base, {"Authorization": f"Bearer {token}"}, **kwargs)
        assert client.ack.get("type") == "connection_ack", client.ack
        return client

    def _recv(self, timeout: float) -> dict[str, Any]:
        try:
            raw = self.ws.recv(timeout=timeout)
        except ConnectionClosed as exc:
            rcvd = exc.rcvd
            raise Closed(rcvd.code if rcvd else None, rcvd.reason if rcvd else "") from exc
        return json.loads(raw)  # type: ignore[no-any-return]

    def subscribe(self, op_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        self.ws.send(
            json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})
        )

    def next(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next message other than a pong, within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no message in time")
            message = self._recv(left)
            if message.get("type") != "pong":
                return message

    def events(
        self, op_id: str, count: int, timeout: float = 10.0, skip: Callable[[dict[str, Any]], bool] | None = None
    ) -> list[dict[str, Any]]:
        """The next `count` payloads of `op_id`'s `next` messages (other operations' are skipped, and those
        `skip` says to)."""
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(found) < count:
            message = self.next(max(0.01, deadline - time.monotonic()))
            if message.get("id") == op_id:
                assert message["type"] == "next", message
                if skip is None or not skip(message["payload"]):
                    found.append(message["payload"])
        return found

    def closed(self, timeout: float = 5.0) -> Closed:
        """Read until the server closes the socket; the close it sent."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._recv(max(0.01, deadline - time.monotonic()))
            except Closed as closed:
                return closed

    def close(self) -> None:
        self.ws.close()
