"""Strata's benchmark suite: `python -m bench` (speed lives here, never in timed tests)."""
