"""The simulator: interprets a module in numpy at the tensor-program, hardware-primitive and
library-call levels (and the upstream ops around them), so a tensorized or library-dispatched
program is checked against numpy without the hardware or the library.

`simulate(module, *arrays)` runs a function; `semantics("dialect.op")` registers an op's
semantics (see `core`); `SimulationError` is the `CompileError` the simulator raises.
"""

from strata.interpreter.core import (
    Constant,
    Interpreter,
    Kernel,
    OpContext,
    Region,
    SimulationError,
    UnsupportedOp,
    semantics,
    terminator,
)
from strata.interpreter.simulate import simulate
from strata.interpreter.values import Trap

__all__ = [
    "Constant",
    "Interpreter",
    "Kernel",
    "OpContext",
    "Region",
    "SimulationError",
    "Trap",
    "UnsupportedOp",
    "semantics",
    "simulate",
    "terminator",
]
