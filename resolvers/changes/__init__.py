"""The incremental change feed (issue 15 §2): what changed, in commit order, after a cursor."""
