"""Loop nests of tensor programs: reading them (loops, bindings) and rebuilding bindings.

Invariants schedules keep: loops are `scf.for` from 0 to a constant extent with step 1, named by
`tprog.loop`; a loop body holds loops or, innermost, the `affine.apply` ops binding a block's
iteration variables followed by the block. Loop induction variables are used only by those
bindings, so a primitive can detach the bindings, restructure loops, and rebuild them by name.
"""

from __future__ import annotations

from mlir import ir
from mlir.dialects import affine, arith, scf

from strata.dialects.tprog import LOOP_NAME
from strata.irutil import erase
from strata.transforms.tprog.expr import Expr, from_affine

LOOP_KIND = "tprog.kind"  # "parallel", "vectorized", "unrolled", or a GPU axis ("blockIdx.x",
# ..., "threadIdx.z": bind.py); absent: serial


class ScheduleError(ValueError):
    """A schedule primitive's precondition does not hold; the message names the block or loop."""


def const_index(value: ir.Value) -> int | None:
    owner = value.owner
    if isinstance(owner, ir.Block):
        return None
    op = owner.operation
    if op.name == "arith.constant" and isinstance(op.attributes["value"], ir.IntegerAttr):
        return ir.IntegerAttr(op.attributes["value"]).value
    return None


def is_loop(op: ir.Operation) -> bool:
    return op.name == "scf.for" and LOOP_NAME in op.attributes


def loop_name(op: ir.Operation) -> str:
    return ir.StringAttr(op.attributes[LOOP_NAME]).value


def loop_kind(op: ir.Operation) -> str:
    return ir.StringAttr(op.attributes[LOOP_KIND]).value if LOOP_KIND in op.attributes else "serial"


def loop_extent(op: ir.Operation) -> int:
    lb, ub, step = (const_index(v) for v in list(op.operands)[:3])
    if lb != 0 or step != 1 or ub is None:
        raise ScheduleError(
            f"loop '{loop_name(op)}' is not normalized (from 0 to a constant with step 1)"
        )
    return ub


def body_ops(loop: ir.Operation) -> list[ir.Operation]:
    """The ops of a loop body, without its terminator."""
    return [op.operation for op in loop.regions[0].blocks[0].operations][:-1]


def enclosing_loops(op: ir.Operation) -> list[ir.Operation]:
    loops: list[ir.Operation] = []
    parent = op.parent
    while parent is not None and parent.name != "func.func":
        if is_loop(parent):
            loops.insert(0, parent)
        parent = parent.parent
    return loops


def binding_of(value: ir.Value) -> Expr | None:
    owner = value.owner
    if isinstance(owner, ir.Block):
        parent = owner.owner.operation if owner.owner is not None else None
        if parent is not None and is_loop(parent):
            return Expr.var(loop_name(parent))
        return None
    op = owner.operation
    if op.name == "arith.constant":
        c = const_index(value)
        return None if c is None else Expr.const(c)
    if op.name == "affine.apply":
        amap = ir.AffineMapAttr(op.attributes["map"]).value
        dims = [binding_of(v) for v in op.operands]
        if any(d is None for d in dims) or amap.n_symbols:
            return None
        return from_affine(amap.results[0], dims)  # type: ignore[arg-type]
    return None


def index_constant_at_entry(fn: ir.Operation, value: int) -> ir.Value:
    """An index constant at the top of `fn` (bounds live there, outside every loop)."""
    entry = fn.regions[0].blocks[0]
    with ir.InsertionPoint.at_block_begin(entry), fn.location:
        return arith.ConstantOp(ir.IndexType.get(), value).result


