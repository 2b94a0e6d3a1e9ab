"""Benchmarks: speed and memory, measured on the real stack, never asserted by tests."""
