"""Building tensor programs: named `scf.for` loop nests around a `tprog.block`.

Shared by the conversions that produce `tprog` (from `graph`) and by those that restructure it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mlir import ir
from mlir.dialects import scf

from strata.dialects.tprog import LOOP_NAME, BlockOp, IterType
from strata.irutil import index_constant


def terminate(block: ir.Block) -> None:
    """End a region of a tprog op (IRDL ops cannot define their own terminator)."""
    with ir.InsertionPoint(block):
        ir.Operation.create("omp.terminator")


def loop_nest(
    names: Sequence[str],
    extents: Sequence[int],
    steps: Sequence[int] | None = None,
    starts: Sequence[int] | None = None,
) -> tuple[list[ir.Value], ir.InsertionPoint]:
    """Emit perfectly nested `scf.for` loops (from `starts`, default 0, to `extents`) at the
    current insertion point; return the induction variables and an insertion point inside the
    innermost loop."""
    ivs: list[ir.Value] = []
    steps = steps or [1] * len(extents)
    starts = starts or [0] * len(extents)
    # Bounds are made in front of the nest, one constant per distinct value.
    consts = {v: index_constant(v) for v in sorted({*starts, *extents, *steps})}
    ip = ir.InsertionPoint.current
    for name, start, extent, step in zip(names, starts, extents, steps):
        with ip:
            loop = scf.ForOp(consts[start], consts[extent], consts[step])
            loop.attributes[LOOP_NAME] = ir.StringAttr.get(name)
        with ir.InsertionPoint(loop.body):
            scf.YieldOp([])
        ivs.append(loop.induction_variable)
        ip = ir.InsertionPoint.at_block_terminator(loop.body)
    return ivs, ip


BodyBuilder = Callable[[list[ir.Value]], None]


def emit_block(
    name: str,
    loop_names: Sequence[str],
    dom: Sequence[int],
    iter_types: Sequence[IterType],
    body: BodyBuilder,
    init: BodyBuilder | None = None,
) -> BlockOp:
    """A loop nest over `dom` (one loop per iteration variable, identity binding) around a
    block named `name`; `body`/`init` build the scalar code given the iteration variables."""
    ivs, ip = loop_nest(loop_names, dom)
    with ip:
        block = BlockOp(name, ivs, iter_types, dom)
    for region_block, build in ((block.init, init), (block.body, body)):
        if build is not None:
            with ir.InsertionPoint(region_block):
                build(list(region_block.arguments))
        terminate(region_block)
    return block


def uniquify_loop_names(fn: ir.Operation) -> None:
    """Rename loops so that names are unique in `fn` (schedules find loops by name): a repeated
    `i0` becomes `i0_1`, `i0_2`, ..."""
    from strata.irutil import unique_symbol, walk

    taken: set[str] = set()
    for op in walk(fn):
        if op.name == "scf.for" and LOOP_NAME in op.attributes:
            name = ir.StringAttr(op.attributes[LOOP_NAME]).value
            unique = unique_symbol(name, taken)
            if unique != name:
                op.attributes[LOOP_NAME] = ir.StringAttr.get(unique)
