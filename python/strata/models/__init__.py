"""Models bundled with Strata (for the demo, tests and benchmarks)."""
