"""Op verifiers IRDL cannot express: element types, shapes, and structural rules.

`verify_op` checks one Strata op and raises `CompileError` located at the op. The `graph-verify`
pass runs the `graph` checks; strata-opt runs all of them right after parsing, the way upstream
op verifiers run, so malformed input is rejected before any pass sees it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlir import ir

from strata.diagnostics import CompileError
from strata.dialects.gpu_verifiers import GPU_VERIFIERS
from strata.dialects.shapes import (
    ShapeError,
    adaptive_pool_check,
    batch_norm_check,
    broadcast_shape,
    broadcast_to_check,
    concat_shape,
    conv2d_shape,
    gather_shape,
    layer_norm_check,
    matmul_shape,
    normalized_axis,
    pool2d_shape,
    reduce_shape,
    reshape_check,
    slice_shape,
    transpose_shape,
)
from strata.irutil import elements_type, walk

FLOAT_TYPES = ("f32", "f16", "bf16")
INDEX_TYPES = ("i32", "i64")


def _tensor(
    op: ir.Operation, value: ir.Value, what: str, elements: tuple[str, ...] = FLOAT_TYPES
) -> ir.RankedTensorType:
    if not isinstance(value.type, ir.RankedTensorType):
        raise CompileError(f"{what} must be a ranked tensor, found {value.type}", op.location)
    t = value.type
    if not t.has_static_shape:
        raise CompileError(f"{what} must have a static shape, found {t}", op.location)
    if 0 in t.shape:  # (the lowerings divide by extents: layer_norm's mean, softmax, pooling)
        raise CompileError(f"{what} has a zero-sized dimension: {t}", op.location)
    if str(t.element_type) not in elements:
        raise CompileError(
            f"{what} must have element type {', '.join(elements[:-1])} or {elements[-1]}, "
            f"found {t.element_type}",
            op.location,
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


def _verify_matmul(op: ir.Operation) -> None:
    """Float matmuls keep their element type; i8 x i8 accumulates into i32 (quantized)."""
    lhs = _tensor(op, op.operands[0], "lhs", (*FLOAT_TYPES, "i8"))
    rhs = _tensor(op, op.operands[1], "rhs", (*FLOAT_TYPES, "i8"))
    _same_element(op, lhs, rhs)
    try:
        shape = matmul_shape(list(lhs.shape), list(rhs.shape))
    except ShapeError as e:
        raise CompileError(str(e), op.location) from None
    if str(lhs.element_type) == "i8":
        result = op.results[0].type
        if list(result.shape) != shape or str(result.element_type) != "i32":
            expected = "tensor<" + "".join(f"{d}x" for d in shape) + "i32>"
            raise CompileError(
                f"an i8 matmul accumulates in i32: result type should be {expected}, "
                f"found {result}",
                op.location,
            )
        return
    _expect_result(op, shape, lhs.element_type)


def _verify_unary(op: ir.Operation) -> None:
    x = _tensor(op, op.operands[0], "input")
    _expect_result(op, list(x.shape), x.element_type)


def _verify_constant(op: ir.Operation) -> None:
    value = op.attributes["value"]
    result = _tensor(op, op.results[0], "result", FLOAT_TYPES + INDEX_TYPES)
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
    except (ValueError, TypeError):  # TypeError: an array of another element width
        raise CompileError("'dom' must be an array<i64: ...> of extents", op.location) from None
    if any(d < 1 for d in dom):
        raise CompileError(f"'dom' extents must be positive, found {list(dom)}", op.location)
    if len(dom) != n:
        raise CompileError(f"'dom' has {len(dom)} extents for {n} iteration variables", op.location)
    try:
        types = block.iter_types
    except (ValueError, TypeError):  # TypeError: an array of another element width
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


def _verify_dot_i8_microkernel(op: ir.Operation) -> None:
    types = [v.type for v in op.operands]
    lhs, rhs, acc = ([*t.shape] for t in types)
    width = ir.IntegerAttr(op.attributes["vector_width"]).value
    if any(len(s) != 2 for s in (lhs, rhs, acc)):
        raise CompileError("dot_i8_microkernel operands must be 2-D memrefs", op.location)
    if [str(t.element_type) for t in types] != ["i8", "i8", "i32"]:
        raise CompileError(
            "dot_i8_microkernel takes i8 lhs and rhs and an i32 accumulator", op.location
        )
    if lhs[1] % 4 or rhs != [lhs[1] // 4, acc[1] * 4] or acc[0] != lhs[0]:
        raise CompileError(
            "dot_i8_microkernel shapes do not form acc[MxN] += lhs[MxK] * rhs[K/4 x 4N] "
            f"(K a multiple of 4): lhs {lhs}, rhs {rhs}, acc {acc}",
            op.location,
        )
    if width < 1 or acc[1] % width:
        raise CompileError(
            f"dot_i8_microkernel accumulator columns ({acc[1]}) must be a multiple of "
            f"vector_width ({width})",
            op.location,
        )


def _verify_dot_i8(op: ir.Operation) -> None:
    acc, lhs, _ = (v.type for v in op.operands)
    n = acc.shape[0] if acc.rank == 1 else -1
    if (
        acc.rank != 1
        or str(acc.element_type) != "i32"
        or lhs.rank != 1
        or str(lhs.element_type) != "i8"
        or lhs.shape[0] != 4 * n
    ):
        raise CompileError(
            f"hwprim.dot_i8 takes vector<N x i32> and two vector<4N x i8>, found {acc} and {lhs}",
            op.location,
        )


def _verify_vector_access(op: ir.Operation) -> None:
    """hwprim.vload / vstore: a 1-D vector of the memref's element type, one index per dim."""
    if op.name == "hwprim.vload":
        vec, base, indices = op.results[0].type, op.operands[0], list(op.operands)[1:]
    else:
        vec, base, indices = op.operands[0].type, op.operands[1], list(op.operands)[2:]
    if vec.rank != 1 or vec.element_type != base.type.element_type:
        raise CompileError(
            f"{op.name} moves a 1-D vector of the memref's elements, found {vec} and {base.type}",
            op.location,
        )
    if len(indices) != base.type.rank:
        raise CompileError(
            f"{op.name} takes {base.type.rank} indices for {base.type}, found {len(indices)}",
            op.location,
        )


