"""Live events (issue 17 §6, README "Live events", ARCHITECTURE §11): subscriptions over graphql-transport-ws.

- `events.py` — what is announced: the event types, and the NOTIFY sent on `baoxue_live` from the one
  audit path (`resolvers/audit.py`), inside the writing transaction, so only committed changes travel;
- `hub.py` — one process's fan-out: every subscription's bounded queue, closing a connection that falls
  behind or whose account lost a grant;
- `context.py` — a WebSocket connection's context: each operation and each event gets its own session;
- `ledger.py`, `reports.py` — the two subscriptions: each event re-read and re-checked for its subscriber.
"""
