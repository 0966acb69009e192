"""Who the caller is and what they may do: authentication, the principal, the Casbin model and
policies, scope compilation into SQL predicates, delegation and re-check rules (ARCHITECTURE §4)."""
