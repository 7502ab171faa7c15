"""graph.batch_norm (inference)."""

from __future__ import annotations
