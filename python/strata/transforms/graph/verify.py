"""graph-verify: check element types and shapes of every `graph` op (IRDL checks only base types).

Input: any module. Output: unchanged, or a located error naming the first bad op.
"""

from __future__ import annotations

from mlir import ir

from strata.dialects.verifiers import verify_module
from strata.passes import Pass


class GraphVerifyPass(Pass):
    """Check element types and shapes of graph ops and report located errors"""

    argument = "graph-verify"

    def run(self, module: ir.Operation) -> None:
        verify_module(module, prefix="graph.")
