"""Who the caller is and what they may do: authentication, the principal, and (soon) Casbin scopes."""
