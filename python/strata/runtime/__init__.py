"""Calling compiled code with numpy arrays."""
