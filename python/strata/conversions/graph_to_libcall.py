"""convert-graph-to-libcall: map graph ops onto native library calls (MLC chapter 3).

Also the mechanism `graph-dispatch-libcall` uses (that pass decides, by rules, which ops go to
which library): `LIBCALL_OPS` gives the libcall op a graph op can become, and `convert` replaces
one op by a call of a private tensor program whose body is that libcall op (destination-passing),
when the library function accepts the operands.
Input: `graph` functions. Output: each 2-D f32 `graph.matmul` that the library function of
option `matmul` takes becomes such a call; other ops are left for `convert-graph-to-tprog`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from mlir import ir
from mlir.dialects import func, memref

from strata.conversions.graph_to_tprog import call_prim_func, new_prim_func
from strata.dialects.graph import FUSED
from strata.dialects.libcall import Conv2dOp, MatmulOp
from strata.irutil import functions, symbol_names, unique_symbol, walk
from strata.libraries import registry
from strata.passes import Pass, PipelineError


@dataclass(frozen=True)
class LibcallForm:
    """How a graph op becomes a libcall op: `check` says why an op cannot (or None), `operands`
    gives the values the tensor program takes, each with the permutation of the view the libcall
    op reads (None: the value itself), and `build` emits the libcall op on those views (inputs,
    then the output)."""

    op: str
    check: Callable[[ir.Operation], str | None]
    build: Callable[[ir.Operation, Sequence[ir.Value], str], ir.OpView]  # (graph op, views, callee)
    operands: Callable[[ir.Operation], list[tuple[ir.Value, list[int] | None]]] = field(
        default=lambda op: _plain_operands(op)
    )


def _plain_operands(op: ir.Operation) -> list[tuple[ir.Value, list[int] | None]]:
    return [(v, None) for v in op.operands]


def _check_matmul(op: ir.Operation) -> str | None:
    shapes = [list(v.type.shape) for v in op.operands]
    if any(len(s) < 2 for s in shapes):
        return f"libcall.matmul takes operands of rank >= 2, found {shapes[0]} and {shapes[1]}"
    return None


def _matmul_operands(op: ir.Operation) -> list[tuple[ir.Value, list[int] | None]]:
    """A transpose of the last two dimensions feeding the matmul is absorbed: the library reads
    the untransposed tensor through a transposed view (BLAS's Trans) instead of a copy."""
    result: list[tuple[ir.Value, list[int] | None]] = []
    for value in op.operands:
        producer = value.owner
        if isinstance(producer, ir.OpView) and producer.operation.name == "graph.transpose":
            rank = len(value.type.shape)
            permutation = list(producer.permutation)
            if permutation == [*range(rank - 2), rank - 1, rank - 2]:
                result.append((producer.operation.operands[0], permutation))
                continue
        result.append((value, None))
    return result


def _build_matmul(op: ir.Operation, args: Sequence[ir.Value], callee: str) -> ir.OpView:
    lhs, rhs, out = args
    return MatmulOp(lhs, rhs, out, callee=callee)


def _check_conv2d(op: ir.Operation) -> str | None:
    shapes = [list(v.type.shape) for v in op.operands]
    if any(len(s) != 4 for s in shapes):
        return f"libcall.conv2d takes 4-D operands, found shapes {shapes[0]} and {shapes[1]}"
    return None


def _build_conv2d(op: ir.Operation, args: Sequence[ir.Value], callee: str) -> ir.OpView:
    input, weight, out = args
    view = op.opview
    return Conv2dOp(
        input,
        weight,
        out,
        callee=callee,
        strides=view.strides,
        padding=view.padding,
        dilation=view.dilation,
        groups=view.groups,
    )


LIBCALL_OPS: dict[str, LibcallForm] = {
    "graph.matmul": LibcallForm("libcall.matmul", _check_matmul, _build_matmul, _matmul_operands),
    "graph.conv2d": LibcallForm("libcall.conv2d", _check_conv2d, _build_conv2d),
}


def _transposed_view(value: ir.Value, permutation: list[int]) -> ir.Value:
    """`memref.transpose` of `value`: the permuted shape over the same memory (strided)."""
    t = value.type
    strides, offset = t.get_strides_and_offset()
    shape = [t.shape[p] for p in permutation]
    layout = ir.StridedLayoutAttr.get(offset, [strides[p] for p in permutation])
    result = ir.MemRefType.get(shape, t.element_type, layout)
    perm = ir.AffineMapAttr.get(ir.AffineMap.get_permutation(permutation))
    return memref.TransposeOp(result, value, perm).result


def _function_of(op: ir.Operation) -> ir.Operation:
    parent = op.parent
    while parent.name != "func.func":
        parent = parent.parent
    return parent


def convert(op: ir.Operation, function: str, taken: set[str]) -> str | None:
    """Replace the graph op `op` by a call of library function `function` (a registry name),
    or, when the op has no libcall form or the library refuses its operands, leave it and say
    why. `taken` holds the module's symbol names (the new tensor program's name is added)."""
    form = LIBCALL_OPS.get(op.name)
    if form is None:
        return f"'{op.name}' has no libcall form"
    reason = form.check(op)
    if reason is not None:
        return reason
    callee = unique_symbol(function.replace(".", "_"), taken)
    result_types = [r.type for r in op.results]
    operands = form.operands(op)
    with op.location:
        inputs = [v.type for v, _ in operands]
        prim = new_prim_func(_function_of(op), callee, inputs, result_types)
        entry = prim.regions[0].blocks[0]
        with ir.InsertionPoint(entry):
            args = list(entry.arguments)
            for i, (_, permutation) in enumerate(operands):
                if permutation is not None:
                    args[i] = _transposed_view(args[i], permutation)
            call = form.build(op, args, function)
            func.ReturnOp([])
    reason = registry.check_call(call.operation)
    if reason is not None:
        prim.operation.erase()
        taken.discard(callee)
        return reason
    with ir.InsertionPoint(op), op.location:
        values = call_prim_func(callee, [v for v, _ in operands], result_types)
    for old, new in zip(op.results, values):
        old.replace_all_uses_with(new)
    absorbed = {v.owner for v, (_, p) in zip(op.operands, operands) if p is not None}
    op.erase()
    for producer in absorbed:  # a transpose the call absorbed, unless something else reads it
        if not list(producer.results[0].uses):
            producer.erase()
    return None


@dataclass(frozen=True)
class Options:
    matmul: str = field(
        default="openblas.sgemm", metadata={"help": "library function for graph.matmul"}
    )

    def __post_init__(self) -> None:
        choices = registry.implementing("libcall.matmul")
        if self.matmul not in choices:
            raise PipelineError(
                f"invalid value '{self.matmul}' for option 'matmul' of 'convert-graph-to-libcall': "
                f"expected a library function implementing libcall.matmul ({', '.join(choices)})"
            )


class ConvertGraphToLibcallPass(Pass):
    """Map graph.matmul onto a native BLAS call (graph-dispatch-libcall chooses by rules)"""

    argument = "convert-graph-to-libcall"
    Options = Options

    def run(self, module: ir.Operation) -> None:
        taken = symbol_names(module)
        for fn in functions(module):
            if FUSED in fn.attributes:
                continue
            for op in [op for op in walk(fn) if op.name == "graph.matmul"]:
                convert(op, self.options.matmul, taken)  # refused ops stay graph ops
