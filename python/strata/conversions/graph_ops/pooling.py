"""graph.max_pool2d, graph.avg_pool2d and graph.adaptive_avg_pool2d."""

from __future__ import annotations
