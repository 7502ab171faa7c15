"""Helpers of the GPU schedule tests: graphs built from a function, lowered to tensor programs,
and the kernels of a scheduled module."""

from __future__ import annotations

import strata
from strata.dialects.tprog import PRIM_FUNC
from strata.irutil import functions
from strata.pipelines import Pipeline
from strata.transforms.tprog import bind, nest

SCHEDULE = "graph-fuse-ops,convert-graph-to-tprog,tprog-gpu-schedule"


def graph(build, *shapes):
    """The module of `build(builder, *inputs)` for inputs of `shapes`."""
    b = strata.GraphBuilder("f")
    inputs = [b.input(s) for s in shapes]
    out = build(b, *inputs)
    return b.finish(*(out if isinstance(out, tuple) else (out,)))


def tprog(build, *shapes):
    module = graph(build, *shapes)
    Pipeline.parse("graph-fuse-ops,convert-graph-to-tprog").run(module)
    return module


def prim_funcs(module):
    return [f for f in functions(module.operation) if PRIM_FUNC in f.attributes]


def kernels(module) -> list[bind.KernelInfo]:
    """Every top-level loop nest of every tensor program, checked as a kernel."""
    found = []
    for fn in prim_funcs(module):
        for op in fn.regions[0].blocks[0].operations:
            op = op.operation
            assert op.name != "tprog.block", "a block outside any kernel"
            if nest.is_loop(op):
                found.append(bind.check_kernel(op))
    return found
