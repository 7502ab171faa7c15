"""Passes on upstream `gpu` IR that the CUDA target needs."""
