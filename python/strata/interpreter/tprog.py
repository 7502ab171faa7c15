"""Semantics of `tprog.block`: TensorIR's block, as convert-tprog-to-scf lowers it.

The block runs only for iteration values inside `dom`; its `init` region runs first when every
reduction iteration value is 0; then its `body`. Both regions take the iteration values as
arguments and end with `omp.terminator`.
"""

from __future__ import annotations

from typing import Any

from strata.dialects.tprog import IterType
from strata.interpreter.core import Kernel, OpContext, Region, semantics, terminator

terminator("omp.terminator")


@semantics("tprog.block")
def _block(op: OpContext) -> Kernel:
    dom = tuple(op.attr("dom"))
    kinds = op.attr("iter_types")
    if not len(dom) == len(kinds) == len(op.operand_types):
        raise op.error(
            f"expected one 'dom' extent and one iter_type per iteration value "
            f"({len(op.operand_types)}), got {len(dom)} and {len(kinds)}"
        )
    reductions = [i for i, kind in enumerate(kinds) if kind == IterType.REDUCTION.value]
    body = op.region(1).run
    # The verifier keeps the init region of a block without reductions empty.
    init_region: Region | None = op.region(0) if reductions else None
    init = None if init_region is None or init_region.is_empty else init_region.run

    # One generated function per block: its domain check is a chained comparison per value.
    values = [f"v{i}" for i in range(len(dom))]
    inside = " and ".join(f"0 <= {v} < {extent}" for v, extent in zip(values, dom)) or "True"
    first = " and ".join(f"{values[i]} == 0" for i in reductions)
    args = ", ".join(values)
    lines = [f"def run({args}):", f"    if {inside}:"]
    if init is not None:
        lines += [f"        if {first}:", f"            init({args})"]
    lines += [f"        body({args})"]
    names: dict[str, Any] = {"init": init, "body": body}
    exec("\n".join(lines), names)  # noqa: S102  # generated from the block's integer attributes
    return names["run"]
