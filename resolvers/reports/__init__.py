"""The reporting chain (四个一, seed 004 §4–§7): drafting, submitting, re-checking and returning reports."""
