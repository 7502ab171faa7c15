"""tprog-parallelize: the default thread schedule of loop nests that no other schedule claimed.

Input: tensor programs. For each top-level loop nest with enough work, the outermost loop that
has two or more iterations and carries no reduction variable of the blocks under it becomes
`parallel`, unless a reduction loop of two or more iterations encloses it (threads would start
once per iteration of that loop). Nests that already hold a parallel loop, or loops that are not
normalized (tiles from tensorization), are left alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from mlir import ir

from strata.dialects.tprog import PRIM_FUNC, IterType
from strata.irutil import functions, walk
from strata.passes import Pass
from strata.transforms.tprog import nest
from strata.transforms.tprog.nest import LOOP_KIND, ScheduleError


@dataclass(frozen=True)
class Options:
    min_iterations: int = field(
        default=1 << 16, metadata={"help": "iterations a nest needs before it runs on threads"}
    )


def _carries_reduction(loop: ir.Operation) -> bool:
    name = nest.loop_name(loop)
    for block in (op for op in walk(loop) if op.name == "tprog.block"):
        view = block.opview
        for value, kind in zip(view.iter_values, view.iter_types):
            expr = nest.binding_of(value)
            if expr is None or (kind == IterType.REDUCTION and name in expr.vars()):
                return True
    return False


def parallelize_nest(top: ir.Operation, min_iterations: int) -> bool:
    loops = [op for op in walk(top) if op.name in ("scf.for", "scf.forall")]
    if any(not nest.is_loop(op) or LOOP_KIND in op.attributes for op in loops):
        return False
    try:
        work = math.prod(nest.loop_extent(op) for op in loops)
    except ScheduleError:
        return False
    if work < min_iterations:
        return False
    current = top
    while nest.is_loop(current):
        carries = _carries_reduction(current)
        if nest.loop_extent(current) >= 2 and not carries:
            current.attributes[LOOP_KIND] = ir.StringAttr.get("parallel")
            return True
        if carries and nest.loop_extent(current) >= 2:
            return False  # threads inside a sequential reduction loop would start every iteration
        inner = [op for op in nest.body_ops(current) if op.name != "affine.apply"]
        if len(inner) != 1:
            return False
        current = inner[0]
    return False


class TprogParallelizePass(Pass):
    """Run large loop nests without a thread schedule on parallel threads"""

    argument = "tprog-parallelize"
    Options = Options

    def run(self, module: ir.Operation) -> None:
        for fn in functions(module):
            if PRIM_FUNC not in fn.attributes or not fn.regions[0].blocks:
                continue
            for op in list(fn.regions[0].blocks[0].operations):
                if nest.is_loop(op.operation):
                    parallelize_nest(op.operation, self.options.min_iterations)
