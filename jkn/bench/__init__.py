"""Benchmarks the project ships (run by ``jkn bench-link``; results are reported, never timed
in tests)."""
