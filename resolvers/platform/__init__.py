"""Cases sent up to the ministry's national platform (录入平台, POLICY 004 §9)."""
