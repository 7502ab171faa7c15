"""test-strata-miscompile: a deliberately wrong rewrite, for testing `strata bisect`.

Replaces the first `arith.mulf` (option `op`: or `arith.addf`, `arith.maximumf`) of the module by
a different float operation on the same operands (mulf -> addf, addf -> subf, maximumf ->
minimumf). A pipeline holding it computes wrong results from that pass on; bisect must say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlir import ir

from strata.irutil import walk
from strata.passes import Pass, PipelineError

WRONG = {"arith.mulf": "arith.addf", "arith.addf": "arith.subf", "arith.maximumf": "arith.minimumf"}


@dataclass(frozen=True)
class Options:
    op: str = field(default="arith.mulf", metadata={"help": "the op to rewrite wrongly"})

    def __post_init__(self) -> None:
        if self.op not in WRONG:
            raise PipelineError(
                f"invalid value '{self.op}' for option 'op' of 'test-strata-miscompile': "
                f"expected one of {', '.join(WRONG)}"
            )


class TestStrataMiscompilePass(Pass):
    """Deliberately miscompile one float op (for testing strata bisect)"""

    argument = "test-strata-miscompile"
    Options = Options

    def run(self, module: ir.Operation) -> None:
        target = next((op for op in walk(module) if op.name == self.options.op), None)
        if target is None:
            return
        with ir.InsertionPoint(target), target.location:
            wrong = ir.Operation.create(
                WRONG[self.options.op],
                results=[target.results[0].type],
                operands=list(target.operands),
            )
        target.results[0].replace_all_uses_with(wrong.results[0])
        target.erase()
