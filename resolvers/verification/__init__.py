"""Pushed-down lists and their verification tasks (下发核实, POLICY 004 §9)."""
