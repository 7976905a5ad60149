"""Benchmarks: province-scale data (generate.py) and the figures of issue 6 (run.py)."""
