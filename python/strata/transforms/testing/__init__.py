"""Passes for testing Strata's own tools (like upstream MLIR's -test-* passes)."""
