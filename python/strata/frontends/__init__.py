"""Frontends: source formats -> `graph` modules."""