def make_loop(fn: ir.Operation, name: str, extent: int, kind: str = "serial") -> ir.Operation:
    """A new normalized loop at the current insertion point, with an empty body."""
    zero, one = index_constant_at_entry(fn, 0), index_constant_at_entry(fn, 1)
    loop = scf.ForOp(zero, index_constant_at_entry(fn, extent), one)
    loop.attributes[LOOP_NAME] = ir.StringAttr.get(name)
    if kind != "serial":
        loop.attributes[LOOP_KIND] = ir.StringAttr.get(kind)
    with ir.InsertionPoint(loop.body):
        scf.YieldOp([])
    return loop.operation


def move_body(src: ir.Operation, dst: ir.Operation) -> None:
    """Move the body of loop `src` (without its terminator) to the end of loop `dst`'s body."""
    terminator = [op for op in dst.regions[0].blocks[0].operations][-1].operation
    for op in body_ops(src):
        op.move_before(terminator)


def blocks_in(fn: ir.Operation) -> list[ir.Operation]:
    from strata.irutil import walk

    return [op for op in walk(fn) if op.name == "tprog.block"]


class Rebinding:
    """Detach every block's bindings from the loops (so loops can be restructured), then rebuild
    them from expressions over loop names: `with Rebinding(fn) as r: ...; r.substitute({...})`."""

    def __init__(self, fn: ir.Operation):
        self.fn = fn
        self.blocks: list[tuple[ir.Operation, list[Expr]]] = []

    def __enter__(self) -> Rebinding:
        placeholder = index_constant_at_entry(self.fn, 0)
        self._placeholder = placeholder
        for block in blocks_in(self.fn):
            exprs = []
            for i, value in enumerate(list(block.operands)):
                expr = binding_of(value)
                if expr is None:
                    name = ir.StringAttr(block.attributes["name"]).value
                    raise ScheduleError(
                        f"block '{name}': iteration value {i} is not an affine function of loops"
                    )
                exprs.append(expr)
                block.operands[i] = placeholder
            self.blocks.append((block, exprs))
        self.original = list(self.blocks)
        _erase_dead_applies(self.fn)
        return self

    def substitute(self, mapping: dict[str, Expr]) -> None:
        self.blocks = [(b, [e.substitute(mapping) for e in exprs]) for b, exprs in self.blocks]

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            for block, exprs in self.blocks:
                rebind(block, exprs)
        else:  # an internal error mid-way: restore what can be restored, never abort
            for block, exprs in self.original:
                try:
                    rebind(block, exprs)
                except (ScheduleError, ValueError, RuntimeError):
                    pass
        if not list(self._placeholder.uses):
            erase(self._placeholder.owner)


def rebind(block: ir.Operation, exprs: list[Expr]) -> None:
    ivs = {loop_name(lp): lp.regions[0].blocks[0].arguments[0] for lp in enclosing_loops(block)}
    with ir.InsertionPoint(block), block.location:
        for i, expr in enumerate(exprs):
            missing = expr.vars() - set(ivs)
            if missing:
                raise ScheduleError(
                    f"block '{ir.StringAttr(block.attributes['name']).value}' would use loop "
                    f"'{sorted(missing)[0]}' outside of it"
                )
            if expr.op == "var":
                value = ivs[expr.args[0]]
            elif expr.op == "const":
                value = arith.ConstantOp(ir.IndexType.get(), expr.args[0]).result
            else:
                names = sorted(expr.vars())
                amap = ir.AffineMap.get(
                    len(names), 0, [expr.to_affine({n: k for k, n in enumerate(names)})]
                )
                value = affine.AffineApplyOp(amap, [ivs[n] for n in names]).result
            block.operands[i] = value


def _erase_dead_applies(fn: ir.Operation) -> None:
    """Erase unused index computations inside loops (bindings detached from their blocks); one
    post-order sweep suffices, since an op's users come after it."""
    from strata.irutil import walk

    for op in reversed(list(walk(fn))):
        if (
            op.name in ("affine.apply", "arith.constant")
            and isinstance(op.results[0].type, ir.IndexType)
            and op.parent is not None
            and op.parent.name != "func.func"
            and not list(op.results[0].uses)
        ):
            op.erase()
