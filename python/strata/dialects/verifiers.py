"""Op verifiers IRDL cannot express: element types, shapes, and structural rules.

`verify_op` checks one Strata op and raises `CompileError` located at the op. The `graph-verify`
pass runs the `graph` checks; strata-opt runs all of them right after parsing, the way upstream
op verifiers run, so malformed input is rejected before any pass sees it.
"""

from __future__ import annotations

from collections.abc import Callable

from mlir import ir

from strata.diagnostics import CompileError
from strata.dialects.shapes import (
    ShapeError,
    broadcast_shape,
    conv2d_shape,
    layer_norm_check,
    matmul_shape,
    normalized_axis,
    reshape_check,
    transpose_shape,
)
from strata.irutil import elements_type, walk

FLOAT_TYPES = ("f32", "f16", "bf16")


def _tensor(op: ir.Operation, value: ir.Value, what: str) -> ir.RankedTensorType:
    if not isinstance(value.type, ir.RankedTensorType):
        raise CompileError(f"{what} must be a ranked tensor, found {value.type}", op.location)
    t = value.type
    if not t.has_static_shape:
        raise CompileError(f"{what} must have a static shape, found {t}", op.location)
    if str(t.element_type) not in FLOAT_TYPES:
        raise CompileError(
            f"{what} must have element type f32, f16 or bf16, found {t.element_type}", op.location
        )
    return t


def _expect_result(op: ir.Operation, shape: list[int], element: ir.Type) -> None:
    result = _tensor(op, op.results[0], "result")
    if list(result.shape) != shape or result.element_type != element:
        expected = "tensor<" + "".join(f"{d}x" for d in shape) + f"{element}>"
        raise CompileError(f"result type should be {expected}, found {result}", op.location)


def _same_element(op: ir.Operation, a: ir.RankedTensorType, b: ir.RankedTensorType) -> None:
    if a.element_type != b.element_type:
        raise CompileError(
            f"operand element types differ: {a.element_type} vs {b.element_type}", op.location
        )


def _binary(rule: Callable[[list[int], list[int]], list[int]]) -> Callable[[ir.Operation], None]:
    def verify(op: ir.Operation) -> None:
        lhs = _tensor(op, op.operands[0], "lhs")
        rhs = _tensor(op, op.operands[1], "rhs")
        _same_element(op, lhs, rhs)
        try:
            shape = rule(list(lhs.shape), list(rhs.shape))
        except ShapeError as e:
            raise CompileError(str(e), op.location) from None
        _expect_result(op, shape, lhs.element_type)

    return verify


def _verify_relu(op: ir.Operation) -> None:
    x = _tensor(op, op.operands[0], "input")
    _expect_result(op, list(x.shape), x.element_type)


def _verify_constant(op: ir.Operation) -> None:
    value = op.attributes["value"]
    result = _tensor(op, op.results[0], "result")
    vtype = elements_type(value)
    if vtype is None:
        raise CompileError(
            f"'value' must be a dense or dense_resource elements attribute, found {value}",
            op.location,
        )
    if vtype != result:
        raise CompileError(f"'value' has type {vtype} but the result is {result}", op.location)


def _verify_block(op: ir.Operation) -> None:
    from strata.dialects.tprog import IterType

    block = op.opview
    n = len(block.iter_values)
    try:
        dom = block.dom
    except ValueError:
        raise CompileError("'dom' must be an array<i64: ...> of extents", op.location) from None
    if any(d < 1 for d in dom):
        raise CompileError(f"'dom' extents must be positive, found {list(dom)}", op.location)
    if len(dom) != n:
        raise CompileError(f"'dom' has {len(dom)} extents for {n} iteration variables", op.location)
    try:
        types = block.iter_types
    except ValueError:
        raise CompileError(
            '\'iter_types\' entries must be "spatial" or "reduction"', op.location
        ) from None
    if len(types) != n:
        raise CompileError(
            f"'iter_types' has {len(types)} entries for {n} iteration variables", op.location
        )
    for region, label in ((op.regions[0], "init"), (op.regions[1], "body")):
        args = region.blocks[0].arguments
        if len(args) != n:
            raise CompileError(
                f"{label} region takes {len(args)} arguments, expected {n}", op.location
            )
    if IterType.REDUCTION not in types and len(block.init.operations) > 1:
        raise CompileError(
            "a block without reduction variables must have an empty init region", op.location
        )


