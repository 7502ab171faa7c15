"""Errors and diagnostics: `CompileError`, location formatting, and collecting MLIR diagnostics.

Every user-facing error ends up as `file:line:col: error: message` (plus notes); the tools print
these and exit with 1. Passes raise `CompileError(message, location)` or emit through
`location.emit_error`; both reach the user the same way.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from mlir import ir


@dataclass(frozen=True)
class Diagnostic:
    severity: str  # "error", "warning", "remark" or "note"
    message: str
    file: str = ""
    line: int = 0
    col: int = 0
    notes: tuple[Diagnostic, ...] = field(default=())

    def format(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}: " if self.file else ""
        text = f"{where}{self.severity}: {self.message}"
        return "\n".join([text, *(n.format() for n in self.notes)])


def file_line_col(location: ir.Location | None) -> tuple[str, int, int]:
    """The first file:line:col inside `location` (through name, call-site and fused locations)."""
    if location is None:
        return ("", 0, 0)
    if location.is_a_file():
        return (location.filename, location.start_line, location.start_col)
    if location.is_a_name():
        return file_line_col(location.child_loc)
    if location.is_a_callsite():
        return file_line_col(location.caller)
    if location.is_a_fused():
        for child in location.locations:
            found = file_line_col(child)
            if found[0]:
                return found
    return ("", 0, 0)


def _unlined_name(location: ir.Location | None) -> str:
    """The name of a named location whose file position has no line (ONNX nodes: a model file
    has no source lines, the node name is what finds the op)."""
    if location is None:
        return ""
    if location.is_a_name():
        file, line, _ = file_line_col(location.child_loc)
        return location.name_str if file and line == 0 else ""
    if location.is_a_fused():
        for child in location.locations:
            name = _unlined_name(child)
            if name:
                return name
    return ""


def _with_name(message: str, location: ir.Location | None) -> str:
    name = _unlined_name(location)
    return f"{message} (node '{name}')" if name and name not in message else message


_SEVERITY = {"ERROR": "error", "WARNING": "warning", "REMARK": "remark", "NOTE": "note"}


def from_mlir(diag) -> Diagnostic:
    """Convert an MLIR `Diagnostic` or `DiagnosticInfo` to ours."""
    severity = _SEVERITY.get(str(diag.severity).rsplit(".", 1)[-1], "error")
    file, line, col = file_line_col(diag.location)
    notes = tuple(from_mlir(n) for n in diag.notes)
    return Diagnostic(severity, _with_name(diag.message, diag.location), file, line, col, notes)


class CompileError(Exception):
    """Bad input found while compiling; carries one or more located diagnostics."""

    def __init__(
        self,
        message: str,
        location: ir.Location | None = None,
        *,
        notes: tuple[Diagnostic, ...] = (),
        diagnostics: list[Diagnostic] | None = None,
    ):
        if diagnostics is None:
            file, line, col = file_line_col(location)
            message = _with_name(message, location)
            diagnostics = [Diagnostic("error", message, file, line, col, notes)]
        self.diagnostics = diagnostics
        super().__init__("\n".join(d.format() for d in diagnostics))

    @classmethod
    def from_mlir_error(
        cls, error: ir.MLIRError, extra: tuple[Diagnostic, ...] = ()
    ) -> CompileError:
        diags = [*extra, *(from_mlir(d) for d in error.error_diagnostics)]
        if not any(d.severity == "error" for d in diags):
            diags.append(Diagnostic("error", error.message.splitlines()[0].rstrip(":")))
        return cls(diags[0].message, diagnostics=diags)


@contextmanager
def collect_diagnostics(context: ir.Context) -> Iterator[list[Diagnostic]]:
    """Collect the diagnostics MLIR emits through the context's handler (warnings, remarks, and
    errors emitted outside a pass run) instead of printing them."""
    seen: list[Diagnostic] = []

    def handler(diag) -> bool:
        seen.append(from_mlir(diag))
        return True

    registration = context.attach_diagnostic_handler(handler)
    try:
        with collect_remarks(seen):
            yield seen
    finally:
        registration.detach()


def emit_error(op: ir.Operation | ir.OpView, message: str) -> None:
    """Emit a located error on `op` (collected by the running pass manager)."""
    op.location.emit_error(message)


# Remarks of Strata's Python passes (MLIR 22's Python Location can only emit errors).
_REMARK_SINKS: list[list[Diagnostic]] = []


def remarks_requested() -> bool:
    """True when someone collects remarks (strata-opt does) or `STRATA_REMARKS=1`."""
    return bool(_REMARK_SINKS) or os.environ.get("STRATA_REMARKS", "") not in ("", "0")


@contextmanager
def collect_remarks(into: list[Diagnostic] | None = None) -> Iterator[list[Diagnostic]]:
    """Collect the remarks emitted inside the `with` block into `into` (or a new list)."""
    sink: list[Diagnostic] = [] if into is None else into
    _REMARK_SINKS.append(sink)
    try:
        yield sink
    finally:
        _REMARK_SINKS.remove(sink)


def emit_remark(location: ir.Location, message: str, *, always: bool = False) -> None:
    """A remark at `location`: to the innermost collector, else to stderr when remarks are
    requested (or `always`: a problem the user should hear of, such as a missing library)."""
    file, line, col = file_line_col(location)
    remark = Diagnostic("remark", message, file, line, col)
    if _REMARK_SINKS:
        _REMARK_SINKS[-1].append(remark)
    elif always or remarks_requested():
        print(remark.format(), file=sys.stderr)
