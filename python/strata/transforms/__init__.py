"""Same-level rewrites, one folder per dialect, one module per pass."""
