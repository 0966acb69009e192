"""Bulk exports (issue 15 §1): who may export what, the rows' scope and masking, and the audit."""
