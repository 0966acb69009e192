"""Comparisons (三比对, POLICY 004 §2): runs over the applied rosters, and resolving their findings."""
