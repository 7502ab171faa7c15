"""graph-canonicalize: simplify layout ops so that fewer copies reach the tensor programs.

Frontends emit layout ops as the source model wrote them (PyTorch's attention transposes
batch-first inputs, views and unflattens); each transpose that survives is a copy. Rewrites, to a
fixpoint:
- a transpose that keeps the order of the non-unit dimensions is a reshape;
- reshape(reshape(x)) is one reshape; transpose(transpose(x)) is one transpose;
- a reshape that only adds or drops unit dimensions of a transpose's result becomes a transpose
  of a reshape (which then merges with the reshapes before it);
- a reshape or transpose to the same shape / the identity permutation is its input;
- a unary elementwise op after a reshape (whose result has no other use) moves before it, so
  that it joins the producer's fused group (matmul + bias + relu across a view).

Input and output: `graph` functions (fused subgraphs are left alone).
"""

from __future__ import annotations

from mlir import ir

from strata.dialects import graph
from strata.irutil import functions, walk
from strata.passes import Pass

UNARY = tuple(f"graph.{name}" for name in graph.UNARY_OPS)


def _shape(value: ir.Value) -> list[int]:
    return list(ir.RankedTensorType(value.type).shape)


def _producer(value: ir.Value, name: str) -> ir.Operation | None:
    owner = value.owner
    if isinstance(owner, ir.Block) or owner.operation.name != name:
        return None
    return owner.operation


def _replace(op: ir.Operation, value: ir.Value) -> None:
    op.results[0].replace_all_uses_with(value)
    op.erase()


def _reshape(value: ir.Value, shape: list[int], at: ir.Operation) -> ir.Value:
    with ir.InsertionPoint(at), at.location:
        return graph.ReshapeOp(value, shape).result


def _non_unit(shape: list[int]) -> list[int]:
    return [n for n in shape if n != 1]


def _transpose_of_reshape(transpose: ir.Operation, target: list[int], at: ir.Operation):
    """reshape(transpose(x, perm), target), where the reshape only adds or drops unit dimensions,
    as transpose(reshape(x, squeezed), perm'): x's non-unit dimensions first, then the units."""
    source, permutation = transpose.operands[0], transpose.opview.permutation
    source_shape = _shape(source)
    kept = [d for d, n in enumerate(source_shape) if n != 1]
    order = iter(kept.index(p) for p in permutation if source_shape[p] != 1)
    units = iter(range(len(kept), len(target)))
    squeezed = [source_shape[d] for d in kept] + [1] * (len(target) - len(kept))
    new_permutation = [next(units) if n == 1 else next(order) for n in target]
    with ir.InsertionPoint(at), at.location:
        return graph.TransposeOp(_reshape(source, squeezed, at), new_permutation).result


def _rewrite(op: ir.Operation) -> bool:
    """Apply one rewrite rooted at `op`; True when the IR changed."""
    if op.name == "graph.transpose":
        source = op.operands[0]
        perm = op.opview.permutation
        if perm == list(range(len(perm))):
            _replace(op, source)
            return True
        dims = _shape(source)
        moved = [p for p in perm if dims[p] != 1]
        if moved == sorted(moved):  # only unit dimensions move: the same row-major order
            _replace(op, _reshape(source, _shape(op.results[0]), op))
            return True
        inner = _producer(source, "graph.transpose")
        if inner is not None:
            first = inner.opview.permutation
            with ir.InsertionPoint(op), op.location:
                composed = graph.TransposeOp(inner.operands[0], [first[p] for p in perm]).result
            _replace(op, composed)
            return True
    elif op.name == "graph.reshape":
        source = op.operands[0]
        if _shape(source) == _shape(op.results[0]):
            _replace(op, source)
            return True
        inner = _producer(source, "graph.reshape")
        if inner is not None:
            _replace(op, _reshape(inner.operands[0], _shape(op.results[0]), op))
            return True
        inner = _producer(source, "graph.transpose")
        target = _shape(op.results[0])
        if (
            inner is not None
            and len(list(source.uses)) == 1
            and _non_unit(_shape(source)) == _non_unit(target)
        ):
            _replace(op, _transpose_of_reshape(inner, target, op))
            inner.erase()
            return True
    elif op.name in UNARY:
        view = _producer(op.operands[0], "graph.reshape")
        if view is not None and len(list(view.results[0].uses)) == 1:
            # unary(reshape(x)) -> reshape(unary(x)): the op is cloned before the view.
            source = view.operands[0]
            clone = op.clone(ir.InsertionPoint(view))
            clone.operands[0] = source
            clone.results[0].set_type(source.type)
            _replace(op, _reshape(clone.results[0], _shape(op.results[0]), op))
            view.erase()
            return True
    return False


class GraphCanonicalizePass(Pass):
    """Simplify layout ops: unit-dimension transposes become reshapes, chains of reshapes or
    transposes merge, identities vanish, unary ops move before views"""

    argument = "graph-canonicalize"

    def run(self, module: ir.Operation) -> None:
        for fn in functions(module):
            if graph.FUSED in fn.attributes:
                continue
            changed = True
            while changed:
                changed = False
                for op in list(walk(fn)):
                    if op.name in ("graph.transpose", "graph.reshape", *UNARY):
                        if _rewrite(op):
                            changed = True
                            break
            _erase_dead_layout(fn)


def _erase_dead_layout(fn: ir.Operation) -> None:
    """Layout ops left without users by the rewrites."""
    changed = True
    while changed:
        changed = False
        for op in list(walk(fn)):
            if op.name in ("graph.transpose", "graph.reshape") and not list(op.results[0].uses):
                op.erase()
                changed = True
                break
