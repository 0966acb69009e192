"""The three ledgers (三本台账) and getting children back: use cases, each checked in `authz/`."""
