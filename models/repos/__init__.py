"""Every query lives here (STYLE): list functions take the scope predicate they are given."""
