"""Strawberry types, inputs, enums and the root schema. Thin: each field calls one resolver."""
