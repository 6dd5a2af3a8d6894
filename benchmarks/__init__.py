"""Benchmarks: scripts that measure and print, not timed tests."""
