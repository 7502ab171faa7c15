"""Error locations: a node name stands in for the missing source line of ONNX-imported ops."""

from __future__ import annotations

import strata
from mlir import ir
from strata.diagnostics import CompileError


def test_unlined_named_location_names_the_node():
    with strata.make_context():
        node = ir.Location.name("/attn/MatMul", childLoc=ir.Location.file("m.onnx", 0, 0))
        assert str(CompileError("bad shape", node)) == (
            "m.onnx:0:0: error: bad shape (node '/attn/MatMul')"
        )
        # a message that already names the node is left alone
        named = "MatMul node '/attn/MatMul': bad"
        assert str(CompileError(named, node)) == f"m.onnx:0:0: error: {named}"
        # a source line is enough (PyTorch imports): no name appended
        line = ir.Location.name("relu", childLoc=ir.Location.file("m.py", 3, 1))
        assert str(CompileError("x", line)) == "m.py:3:1: error: x"
        # inside a fused location (a fused group's call)
        fused = ir.Location.fused([node, ir.Location.file("m.onnx", 0, 0)])
        assert str(CompileError("y", fused)).endswith("(node '/attn/MatMul')")
