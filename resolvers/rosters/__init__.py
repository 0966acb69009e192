"""rosters: roster imports of the four checks (四查), the file side: reading and checking rows."""
