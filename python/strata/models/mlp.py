"""The MLC course's MLP: 784 -> 128 -> relu -> 10, with deterministic weights.

The weights are drawn from a fixed seed (numpy's PCG64 stream is stable across versions), so
every machine builds the same model without shipping a weight file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from mlir import ir

from strata.frontends.builder import GraphBuilder

SEED = 2026
SIZES = (784, 128, 10)


@dataclass(frozen=True)
class MLPWeights:
    w0: np.ndarray
    b0: np.ndarray
    w1: np.ndarray
    b1: np.ndarray

    @classmethod
    def default(cls) -> MLPWeights:
        rng = np.random.default_rng(SEED)
        d_in, d_hidden, d_out = SIZES
        return cls(
            (rng.standard_normal((d_in, d_hidden)) / np.sqrt(d_in)).astype(np.float32),
            (rng.standard_normal(d_hidden) * 0.1).astype(np.float32),
            (rng.standard_normal((d_hidden, d_out)) / np.sqrt(d_hidden)).astype(np.float32),
            (rng.standard_normal(d_out) * 0.1).astype(np.float32),
        )

    def reference(self, x: np.ndarray) -> np.ndarray:
        """numpy evaluation of the MLP."""
        return np.maximum(x @ self.w0 + self.b0, 0) @ self.w1 + self.b1


def build_mlp(
    batch: int = 1, weights: MLPWeights | None = None, *, context: ir.Context | None = None
) -> ir.Module:
    """A `graph` module with one public function `mlp(x: batch x 784) -> batch x 10`."""
    w = weights or MLPWeights.default()
    b = GraphBuilder("mlp", context=context)
    x = b.input((batch, SIZES[0]))
    hidden = b.relu(b.add(b.matmul(x, b.constant(w.w0, "w0")), b.constant(w.b0, "b0")))
    return b.finish(b.add(b.matmul(hidden, b.constant(w.w1, "w1")), b.constant(w.b1, "b1")))
