"""Benchmarks of CE Flow: run them as `python bench/engine.py` (see README.md, Benchmarks)."""
