"""Use cases: plain async functions taking a Context; no strawberry.Info, no HTTP."""
