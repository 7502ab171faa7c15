"""tprog-apply-schedule: replay saved schedule traces on the tensor programs they name.

Input: tensor programs and a trace file (`# schedule: <function>` sections, as `print(sch.trace)`
writes them). Output: each named function transformed by its trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mlir import ir

from strata.diagnostics import CompileError, Diagnostic
from strata.passes import Pass
from strata.transforms.tprog.nest import ScheduleError
from strata.transforms.tprog.trace import Trace, TraceError


@dataclass(frozen=True)
class Options:
    file: str = field(default="", metadata={"help": "trace file to replay"})


class TprogApplySchedulePass(Pass):
    """Replay schedule traces from a file on the tensor programs they name"""

    argument = "tprog-apply-schedule"
    Options = Options

    def run(self, module: ir.Operation) -> None:
        from strata.transforms.tprog.schedule import Schedule

        path = Path(self.options.file)
        try:
            text = path.read_text()
        except OSError as e:
            raise CompileError(
                f"cannot read schedule file '{path}': {e.strerror}", module.location
            ) from None
        except UnicodeDecodeError as e:
            raise CompileError(
                f"cannot read schedule file '{path}': not UTF-8 text "
                f"(byte 0x{e.object[e.start]:02x} at offset {e.start})",
                module.location,
            ) from None
        try:
            for trace in Trace.parse_all(text, str(path)):
                try:
                    schedule = Schedule(module, trace.func_name)
                except ScheduleError as e:
                    raise TraceError(str(e)) from None
                trace.apply(schedule)
        except TraceError as e:
            message = str(e)
            if e.line:  # a step that does not apply: locate it in the trace file
                diag = Diagnostic("error", message, str(path), e.line, 1)
                raise CompileError(message, diagnostics=[diag]) from None
            raise CompileError(message, module.location) from None