def _verify_vbroadcast(op: ir.Operation) -> None:
    vec = op.results[0].type
    if vec.rank != 1 or vec.element_type != op.operands[0].type:
        raise CompileError(
            f"hwprim.vbroadcast fills a 1-D vector of its operand's type, found "
            f"{op.operands[0].type} to {vec}",
            op.location,
        )


def _verify_vfma(op: ir.Operation) -> None:
    vec = op.results[0].type
    if vec.rank != 1 or not isinstance(vec.element_type, ir.FloatType):
        raise CompileError(f"hwprim.vfma takes 1-D float vectors, found {vec}", op.location)


def _verify_libcall_matmul(op: ir.Operation) -> None:
    types = [v.type for v in op.operands]
    shapes = [list(t.shape) for t in types]
    if any(len(s) < 2 for s in shapes):
        raise CompileError("libcall.matmul operands must be memrefs of rank >= 2", op.location)
    try:
        expected = matmul_shape(shapes[0], shapes[1])
    except ShapeError:
        expected = None
    if expected != shapes[2]:
        raise CompileError(
            f"libcall.matmul shapes do not form out[..., M, N] = lhs[..., M, K] @ rhs[..., K, N]: "
            f"lhs {shapes[0]}, rhs {shapes[1]}, out {shapes[2]}",
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
    except (ValueError, TypeError):  # TypeError: an array of another element width
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
    except (ValueError, TypeError):  # TypeError: an array of another element width
        raise CompileError("'permutation' must be an array<i64: ...>", op.location) from None
    shape: list[int] = []
    _located(op, lambda: shape.extend(transpose_shape(list(x.shape), permutation)))
    _expect_result(op, shape, x.element_type)


def _shape_rule(op: ir.Operation, infer: Callable[[], Any]) -> Any:
    """Run a shape rule, reporting its error at `op`; a malformed attribute of the right base
    kind (e.g. an array of the wrong element type) reads as a ValueError."""
    try:
        return infer()
    except ShapeError as e:
        raise CompileError(str(e), op.location) from None
    except (ValueError, TypeError) as e:
        raise CompileError(f"malformed attribute: {e}", op.location) from None


def _verify_gelu(op: ir.Operation) -> None:
    approximate = op.opview.approximate
    if approximate not in ("none", "tanh"):
        raise CompileError(
            f'\'approximate\' must be "none" or "tanh", found "{approximate}"', op.location
        )
    _verify_unary(op)


def _verify_log_softmax(op: ir.Operation) -> None:
    _verify_softmax(op)


def _verify_batch_norm(op: ir.Operation) -> None:
    x = _tensor(op, op.operands[0], "input")
    names = ("weight", "bias", "mean", "var")
    params = [_tensor(op, v, n) for v, n in zip(list(op.operands)[1:], names)]
    for p in params:
        _same_element(op, x, p)
    _shape_rule(op, lambda: batch_norm_check(list(x.shape), *(list(p.shape) for p in params)))
    _expect_result(op, list(x.shape), x.element_type)


def _verify_reduce(op: ir.Operation) -> None:
    x = _tensor(op, op.operands[0], "input")
    view = op.opview
    shape = _shape_rule(op, lambda: reduce_shape(list(x.shape), view.axes, view.keepdim))
    _expect_result(op, shape, x.element_type)


def _verify_max_pool(op: ir.Operation) -> None:
    x = _tensor(op, op.operands[0], "input")
    v = op.opview
    shape = _shape_rule(
        op, lambda: pool2d_shape(list(x.shape), v.kernel, v.strides, v.padding, v.dilation)
    )
    _expect_result(op, shape, x.element_type)


def _verify_avg_pool(op: ir.Operation) -> None:
    x = _tensor(op, op.operands[0], "input")
    v = op.opview
    shape = _shape_rule(op, lambda: pool2d_shape(list(x.shape), v.kernel, v.strides, v.padding))
    _shape_rule(op, lambda: v.count_include_pad)  # a bool, not an integer
    _expect_result(op, shape, x.element_type)


def _verify_same_element_result(op: ir.Operation) -> tuple[ir.RankedTensorType, ...]:
    x = _tensor(op, op.operands[0], "input")
    y = _tensor(op, op.results[0], "result")
    if x.element_type != y.element_type:
        raise CompileError(
            f"result element type {y.element_type} differs from the input's {x.element_type}",
            op.location,
        )
    return x, y


def _verify_adaptive_pool(op: ir.Operation) -> None:
    x, y = _verify_same_element_result(op)
    _shape_rule(op, lambda: adaptive_pool_check(list(x.shape), list(y.shape)))


def _verify_broadcast_to(op: ir.Operation) -> None:
    x, y = _verify_same_element_result(op)
    _shape_rule(op, lambda: broadcast_to_check(list(x.shape), list(y.shape)))


def _verify_slice(op: ir.Operation) -> None:
    x = _tensor(op, op.operands[0], "input")
    v = op.opview
    shape = _shape_rule(op, lambda: slice_shape(list(x.shape), v.offsets, v.sizes, v.strides))
    _expect_result(op, shape, x.element_type)


def _verify_concat(op: ir.Operation) -> None:
    lhs = _tensor(op, op.operands[0], "lhs")
    rhs = _tensor(op, op.operands[1], "rhs")
    _same_element(op, lhs, rhs)
    shape = _shape_rule(op, lambda: concat_shape(list(lhs.shape), list(rhs.shape), op.opview.axis))
    _expect_result(op, shape, lhs.element_type)


def _verify_gather(op: ir.Operation) -> None:
    x = _tensor(op, op.operands[0], "input")
    idx = _tensor(op, op.operands[1], "indices", INDEX_TYPES)
    shape = _shape_rule(op, lambda: gather_shape(list(x.shape), list(idx.shape), op.opview.axis))
    _expect_result(op, shape, x.element_type)


VERIFIERS: dict[str, Callable[[ir.Operation], None]] = {
    "graph.constant": _verify_constant,
    "graph.matmul": _verify_matmul,
    "graph.add": _binary(broadcast_shape),
    "graph.sub": _binary(broadcast_shape),
    "graph.mul": _binary(broadcast_shape),
    "graph.conv2d": _verify_conv2d,
    "graph.reshape": _verify_reshape,
    "graph.transpose": _verify_transpose,
    "graph.softmax": _verify_softmax,
    "graph.layer_norm": _verify_layer_norm,
    **{
        f"graph.{name}": _verify_unary
        for name in ("relu", "silu", "sigmoid", "tanh", "exp", "log", "erf", "sqrt", "rsqrt")
        + ("neg", "abs")
    },
    **{f"graph.{name}": _binary(broadcast_shape) for name in ("div", "pow", "maximum", "minimum")},
    "graph.gelu": _verify_gelu,
    "graph.log_softmax": _verify_log_softmax,
    "graph.batch_norm": _verify_batch_norm,
    "graph.reduce_sum": _verify_reduce,
    "graph.reduce_mean": _verify_reduce,
    "graph.reduce_max": _verify_reduce,
    "graph.max_pool2d": _verify_max_pool,
    "graph.avg_pool2d": _verify_avg_pool,
    "graph.adaptive_avg_pool2d": _verify_adaptive_pool,
    "graph.slice": _verify_slice,
    "graph.concat": _verify_concat,
    "graph.broadcast_to": _verify_broadcast_to,
    "graph.gather": _verify_gather,
    "tprog.block": _verify_block,
    "libcall.matmul": _verify_libcall_matmul,
    "hwprim.fma_microkernel": _verify_microkernel,
    "hwprim.dot_i8_microkernel": _verify_dot_i8_microkernel,
    "hwprim.dot_i8": _verify_dot_i8,
    "hwprim.vload": _verify_vector_access,
    "hwprim.vstore": _verify_vector_access,
    "hwprim.vbroadcast": _verify_vbroadcast,
    "hwprim.vfma": _verify_vfma,
    **GPU_VERIFIERS,  # TensorCore primitives (ldmatrix, mma.sync, wgmma, cp.async)
}


def verify_op(op: ir.Operation) -> None:
    check = VERIFIERS.get(op.name)
    if check is None:
        return
    try:
        check(op)
    except (ValueError, TypeError) as e:  # an attribute of the right base kind but wrong form
        # (IRDL checks only base kinds: `array<i664: 4>` passes as a dense array)
        raise CompileError(f"malformed attribute of '{op.name}': {e}", op.location) from None


def verify_module(module: ir.Operation, prefix: str = "") -> None:
    """Verify every Strata op (of dialect `prefix`, if given) in `module`."""
    for op in walk(module):
        if op.name.startswith(prefix):
            verify_op(op)
