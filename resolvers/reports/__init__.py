"""The reporting chain (四个一, POLICY 004 §4–§7): drafting, submitting, re-checking and returning reports."""
