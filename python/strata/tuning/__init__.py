"""Auto-tuning of tensor programs: search schedule decisions, measure on the JIT, keep the best
trace per workload in a database that `strata.compile(..., tuning_db=...)` replays."""
