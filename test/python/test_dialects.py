"""The IRDL dialects from Python: loading, op classes, builders, resources and verifiers."""

from __future__ import annotations

import numpy as np
import pytest
import strata
from mlir import ir
from strata.dialects import DIALECTS, graph, irdl_files, load_dialects, make_context
from strata.dialects.verifiers import verify_module


def test_irdl_files_exist() -> None:
    assert [p.name for p in irdl_files()] == [f"{d}.irdl.mlir" for d in DIALECTS]
    assert all(p.is_file() for p in irdl_files())


def test_make_context_registers_every_dialect() -> None:
    ctx = make_context()
    for name in ("graph.matmul", "graph.add", "graph.relu", "graph.constant"):
        assert ctx.is_registered_operation(name)
    assert ctx.is_registered_operation("func.func")


def test_load_dialects_twice_is_a_noop() -> None:
    ctx = make_context()
    load_dialects(ctx)
    load_dialects(ctx)
    assert ctx.is_registered_operation("graph.relu")


def test_fresh_context_has_no_strata_dialects_until_loaded() -> None:
    ctx = ir.Context()
    assert not ctx.is_registered_operation("graph.matmul")
    load_dialects(ctx)
    load_dialects(ctx)
    assert ctx.is_registered_operation("graph.matmul")


def test_separate_contexts_are_independent() -> None:
    a, b = make_context(), make_context()
    m1 = strata.parse_module(_RELU, context=a)
    m2 = strata.parse_module(_RELU, context=b)
    assert m1.context == a and m2.context == b


_RELU = """
func.func @f(%x: tensor<2x3xf32>, %w: tensor<3x4xf32>, %b: tensor<4xf32>) -> tensor<2x4xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  %1 = "graph.add"(%0, %b) : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %2 = "graph.relu"(%1) : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return %2 : tensor<2x4xf32>
}
"""


def _ops(module: ir.Operation) -> list[ir.OpView]:
    fn = module.regions[0].blocks[0].operations[0]
    return list(fn.regions[0].blocks[0].operations)


def test_opview_gives_named_classes() -> None:
    module = strata.parse_module(_RELU)
    ops = _ops(module)
    assert [type(op.operation.opview) for op in ops[:3]] == [
        graph.MatmulOp,
        graph.AddOp,
        graph.ReluOp,
    ]
    matmul, add, relu = (op.operation.opview for op in ops[:3])
    assert matmul.output == add.lhs
    assert add.output == relu.input
    assert str(matmul.rhs.type) == "tensor<3x4xf32>"
    assert str(add.rhs.type) == "tensor<4xf32>"


def test_build_ops_directly() -> None:
    ctx = make_context()
    with ctx, ir.Location.unknown():
        module = ir.Module.create()
        f32 = ir.F32Type.get()
        with ir.InsertionPoint(module.body):
            from mlir.dialects import func

            fn = func.FuncOp(
                "g",
                ([ir.RankedTensorType.get([2, 1, 3], f32), ir.RankedTensorType.get([3], f32)], []),
            )
            block = fn.add_entry_block()
        with ir.InsertionPoint(block):
            x, y = block.arguments
            s = graph.AddOp(x, y)
            m = graph.MatmulOp(s.output, y)
            r = graph.ReluOp(m.output)
            func.ReturnOp([])
    assert s.OPERATION_NAME == "graph.add" and s.operation.name == "graph.add"
    assert str(s.output.type) == "tensor<2x1x3xf32>"
    assert str(m.output.type) == "tensor<2x1xf32>"
    assert r.output.type == m.output.type
    assert module.operation.verify()
    verify_module(module.operation)


def test_build_op_shape_error_raises_shape_error() -> None:
    from strata.dialects.shapes import ShapeError

    ctx = make_context()
    with ctx, ir.Location.unknown():
        module = ir.Module.create()
        f32 = ir.F32Type.get()
        from mlir.dialects import func

        with ir.InsertionPoint(module.body):
            fn = func.FuncOp("g", ([ir.RankedTensorType.get([2, 3], f32)] * 2, []))
            block = fn.add_entry_block()
        with ir.InsertionPoint(block), pytest.raises(ShapeError):
            graph.MatmulOp(*block.arguments)


def _constant_module(values: np.ndarray) -> ir.Module:
    b = strata.GraphBuilder("c")
    x = b.input(values.shape)
    return b.finish(b.add(x, b.constant(values, "weights0")))


def test_constant_is_a_dense_resource() -> None:
    values = np.arange(64, dtype=np.float32).reshape(8, 8) * 1.5 + 1234.25
    module = _constant_module(values)
    const = _ops(module.operation)[0]
    assert isinstance(const.operation.opview, graph.ConstantOp)
    assert str(const.operation.opview.value).startswith("dense_resource<weights0>")
    assert "dense_resource<weights0> : tensor<8x8xf32>" in str(const)
    op_text = str(const)
    assert "1234" not in op_text and "dense<" not in op_text

    elided = module.operation.get_asm(large_resource_limit=16)
    full = module.operation.get_asm()
    assert "dense_resource<weights0>" in elided
    assert "weights0:" not in elided
    assert "dialect_resources" in full and "weights0:" in full
    blob = values.tobytes().hex().upper()
    assert blob[:32] in full and blob[:32] not in elided


