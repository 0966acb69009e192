"""Benchmarks (not part of the application): run each as `uv run python -m bench.<name>`."""
