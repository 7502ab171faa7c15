"""graph.reduce_sum, graph.reduce_mean and graph.reduce_max."""

from __future__ import annotations
