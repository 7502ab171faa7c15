"""Schedule traces: the primitives applied to a tensor program, as a replayable Python snippet.

    # schedule: matmul
    sch.get_block("matmul")  # -> matmul
    v1, v2 = sch.sample_perfect_tile("i", n=2, max_innermost_factor=16, decision=[8, 8])
    sch.split("i", factors=[v1, v2])  # -> i_0, i_1
    sch.parallel("i_0")

A file may hold traces of several functions, each after its `# schedule: <name>` line. Parsing
accepts only this shape (no other Python), so replaying a trace file runs no code.
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass, field
from typing import Any

_LOOP_LISTS = ("reorder", "fuse", "merge")  # primitives taking loops as positional arguments


class TraceError(ValueError):
    """A trace text is malformed or does not replay on the function."""

    line: int = 0


@dataclass
class Instruction:
    kind: str
    inputs: dict[str, Any]  # parameter -> value; BlockRV/LoopRV print as their names
    outputs: list[str] = field(default_factory=list)
    decision: list[int] | None = None
    line: int = 0  # where a parsed instruction came from (0: recorded, not parsed)

    def __str__(self) -> str:
        items = list(self.inputs.items())
        if self.kind in _LOOP_LISTS:
            args = [_fmt(v) for v in items[0][1]]
        else:
            args = [_fmt(items[0][1])] + [f"{k}={_fmt(v)}" for k, v in items[1:]]
        if self.decision is not None:
            args.append(f"decision={self.decision}")
        call = f"sch.{self.kind}({', '.join(args)})"
        if self.kind.startswith("sample_"):
            return f"{', '.join(self.outputs)} = {call}"
        return f"{call}  # -> {', '.join(self.outputs)}" if self.outputs else call


def _fmt(value: Any) -> str:
    if isinstance(value, _Name):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    name = getattr(value, "rv_name", None)
    if name is not None:
        return name
    if isinstance(value, str) or type(value).__name__ in ("BlockRV", "LoopRV"):
        return f'"{value}"'
    return repr(value)


@dataclass
class Trace:
    func_name: str
    instructions: list[Instruction] = field(default_factory=list)

    def append(self, instruction: Instruction) -> None:
        self.instructions.append(instruction)

    def __str__(self) -> str:
        return "\n".join([f"# schedule: {self.func_name}", *map(str, self.instructions)]) + "\n"

    @staticmethod
    def parse_all(text: str, source: str = "<trace>") -> list[Trace]:
        """The traces in `text`, in order."""
        traces: list[Trace] = []
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if stripped.startswith("# schedule:"):
                traces.append(Trace(stripped.split(":", 1)[1].strip()))
                continue
            if not stripped or stripped.startswith("#"):
                continue
            try:
                if not traces:
                    raise TraceError("expected '# schedule: <function>' first")
                instruction = _parse_line(stripped)
            except TraceError as e:
                e.line = number
                raise
            instruction.line = number
            traces[-1].append(instruction)
        return traces

    @staticmethod
    def parse(text: str, source: str = "<trace>") -> Trace:
        traces = Trace.parse_all(text, source)
        if len(traces) != 1:
            raise TraceError(f"{source}: expected one trace, found {len(traces)}")
        return traces[0]

    def apply(self, schedule) -> None:
        """Replay on `schedule` (a Schedule of a fresh copy of the function). A failing step
        raises `TraceError` whose `line` is the instruction's line in the parsed text."""
        from strata.transforms.tprog.nest import ScheduleError

        for ins, run in self._steps(schedule):
            try:
                run()
            except (ScheduleError, TraceError) as e:
                error = TraceError(str(e))
                error.line = ins.line
                raise error from None

    def _steps(self, schedule):
        env: dict[str, Any] = {}

        def resolve(value: Any) -> Any:
            if isinstance(value, list):
                return [resolve(v) for v in value]
            # a sampled variable: by name when parsed, an IntRV when recorded in this process
            name = value.id if isinstance(value, _Name) else getattr(value, "rv_name", None)
            if name is not None:
                if name not in env:
                    raise TraceError(f"'{name}' is used before it is sampled")
                return env[name]
            return value

        def step(ins: Instruction) -> None:
            method = getattr(schedule, ins.kind)
            inputs = {k: resolve(v) for k, v in ins.inputs.items()}
            if ins.kind in _LOOP_LISTS:
                args, kwargs = inputs["loops"], {}
            elif ins.kind.startswith("sample_"):
                args, kwargs = [], {**inputs, "decision": ins.decision}
            else:
                args, kwargs = [], inputs
            try:
                inspect.signature(method).bind(*args, **kwargs)
            except TypeError as e:
                raise TraceError(f"sch.{ins.kind}: {e}") from None
            result = method(*args, **kwargs)
            if ins.kind == "sample_perfect_tile":
                for name, value in zip(ins.outputs, result):
                    env[name] = value
            elif ins.kind == "sample_categorical":
                env[ins.outputs[0]] = result

        for ins in self.instructions:
            yield ins, (lambda ins=ins: step(ins))


