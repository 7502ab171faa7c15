"""Semantics of control flow: `func.call`, and the `scf` loops and conditionals.

Parallel loops (`scf.forall`, `scf.parallel`) run their iterations one after another, in order:
a correct parallel loop gives the same result in any order.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from strata.interpreter.core import Kernel, OpContext, SimulationError, semantics, terminator
from strata.interpreter.values import Trap

terminator(
    "func.return",
    "scf.yield",
    "scf.condition",
    "scf.reduce",
    "scf.reduce.return",
    "scf.forall.in_parallel",
    "affine.yield",
)


def results_of(op: OpContext) -> Callable[[Sequence[Any]], Any]:
    """How a kernel hands back a list of values as its op's results (see `core`)."""
    n = len(op.result_types)
    if n == 0:
        return lambda values: None
    if n == 1:
        return lambda values: values[0]
    return lambda values: values


def _check_step(step: int) -> None:
    if step <= 0:
        raise Trap(f"loop step {step} is not positive")


@semantics("func.call")
def _call(op: OpContext) -> Kernel:
    name = op.attr("callee")
    callee = op.function(name)
    location = op.location
    give = results_of(op)

    def run(*args: Any) -> Any:
        try:
            return give(callee(*args))
        except SimulationError as error:
            raise error.with_note(f"in '@{name}' called from here", location) from error

    return run


@semantics("scf.for")
def _for(op: OpContext) -> Kernel:
    body = op.region(0)
    if not op.result_types:

        def loop(lb: int, ub: int, step: int) -> None:
            _check_step(step)
            body.iterate(range(lb, ub, step))

        return loop
    give, run = results_of(op), body.run

    def carried(lb: int, ub: int, step: int, *init: Any) -> Any:
        _check_step(step)
        values: Sequence[Any] = init
        for i in range(lb, ub, step):
            values = run(i, *values)
        return give(values)

    return carried


@semantics("scf.if")
def _if(op: OpContext) -> Kernel:
    then, other = op.region(0).run, op.region(1).run
    give = results_of(op)
    if not op.result_types:

        def run(cond: Any) -> None:
            if cond:
                then()
            else:
                other()

        return run
    return lambda cond: give(then() if cond else other())


@semantics("scf.while")
def _while(op: OpContext) -> Kernel:
    before, after = op.region(0), op.region(1)
    give = results_of(op)

    def run(*init: Any) -> Any:
        values: Sequence[Any] = init
        while True:
            cond, *forwarded = before(*values)
            if not cond:
                return give(forwarded)
            values = after(*forwarded)

    return run


@semantics("scf.execute_region")
def _execute_region(op: OpContext) -> Kernel:
    body, give = op.region(0), results_of(op)
    return lambda: give(body())


def _bounds(
    op: OpContext, static: Sequence[str], groups: Sequence[Sequence[int]]
) -> Callable[[Sequence[Any]], list[range]]:
    """The iteration ranges of a multi-dimensional loop from its operands; each bound is a
    static attribute (`static` names them) or, where that is dynamic, the next operand."""
    dynamic = -(1 << 63)
    if static:
        lists = [op.attr(name) for name in static]
    else:
        lists = [[dynamic] * len(group) for group in groups]
    picks: list[list[tuple[bool, int]]] = []
    for values, group in zip(lists, groups):
        positions = iter(group)
        picks.append([(v == dynamic, next(positions) if v == dynamic else v) for v in values])

    def ranges(operands: Sequence[Any]) -> list[range]:
        lbs, ubs, steps = ([operands[x] if dyn else x for dyn, x in p] for p in picks)
        for s in steps:
            _check_step(s)
        return [range(lb, ub, s) for lb, ub, s in zip(lbs, ubs, steps)]

    return ranges


@semantics("scf.forall")
def _forall(op: OpContext) -> Kernel:
    groups = op.operand_segments()
    if groups[3]:
        raise op.error("scf.forall with shared outputs (tensors) is not simulated")
    ranges = _bounds(op, ("staticLowerBound", "staticUpperBound", "staticStep"), groups[:3])
    body = op.region(0)
    assert body.terminator is not None
    if list(body.terminator.op.regions[0].blocks[0].operations):
        raise op.error("scf.forall.in_parallel with ops is not simulated")

    def run(*operands: Any) -> None:
        dims = ranges(operands)
        if len(dims) == 1:
            body.iterate(dims[0])
            return
        for ivs in itertools.product(*dims):
            body(*ivs)

    return run


@semantics("scf.parallel")
def _parallel(op: OpContext) -> Kernel:
    groups = op.operand_segments()
    ranges = _bounds(op, (), groups[:3])
    inits = groups[3]
    body = op.region(0)
    assert body.terminator is not None
    reduce = body.terminator
    combiners = [reduce.region(i) for i in range(len(reduce.op.regions))]
    give = results_of(op)

    def run(*operands: Any) -> Any:
        accumulated = [operands[i] for i in inits]
        for ivs in itertools.product(*ranges(operands)):
            values = body(*ivs)
            for k, combine in enumerate(combiners):
                accumulated[k] = combine(accumulated[k], values[k])[0]
        return give(accumulated)

    return run
