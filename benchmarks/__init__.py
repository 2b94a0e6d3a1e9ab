"""Benchmarks: speed and memory, measured on the real stack, never asserted by tests."""

import os

os.environ["ADVOCACY_ENV"] = "local"  # scratch roles log in with development passwords (services/runtime/settings.py)
