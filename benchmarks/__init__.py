"""Benchmarks: each module prints a table; `python -m benchmarks.run_all` runs them all."""
