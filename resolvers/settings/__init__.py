"""Province and city settings kept through the API (issue 14 §6): each checked in `authz/`, audited."""