class _Name(str):
    """A sampled variable named in a trace."""

    @property
    def id(self) -> str:
        return str(self)


_PARAMS = {
    "get_block": ["name"],
    "get_loops": ["block"],
    "split": ["loop", "factors"],
    "reorder": ["loops"],
    "fuse": ["loops"],
    "parallel": ["loop"],
    "vectorize": ["loop"],
    "unroll": ["loop"],
    "decompose_reduction": ["block", "loop"],
    "rfactor": ["block", "loop"],
    "cross_thread_reduction": ["block"],
    "merge": ["loops"],
    "compute_inline": ["block"],
    "blockize": ["loop"],
    "compute_at": ["block", "loop"],
    "reverse_compute_at": ["block", "loop"],
    "cache_read": ["block", "read_buffer_index", "scope"],
    "cache_write": ["block", "write_buffer_index", "scope"],
    "bind": ["loop", "thread_axis"],
    "add_unit_loop": ["block_or_loop"],
    "cooperative_fetch": ["block"],
    "reverse_compute_inline": ["block"],
    "sample_perfect_tile": ["loop", "n", "max_innermost_factor"],
    "sample_categorical": ["candidates"],
    "tensorize": ["block", "rows", "cols", "pack", "parallel", "vector_width", "intrinsic"],
}


def _literal(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, str, type(None))):
        return node.value
    if isinstance(node, ast.Name):
        return _Name(node.id)
    if isinstance(node, ast.List):
        return [_literal(e) for e in node.elts]
    raise TraceError(f"unsupported argument '{ast.unparse(node)}'")


def _parse_line(line: str) -> Instruction:
    code, _, produced = line.partition("  # ->")
    try:
        (stmt,) = ast.parse(code).body
    except (SyntaxError, ValueError):
        raise TraceError(f"not a schedule instruction: {line}") from None
    outputs: list[str] = []
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        names = target.elts if isinstance(target, ast.Tuple) else [target]
        if not all(isinstance(n, ast.Name) for n in names):
            raise TraceError("only names can be assigned")
        outputs = [n.id for n in names]  # type: ignore[attr-defined]
        call = stmt.value
    elif isinstance(stmt, ast.Expr):
        call = stmt.value
    else:
        raise TraceError(f"not a schedule instruction: {line}")
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == "sch"
    ):
        raise TraceError("expected a call 'sch.<primitive>(...)'")
    kind = call.func.attr
    params = _PARAMS.get(kind)
    if params is None:
        raise TraceError(f"unknown schedule primitive '{kind}'")
    args = [_literal(a) for a in call.args]
    kwargs = {k.arg: _literal(k.value) for k in call.keywords if k.arg}
    decision = kwargs.pop("decision", None)
    inputs: dict[str, Any] = {}
    if params == ["loops"]:
        inputs["loops"] = args
    else:
        if len(args) > len(params):
            raise TraceError(f"too many arguments to '{kind}'")
        inputs.update(zip(params, args))
        for key, value in kwargs.items():
            if key not in params:
                raise TraceError(f"'{kind}' has no parameter '{key}'")
            inputs[key] = value
    if produced.strip():
        outputs = [name.strip() for name in produced.split(",")]
    return Instruction(kind, inputs, outputs, decision)
