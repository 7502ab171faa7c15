"""The simulator's core: the semantics registry, prepared functions and regions, and its errors.

A function is *prepared* once before it runs. Its environment is a frame, a Python list with one
slot per SSA value (slots are resolved while preparing, so running never looks values up by
name). Each region becomes a generated Python function with one line per op, which reads the
op's operand slots, calls its kernel and writes its result slots. A kernel comes from the op's
semantics, registered by name:

    @semantics("hwprim.fma_microkernel")
    def fma_microkernel(op: OpContext) -> Kernel:
        width = op.attr("vector_width")        # attributes are read here, once per op
        def run(lhs, rhs, acc):                 # and this runs at each execution
            acc += lhs @ rhs
        return run

A kernel takes the operands' values and returns None (no result), the value (one result) or a
sequence (several). Ops with regions get them compiled (`op.region(i)`): calling a `Region` with
its block arguments runs it and returns the values its terminator carries. Semantics may return
`Constant(value)` instead of a kernel: the value is put in the frame once and the op costs
nothing at run time. Errors are `SimulationError`s (a `CompileError`) located at the op.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from mlir import ir

from strata.diagnostics import CompileError, Diagnostic, file_line_col
from strata.interpreter.values import Trap, python_value
from strata.irutil import is_declaration, module_body

Kernel = Callable[..., Any]


@dataclass(frozen=True)
class Constant:
    """What semantics return for an op whose one result is the same at every execution."""

    value: Any


Preparer = Callable[["OpContext"], "Kernel | Constant"]

_SEMANTICS: dict[str, Preparer] = {}
_TERMINATORS: set[str] = set()
_BUILTIN_MODULES = (
    "strata.interpreter.affine",
    "strata.interpreter.arith",
    "strata.interpreter.control",
    "strata.interpreter.memory",
    "strata.interpreter.vector",
    "strata.interpreter.graph",
    # semantics that live next to their lowering
    "strata.conversions.tprog_to_scf",
    "strata.conversions.hwprim_to_vector",
    "strata.conversions.libcall_to_func",
    "strata.conversions.hwprim_to_nvvm_semantics",
    "strata.transforms.tprog.gpu_cache",  # gpu.barrier: nothing, in the sequential reading
)
_loaded = False


def semantics(*names: str) -> Callable[[Preparer], Preparer]:
    """Register the simulation semantics of the ops `names`. A name is `dialect.op`, or
    `dialect.*` for the ops of a dialect that have no semantics of their own."""

    def register(prepare: Preparer) -> Preparer:
        for name in names:
            _SEMANTICS[name] = prepare
        return prepare

    return register


def terminator(*names: str) -> None:
    """Declare the ops `names` as terminators: their operands go back to the parent op."""
    _TERMINATORS.update(names)


def _ensure_builtin() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in _BUILTIN_MODULES:
            importlib.import_module(module)


def lookup(name: str) -> Preparer | None:
    """The semantics registered for the op `name`, or None."""
    _ensure_builtin()
    found = _SEMANTICS.get(name)
    return found if found is not None else _SEMANTICS.get(name.split(".", 1)[0] + ".*")


# ---- errors -----------------------------------------------------------------------------------


class SimulationError(CompileError):
    """A module the simulator cannot run, or a run that went wrong, located at the op."""

    def with_note(self, message: str, location: ir.Location | None) -> SimulationError:
        """This error with a note at `location` (the call chain that led to the op)."""
        file, line, col = file_line_col(location)
        note = Diagnostic("note", message, file, line, col)
        first, *rest = self.diagnostics
        first = dataclasses.replace(first, notes=(*first.notes, note))
        return type(self)(first.message, diagnostics=[first, *rest])


class UnsupportedOp(SimulationError):
    """An op without simulation semantics (collected: one error lists them all)."""


def _describe(error: Exception) -> str:
    if isinstance(error, (Trap, ArithmeticError)):
        return str(error)
    return f"{type(error).__name__}: {error}"


# ---- prepared code ----------------------------------------------------------------------------


class Region:
    """A prepared single-block region. `region(*args)` (or the faster `region.run(*args)`)
    binds the block arguments, runs the ops and returns the list of the terminator's operands;
    `region.iterate(values)` runs a one-argument region once per value, ignoring results.
    `region.terminator` is the terminator's `OpContext` (None without one).

    Each region becomes one generated Python function whose lines call the ops' kernels on frame
    slots (`f[5] = k3(f[1], f[2])`): no per-op closure call or loop overhead. A Python
    exception inside a kernel is reported at the op whose line raised it."""

    def __init__(self, frame: list, arg_slots: list[int], name: str):
        self.frame = frame
        self.arg_slots = arg_slots
        self.name = name
        self.instructions: list[tuple[Kernel, list[int], list[int], ir.Operation]] = []
        self.result_slots: list[int] = []
        self.terminator: OpContext | None = None
        self.run: Callable[..., list] = self._unsealed
        self.iterate: Callable[[Iterable[Any]], None] = self._unsealed
        self._lines: dict[int, ir.Operation] = {}

    @property
    def is_empty(self) -> bool:
        """True when the region runs no op (only a terminator, or no block at all)."""
        return not self.instructions

    def __call__(self, *args: Any) -> list:
        return self.run(*args)

    def _unsealed(self, *args: Any) -> Any:
        raise AssertionError(f"internal: region of {self.name} run before it was prepared")

    def seal(self) -> None:
        """Generate the region's functions once all its ops are prepared."""
        names: dict[str, Any] = {
            "frame": self.frame,
            "SimulationError": SimulationError,
            "failure": self._failure,
        }
        statements = []
        for n, (kernel, ins, outs, op) in enumerate(self.instructions):
            names[f"k{n}"] = kernel
            call = f"k{n}({', '.join(f'f[{i}]' for i in ins)})"
            if len(outs) == 1:
                statements.append((f"f[{outs[0]}] = {call}", op))
            elif outs:
                statements.append((f"({', '.join(f'f[{o}]' for o in outs)},) = {call}", op))
            else:
                statements.append((call, op))
        params = ", ".join(f"a{i}" for i in range(len(self.arg_slots)))
        binds = [f"f[{slot}] = a{i}" for i, slot in enumerate(self.arg_slots)]
        results = f"[{', '.join(f'f[{slot}]' for slot in self.result_slots)}]"
        lines: list[str] = []
        self._emit(lines, f"def run({params}):", binds, statements, 8, results)
        if len(binds) == 1:
            loop = ["for a0 in values:", f"    {binds[0]}"]
            self._emit(lines, "def iterate(values):", loop, statements, 12, "None")
        code = compile("\n".join(lines) + "\n", f"<simulated {self.name}>", "exec")
        exec(code, names)  # noqa: S102  # generated above from slot numbers only
        self.run = names["run"]
        if len(binds) == 1:
            self.iterate = names["iterate"]

    def _emit(
        self,
        lines: list[str],
        header: str,
        setup: list[str],
        statements: list[tuple[str, ir.Operation]],
        indent: int,
        result: str,
    ) -> None:
        """Append a generated function to `lines`; remember which op each line runs."""
        lines += [header, "    f = frame", "    try:", *(f"        {s}" for s in setup)]
        for statement, op in statements:
            self._lines[len(lines) + 1] = op
            lines.append(" " * indent + statement)
        lines += [
            " " * indent + "pass",
            "    except SimulationError:",
            "        raise",
            "    except Exception as error:",
            "        raise failure(error) from error",
            f"    return {result}",
        ]

    def _failure(self, error: Exception) -> SimulationError:
        traceback = error.__traceback__
        op = self._lines.get(traceback.tb_lineno) if traceback is not None else None
        if op is None:  # not from an op: the values fed to the region
            return SimulationError(_describe(error))
        return SimulationError(f"{op.name}: {_describe(error)}", op.location)


