"""The phases of `make bench` (scripts/bench.py runs them)."""
