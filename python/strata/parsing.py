"""Parsing textual IR into a module with real file locations and located errors."""

from __future__ import annotations

import re

from mlir import ir

from strata.diagnostics import CompileError

_OP_LINE = re.compile(r"^\s*(//.*)?$")


def _wrap_in_module(text: str) -> str:
    """Wrap top-level ops in `module { ... }` without moving any line or column: the opening goes
    on the first blank line before the first op (or in front of line 1 when there is none)."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if not _OP_LINE.match(line):
            break
        if not line.strip():
            lines[i] = "module {"
            return "\n".join(lines) + "\n}"
    return "module {" + text + "\n}"


def parse_source(text: str, source_name: str, context: ir.Context) -> ir.Operation:
    """Parse `text` (a `builtin.module` or a list of top-level ops) named `source_name` into a
    `builtin.module` operation whose locations point into `source_name`."""
    try:
        op = ir.Operation.parse(text, source_name=source_name, context=context)
        if op.name != "builtin.module":
            raise ValueError("not a module")
    except (ir.MLIRError, ValueError):
        try:
            op = ir.Operation.parse(_wrap_in_module(text), source_name=source_name, context=context)
        except ir.MLIRError as e:
            raise CompileError.from_mlir_error(e) from None
    return op.operation