def test_constant_values_survive_compile() -> None:
    values = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    cm = strata.compile(_constant_module(values))
    x = np.ones((3, 4), np.float32)
    np.testing.assert_allclose(cm(x), x + values, rtol=1e-6)


def test_constant_from_non_contiguous_array() -> None:
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    values = base[:, ::2]
    cm = strata.compile(_constant_module(values))
    np.testing.assert_array_equal(cm(np.zeros((4, 3), np.float32)), values)


_BAD = {
    "relu_result": (
        '%r = "graph.relu"(%x) : (tensor<2x3xf32>) -> tensor<3x2xf32>',
        "result type should be tensor<2x3xf32>, found tensor<3x2xf32>",
    ),
    "matmul_shape": (
        '%r = "graph.matmul"(%x, %x) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>',
        "contracting dimensions differ",
    ),
    "add_result": (
        '%r = "graph.add"(%x, %x) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf16>',
        "result type should be tensor<2x3xf32>",
    ),
    "int_elements": (
        '%r = "graph.relu"(%i) : (tensor<4xi32>) -> tensor<4xi32>',
        "input must have element type f32, f16 or bf16, found i32",
    ),
    "dynamic": (
        '%r = "graph.relu"(%d) : (tensor<?xf32>) -> tensor<?xf32>',
        "input must have a static shape",
    ),
    "constant_type": (
        '%r = "graph.constant"() {value = dense<1.0> : tensor<2xf32>} : () -> tensor<3xf32>',
        "'value' has type tensor<2xf32> but the result is tensor<3xf32>",
    ),
    "constant_value": (
        '%r = "graph.constant"() {value = 1.0 : f32} : () -> tensor<3xf32>',
        "'value' must be a dense or dense_resource elements attribute",
    ),
}


def _bad_module(case: str) -> tuple[ir.Operation, str]:
    line, message = _BAD[case]
    text = (
        "func.func @f(%x: tensor<2x3xf32>, %i: tensor<4xi32>, %d: tensor<?xf32>) {\n"
        f"  {line}\n"
        "  return\n"
        "}\n"
    )
    return strata.parse_module(text, source_name="bad.mlir"), message


def _check_located(info: pytest.ExceptionInfo, message: str) -> None:
    (diag,) = info.value.diagnostics
    assert diag.severity == "error"
    assert message in diag.message
    assert (diag.file, diag.line, diag.col) == ("bad.mlir", 2, 8)
    assert str(info.value).startswith("bad.mlir:2:8: error: ")


@pytest.mark.parametrize("case", sorted(_BAD))
def test_graph_verify_rejects_bad_op_with_location(case) -> None:
    module, message = _bad_module(case)
    with pytest.raises(strata.CompileError) as info:
        strata.Pipeline.parse("graph-verify").run(module)
    _check_located(info, message)


@pytest.mark.parametrize(
    "case",
    sorted(_BAD),
)
def test_verify_module_rejects_bad_op_with_location(case) -> None:
    module, message = _bad_module(case)
    with pytest.raises(strata.CompileError) as info:
        verify_module(module)
    _check_located(info, message)


def test_irdl_rejects_non_tensor_operand() -> None:
    text = 'func.func @f(%x: f32) {\n  %r = "graph.relu"(%x) : (f32) -> f32\n  return\n}\n'
    with pytest.raises(strata.CompileError) as info:
        strata.parse_module(text, source_name="scalar.mlir")
    diag = info.value.diagnostics[0]
    assert (diag.file, diag.line) == ("scalar.mlir", 2)
    assert "builtin.tensor" in diag.message


def test_parse_error_is_located() -> None:
    with pytest.raises(strata.CompileError) as info:
        strata.parse_module("func.func @f(%x: tensor<2xf32> {\n", source_name="broken.mlir")
    diag = info.value.diagnostics[0]
    assert (diag.file, diag.line) == ("broken.mlir", 1)
    assert diag.severity == "error"


def test_compile_text_with_bad_shapes_is_located() -> None:
    text = (
        "func.func @f(%x: tensor<2x4xf32>, %w: tensor<5x3xf32>) -> tensor<2x3xf32> {\n"
        '  %0 = "graph.matmul"(%x, %w) : (tensor<2x4xf32>, tensor<5x3xf32>) -> tensor<2x3xf32>\n'
        "  return %0 : tensor<2x3xf32>\n"
        "}\n"
    )
    with pytest.raises(strata.CompileError) as info:
        strata.compile(text)
    diag = info.value.diagnostics[0]
    assert diag.line == 2 and "contracting dimensions differ" in diag.message
