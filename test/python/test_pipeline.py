"""Pipelines: parsing mixed Strata/upstream text, options, the registry, and full lowering."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import strata
from strata import passes
from strata.irutil import walk
from strata.models.mlp import build_mlp
from strata.passes import Pass, PipelineError
from strata.pipelines import LowerToLLVMPipeline, Pipeline

_MLP_TEXT = """
func.func @mlp(%x: tensor<2x4xf32>, %w: tensor<4x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  %1 = "graph.add"(%0, %b) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %2 = "graph.relu"(%1) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = "graph.relu"(%x) : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return %2 : tensor<2x3xf32>
}
"""


def test_parse_mixes_strata_and_upstream() -> None:
    p = Pipeline.parse("graph-verify,graph-fuse-ops,canonicalize")
    assert [type(e).__name__ if isinstance(e, Pass) else e for e in p.elements] == [
        "GraphVerifyPass",
        "GraphFuseOpsPass",
        "canonicalize",
    ]
    assert str(p) == "builtin.module(graph-verify,graph-fuse-ops,canonicalize)"


def test_run_mixed_pipeline_fuses() -> None:
    module = strata.parse_module(_MLP_TEXT)
    Pipeline.parse("builtin.module(graph-verify,graph-fuse-ops,canonicalize,func.func(cse))").run(
        module
    )
    text = str(module)
    assert "call @fused_matmul_add_relu" in text
    assert module.verify()


def test_graph_dce_removes_dead_op() -> None:
    module = strata.parse_module(_MLP_TEXT)
    assert str(module).count('"graph.relu"') == 2
    Pipeline.parse("graph-dce").run(module)
    assert str(module).count('"graph.relu"') == 1


@pytest.mark.parametrize(
    "text", ["builtin.module(func.func(graph-dce))", "builtin.module(func.func(cse,graph-verify))"]
)
def test_nested_strata_pass_rejected(text) -> None:
    with pytest.raises(PipelineError, match="runs on builtin.module; move it out of 'func.func"):
        Pipeline.parse(text)


def test_non_module_anchor_rejected() -> None:
    with pytest.raises(PipelineError, match="pipelines run on 'builtin.module'"):
        Pipeline.parse("func.func(cse)")


def test_unknown_pass() -> None:
    module = strata.parse_module(_MLP_TEXT)
    p = Pipeline.parse("graph-verify,no-such-pass")
    with pytest.raises(PipelineError, match="unknown pass 'no-such-pass'"):
        p.run(module)


@pytest.mark.parametrize(
    "text,match",
    [
        (
            "convert-tprog-to-hwprim{vector-width=abc}",
            "invalid value 'abc' for option 'vector-width'",
        ),
        (
            "strata-lower-to-llvm{use-libcall=maybe}",
            "invalid value 'maybe' for option 'use-libcall'",
        ),
        ("strata-lower-to-llvm{target=tpu}", "invalid value 'tpu' for option 'target'"),
        ("convert-tprog-to-hwprim{bogus=1}", "has no option 'bogus'; valid options: vector-width"),
        ("graph-verify,(", "unbalanced|malformed"),
        ("graph-verify}", "unbalanced"),
    ],
)
def test_bad_options(text, match) -> None:
    with pytest.raises(PipelineError, match=match):
        Pipeline.parse(text)


def test_pipeline_error_is_value_error() -> None:
    assert issubclass(PipelineError, ValueError)


def test_options_parsing() -> None:
    (hw,) = Pipeline.parse("convert-tprog-to-hwprim{vector-width=8}").elements
    assert hw.options.vector_width == 8
    assert repr(hw) == "convert-tprog-to-hwprim{vector-width=8}"

    elements = Pipeline.parse("strata-lower-to-llvm{use-libcall=true tensorize=false}").elements
    names = [e.argument if isinstance(e, Pass) else e for e in elements]
    order = ["graph-verify", "graph-fold-constants", "graph-cse", "graph-fold-batchnorm"]
    order += ["graph-dce", "graph-dispatch-libcall", "graph-fuse-ops", "convert-graph-to-tprog"]
    assert [n for n in names if n in order] == order
    assert "convert-tprog-to-hwprim" not in names  # tensorize=false
    default = [
        e.argument if isinstance(e, Pass) else e
        for e in Pipeline.parse("strata-lower-to-llvm").elements
    ]
    assert "graph-dispatch-libcall" not in default
    assert "convert-tprog-to-hwprim" in default


def test_parse_options_directly() -> None:
    opts = passes.parse_options(
        "strata-lower-to-llvm", LowerToLLVMPipeline.Options, "use-libcall fuse=0"
    )
    assert opts.use_libcall is True and opts.fuse is False and opts.tensorize is True
    assert passes.split_options("a=1 b=x,y c d={p=1 q=2}") == [
        ("a", "1"),
        ("b", "x,y"),
        ("c", ""),
        ("d", "{p=1 q=2}"),
    ]


@pytest.mark.parametrize("argument", sorted(passes.PASSES))
def test_every_pass_importable_and_documented(argument) -> None:
    module_name, _, class_name = passes.PASSES[argument].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    assert cls is passes.get_pass(argument)
    assert issubclass(cls, Pass)
    assert cls.argument == argument
    assert cls.__doc__ and cls.summary().strip()
    assert cls.summary() == cls.__doc__.strip().splitlines()[0]
    cls()  # default options construct


@pytest.mark.parametrize("argument", sorted(passes.PIPELINES))
def test_every_pipeline_documented(argument) -> None:
    cls = passes.get_pipeline(argument)
    assert cls.argument == argument and cls.summary().strip()


@pytest.mark.parametrize("use_libcall", [False, True])
def test_lowered_module_is_only_llvm(use_libcall) -> None:
    cm = strata.compile(build_mlp(2), use_libcall=use_libcall)
    names = {op.name for op in walk(cm.llvm_module.operation)}
    assert "builtin.module" in names
    assert {n.split(".")[0] for n in names - {"builtin.module"}} == {"llvm"}
    assert "llvm.func" in names


def test_lower_to_llvm_in_place() -> None:
    module = strata.parse_module(_MLP_TEXT)
    strata.lower_to_llvm(module)
    dialects = {op.name.split(".")[0] for op in walk(module) if op.name != "builtin.module"}
    assert dialects == {"llvm"}
    assert "_mlir_ciface_mlp" in str(module)


def test_compile_from_path(tmp_path) -> None:
    path = tmp_path / "mlp.mlir"
    path.write_text(_MLP_TEXT)
    cm = strata.compile(path)
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((2, 4), (4, 3), (3,)))
    np.testing.assert_allclose(cm(x, w, b), np.maximum(x @ w + b, 0), rtol=1e-5, atol=1e-5)


def test_compile_without_public_function() -> None:
    with pytest.raises(strata.CompileError, match="no public function"):
        strata.compile("func.func private @f() {\n  return\n}\n")