def _verify_microkernel(op: ir.Operation) -> None:
    types = [v.type for v in op.operands]
    lhs, rhs, acc = ([*t.shape] for t in types)
    if any(len(s) != 2 for s in (lhs, rhs, acc)):
        raise CompileError("fma_microkernel operands must be 2-D memrefs", op.location)
    if lhs[1] != rhs[0] or acc != [lhs[0], rhs[1]]:
        raise CompileError(
            f"fma_microkernel shapes do not form acc[MxN] += lhs[MxK] * rhs[KxN]: "
            f"lhs {lhs}, rhs {rhs}, acc {acc}",
            op.location,
        )
    if any(str(t.element_type) != "f32" for t in types):
        raise CompileError("fma_microkernel works on f32 memrefs", op.location)


def _verify_libcall_matmul(op: ir.Operation) -> None:
    types = [v.type for v in op.operands]
    shapes = [list(t.shape) for t in types]
    if any(len(s) != 2 for s in shapes):
        raise CompileError("libcall.matmul operands must be 2-D memrefs", op.location)
    (m, k), (k2, n), out = shapes
    if k != k2 or out != [m, n]:
        raise CompileError(
            f"libcall.matmul shapes do not form out[MxN] = lhs[MxK] @ rhs[KxN]: "
            f"lhs {shapes[0]}, rhs {shapes[1]}, out {out}",
            op.location,
        )
    from strata.libraries import registry

    error = registry.check_call(op)
    if error:
        raise CompileError(error, op.location)


def _located(op: ir.Operation, check) -> None:
    try:
        check()
    except ShapeError as e:
        raise CompileError(str(e), op.location) from None


def _verify_conv2d(op: ir.Operation) -> None:
    x = _tensor(op, op.operands[0], "input")
    w = _tensor(op, op.operands[1], "weight")
    _same_element(op, x, w)
    view = op.opview
    try:
        arrays = [view.strides, view.padding, view.dilation]
    except ValueError:
        raise CompileError(
            "strides, padding and dilation must be array<i64: ...>", op.location
        ) from None
    shape: list[int] = []

    def infer() -> None:
        strides, padding, dilation = arrays
        shape.extend(
            conv2d_shape(list(x.shape), list(w.shape), strides, padding, dilation, view.groups)
        )

    _located(op, infer)
    _expect_result(op, shape, x.element_type)


def _verify_softmax(op: ir.Operation) -> None:
    x = _tensor(op, op.operands[0], "input")
    _located(op, lambda: normalized_axis(op.opview.axis, len(x.shape)))
    _expect_result(op, list(x.shape), x.element_type)


def _verify_layer_norm(op: ir.Operation) -> None:
    x = _tensor(op, op.operands[0], "input")
    w = _tensor(op, op.operands[1], "weight")
    b = _tensor(op, op.operands[2], "bias")
    _same_element(op, x, w)
    _same_element(op, x, b)
    _located(op, lambda: layer_norm_check(list(x.shape), list(w.shape), list(b.shape)))
    _expect_result(op, list(x.shape), x.element_type)


def _verify_reshape(op: ir.Operation) -> None:
    x = _tensor(op, op.operands[0], "input")
    y = _tensor(op, op.results[0], "result")
    _located(op, lambda: reshape_check(list(x.shape), list(y.shape)))
    if x.element_type != y.element_type:
        raise CompileError(
            f"reshape changes the element type: {x.element_type} to {y.element_type}", op.location
        )


def _verify_transpose(op: ir.Operation) -> None:
    x = _tensor(op, op.operands[0], "input")
    try:
        permutation = op.opview.permutation
    except ValueError:
        raise CompileError("'permutation' must be an array<i64: ...>", op.location) from None
    shape: list[int] = []
    _located(op, lambda: shape.extend(transpose_shape(list(x.shape), permutation)))
    _expect_result(op, shape, x.element_type)


VERIFIERS: dict[str, Callable[[ir.Operation], None]] = {
    "graph.constant": _verify_constant,
    "graph.matmul": _binary(matmul_shape),
    "graph.add": _binary(broadcast_shape),
    "graph.sub": _binary(broadcast_shape),
    "graph.mul": _binary(broadcast_shape),
    "graph.conv2d": _verify_conv2d,
    "graph.reshape": _verify_reshape,
    "graph.transpose": _verify_transpose,
    "graph.softmax": _verify_softmax,
    "graph.layer_norm": _verify_layer_norm,
    "graph.relu": _verify_relu,
    "tprog.block": _verify_block,
    "libcall.matmul": _verify_libcall_matmul,
    "hwprim.fma_microkernel": _verify_microkernel,
}


def verify_op(op: ir.Operation) -> None:
    check = VERIFIERS.get(op.name)
    if check is not None:
        check(op)


def verify_module(module: ir.Operation, prefix: str = "") -> None:
    """Verify every Strata op (of dialect `prefix`, if given) in `module`."""
    for op in walk(module):
        if op.name.startswith(prefix):
            verify_op(op)