class Function:
    """A prepared `func.func`: calling it with argument values returns the list of results."""

    def __init__(self, name: str, op: ir.Operation):
        self.name = name
        self.op = op
        self.frame: list = []
        self.body: Region | None = None
        self._depth = 0

    def __call__(self, *args: Any) -> list:
        assert self.body is not None, f"internal: '@{self.name}' called before it was prepared"
        saved = self.frame[:] if self._depth else None  # a recursive call: keep the caller's
        self._depth += 1
        try:
            return self.body(*args)
        finally:
            self._depth -= 1
            if saved is not None:
                self.frame[:] = saved


class OpContext:
    """What semantics see of an op while preparing its kernel."""

    def __init__(self, op: ir.Operation, builder: _FunctionBuilder):
        self.op = op
        self.name: str = op.name
        self._builder = builder
        self._regions: dict[int, Region] = {}

    @property
    def location(self) -> ir.Location:
        return self.op.location

    @property
    def interpreter(self) -> Interpreter:
        return self._builder.interpreter

    @cached_property
    def operand_types(self) -> list[ir.Type]:
        return [v.type for v in self.op.operands]

    @cached_property
    def result_types(self) -> list[ir.Type]:
        return [v.type for v in self.op.results]

    def has_attr(self, name: str) -> bool:
        return name in self.op.attributes

    def attr(self, name: str, default: Any = dataclasses.MISSING) -> Any:
        """The attribute `name` as a Python value (see `values.python_value`)."""
        if name not in self.op.attributes:
            if default is dataclasses.MISSING:
                raise self.error(f"expected attribute '{name}'")
            return default
        return python_value(self.op.attributes[name])

    def operand_segments(self) -> list[list[int]]:
        """Operand positions grouped by `operandSegmentSizes` (one group per operand when the
        op has no such attribute)."""
        if "operandSegmentSizes" not in self.op.attributes:
            return [[i] for i in range(len(self.op.operands))]
        groups, start = [], 0
        for size in self.attr("operandSegmentSizes"):
            groups.append(list(range(start, start + size)))
            start += size
        return groups

    def region(self, index: int) -> Region:
        """The op's region `index`, prepared (once)."""
        if index not in self._regions:
            self._regions[index] = self._builder.compile_region(self.op.regions[index], self.op)
        return self._regions[index]

    def function(self, name: str) -> Function:
        """The prepared function `@name` of the module (for calls)."""
        return self.interpreter.function(name, self.location)

    def error(self, message: str) -> SimulationError:
        """An error to raise while preparing: the op cannot be simulated as it is."""
        return SimulationError(f"{self.name}: {message}", self.location)

    def unsupported(self, why: str = "") -> UnsupportedOp:
        """The error for an op without semantics (collected with the others)."""
        message = f"no simulator semantics for '{self.name}'"
        hint = "register one with @strata.interpreter.semantics"
        return UnsupportedOp(f"{message}{': ' + why if why else ''} ({hint})", self.location)


