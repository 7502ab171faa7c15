"""tprog-apply-tuning-db: give each tensor program the best schedule a tuning database holds for
its workload (same IR up to the name) on this target.

Input: tensor programs. Output: tuned ones scheduled by their best trace; others unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlir import ir

from strata.diagnostics import CompileError
from strata.dialects.tprog import PRIM_FUNC
from strata.irutil import functions, symbol_name
from strata.passes import Pass
from strata.transforms.tprog.nest import ScheduleError
from strata.transforms.tprog.trace import Trace, TraceError


@dataclass(frozen=True)
class Options:
    file: str = field(default="", metadata={"help": "tuning database (JSON lines)"})
    vector_width: int = field(default=0, metadata={"help": "target vector width; 0: the host's"})


class TprogApplyTuningDbPass(Pass):
    """Schedule tensor programs with the best traces of a tuning database"""

    argument = "tprog-apply-tuning-db"
    Options = Options

    def run(self, module: ir.Operation) -> None:
        from strata.targets import get_target
        from strata.transforms.tprog.schedule import Schedule
        from strata.tuning.database import Database, workload_key

        try:
            db = Database(self.options.file)
        except (OSError, ValueError) as e:
            raise CompileError(f"cannot use tuning database: {e}", module.location) from None
        width = self.options.vector_width or get_target("cpu").vector_width
        for fn in functions(module):
            if PRIM_FUNC not in fn.attributes:
                continue
            record = db.best(workload_key(fn), f"cpu/{width}")
            if record is None:
                continue
            name = symbol_name(fn)
            try:
                trace = Trace.parse(record.trace)
                trace.func_name = name
                trace.apply(Schedule(module, name))
            except (TraceError, ScheduleError) as e:
                raise CompileError(
                    f"tuning record for '{name}' does not apply: {e}", fn.location
                ) from None
