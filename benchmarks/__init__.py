"""Benchmark scripts: they print figures and assert nothing (speed goals live here)."""