class _FunctionBuilder:
    """Prepares one function: assigns the slots of its frame and compiles its regions."""

    def __init__(self, function: Function, interpreter: Interpreter):
        self.function = function
        self.interpreter = interpreter
        self.slots: dict[ir.Value, int] = {}
        self.prefill: dict[int, Any] = {}

    def slot(self, value: ir.Value) -> int:
        return self.slots.setdefault(value, len(self.slots))

    def compile_region(self, region: ir.Region, parent: ir.Operation) -> Region:
        blocks = list(region.blocks)
        if len(blocks) > 1:
            raise SimulationError(
                f"{parent.name}: a region of {len(blocks)} blocks is not simulated "
                "(only single-block regions)",
                parent.location,
            )
        if not blocks:
            empty = Region(self.function.frame, [], parent.name)
            empty.seal()
            return empty
        block = blocks[0]
        args = [self.slot(a) for a in block.arguments]
        compiled = Region(self.function.frame, args, parent.name)
        ops = [op.operation for op in block.operations]
        last = ops.pop() if ops and ops[-1].name in _TERMINATORS else None
        for op in ops:
            self._compile_op(op, compiled)
        if last is not None:
            compiled.result_slots = [self.slot(v) for v in last.operands]
            compiled.terminator = OpContext(last, self)
        compiled.seal()
        return compiled

    def _compile_op(self, op: ir.Operation, region: Region) -> None:
        context = OpContext(op, self)
        prepare = lookup(op.name)
        try:
            if prepare is None:
                raise context.unsupported()
            prepared = prepare(context)
        except UnsupportedOp as error:
            self.interpreter.unsupported.extend(error.diagnostics)
            return
        except SimulationError:
            raise
        except Exception as error:  # malformed IR the semantics did not expect
            raise context.error(f"cannot simulate this op: {_describe(error)}") from error
        outs = [self.slot(r) for r in op.results]
        if isinstance(prepared, Constant):
            (slot,) = outs
            self.prefill[slot] = prepared.value
            return
        ins = [self.slot(v) for v in op.operands]
        region.instructions.append((prepared, ins, outs, op))

    def finish(self) -> None:
        frame = self.function.frame
        frame.extend([None] * (len(self.slots) - len(frame)))
        for slot, value in self.prefill.items():
            frame[slot] = value


class Interpreter:
    """A module prepared for simulation; a function is prepared on first use, together with
    the functions it calls, and reused afterwards."""

    def __init__(self, module: ir.Operation):
        _ensure_builtin()
        self.module = module
        self.unsupported: list[Diagnostic] = []
        self._functions: dict[str, Function] = {}
        self._symbols = {}
        for op in module_body(module).operations:
            op = op.operation
            if "sym_name" in op.attributes:
                self._symbols[ir.StringAttr(op.attributes["sym_name"]).value] = op
        self._globals: dict[str, Any] = {}

    def prepare(self, name: str) -> Function:
        """The function `@name`, prepared; every op without semantics is reported at once."""
        function = self.function(name)
        if self.unsupported:
            # One diagnostic per op name, at its first use.
            firsts: dict[str, Diagnostic] = {}
            for diagnostic in self.unsupported:
                firsts.setdefault(diagnostic.message, diagnostic)
            diagnostics = list(firsts.values())
            raise UnsupportedOp(diagnostics[0].message, diagnostics=diagnostics)
        return function

    def function(self, name: str, location: ir.Location | None = None) -> Function:
        found = self._functions.get(name)
        if found is not None:
            return found
        op = self._symbols.get(name)
        if op is None or op.name != "func.func":
            raise SimulationError(f"no function '@{name}' in the module", location)
        if is_declaration(op):
            raise SimulationError(
                f"'@{name}' is an external function, which the simulator cannot run "
                "(simulate the module before convert-libcall-to-func)",
                location,
            )
        function = Function(name, op)
        self._functions[name] = function
        builder = _FunctionBuilder(function, self)
        try:
            function.body = builder.compile_region(op.regions[0], op)
        except BaseException:
            del self._functions[name]
            raise
        builder.finish()
        return function

    def global_value(self, name: str, location: ir.Location | None = None) -> Any:
        """The array of the `memref.global` `@name` (one per interpreter, shared by uses)."""
        if name not in self._globals:
            op = self._symbols.get(name)
            if op is None or op.name != "memref.global":
                raise SimulationError(f"no memref.global '@{name}' in the module", location)
            from strata.interpreter.memory import global_array

            self._globals[name] = global_array(op)
        return self._globals[name]
