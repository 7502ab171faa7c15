"""graph.slice, graph.concat, graph.broadcast_to and graph.gather."""

from __future__ import annotations
