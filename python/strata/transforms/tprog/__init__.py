"""Same-level transformations of tensor programs: schedules (MLC chapter 2)."""
