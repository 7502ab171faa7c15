"""Parsing textual IR into a module with real file locations and located errors."""

from __future__ import annotations

import re

from mlir import ir

from strata.diagnostics import CompileError

_OP_LINE = re.compile(r"^\s*(//.*)?$")
# An op of ours written in custom form (`%r = graph.relu %x`): IRDL ops have no custom syntax,
# and the parser then fails without any diagnostic.
_CUSTOM_FORM = re.compile(
    r"^(?P<lead>\s*(?:%[^=]+=\s*)?)(?P<op>(?:graph|tprog|libcall|hwprim)\.\w+)\b"
)


def _wrap_in_module(text: str) -> str:
    """Wrap top-level ops in `module { ... }` without moving any line or column: the opening goes
    on the first blank line before the first op (or in front of line 1 when there is none)."""
    lines = text.split("\n")
    # A trailing `{-# dialect_resources ... #-}` section stays outside the module.
    resources = next((i for i, line in enumerate(lines) if line.startswith("{-#")), len(lines))
    body, tail = lines[:resources], lines[resources:]
    closing = ["}", *tail] if tail else ["}"]
    for i, line in enumerate(body):
        if not _OP_LINE.match(line):
            break
        if not line.strip():
            body[i] = "module {"
            return "\n".join(body + closing)
    return "module {" + "\n".join(body + closing)


_SHAPED_TYPE = re.compile(r"\b(?:tensor|memref|vector)<((?:\d+x)+)")
_MAX_ELEMENTS = (1 << 63) - 1


def _check_type_sizes(text: str, source_name: str) -> None:
    """Refuse a shaped type whose element count overflows int64: upstream's parser asserts (and
    aborts the process) on a dense attribute of such a type (found by the driver fuzzer)."""
    for number, line in enumerate(text.split("\n"), start=1):
        if "<" not in line:
            continue
        for m in _SHAPED_TYPE.finditer(line):
            count = 1
            for d in m.group(1).split("x")[:-1]:
                count *= int(d)
            if count > _MAX_ELEMENTS:
                raise CompileError(
                    f"the shape {m.group(1).rstrip('x')} has more elements than fit in 64 bits",
                    ir.Location.file(source_name, number, m.start() + 1),
                )


def _check_metadata_strings(text: str, source_name: str) -> None:
    """Refuse an unterminated string in the file metadata section (`{-# dialect_resources ...`):
    upstream's parser asserts on it and aborts the process (found by the driver fuzzer)."""
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("{-#")), None)
    if start is None:
        return
    for number, line in enumerate(lines[start:], start=start + 1):
        quote, i = None, 0
        while i < len(line):
            if quote is None and line[i] == '"':
                quote = i
            elif quote is not None and line[i] == "\\":
                i += 1
            elif quote is not None and line[i] == '"':
                quote = None
            i += 1
        if quote is not None:
            raise CompileError(
                "unterminated string in the file metadata section ('{-# ... #-}')",
                ir.Location.file(source_name, number, quote + 1),
            )


def parse_source(text: str, source_name: str, context: ir.Context) -> ir.Operation:
    """Parse `text` (a `builtin.module` or a list of top-level ops) named `source_name` into a
    `builtin.module` operation whose locations point into `source_name`."""
    with context:
        _check_metadata_strings(text, source_name)
        _check_type_sizes(text, source_name)
    try:
        op = ir.Operation.parse(text, source_name=source_name, context=context)
        if op.name != "builtin.module":
            raise ValueError("not a module")
    except (ir.MLIRError, ValueError):
        try:
            op = ir.Operation.parse(_wrap_in_module(text), source_name=source_name, context=context)
        except ir.MLIRError as e:
            if not e.error_diagnostics:
                raise _undiagnosed_parse_error(text, source_name) from None
            raise CompileError.from_mlir_error(e) from None
    return op.operation


def _undiagnosed_parse_error(text: str, source_name: str) -> CompileError:
    from strata.diagnostics import Diagnostic

    for number, line in enumerate(text.split("\n"), start=1):
        m = _CUSTOM_FORM.match(line)
        if m:
            op = m.group("op")
            message = (
                f"'{op}' has no custom assembly format (IRDL ops print and parse only in "
                f'generic form): write "{op}"(...) : (...) -> ...'
            )
            diag = Diagnostic("error", message, source_name, number, len(m.group("lead")) + 1)
            return CompileError(message, diagnostics=[diag])
    diag = Diagnostic("error", "unable to parse the input", source_name, 1, 1)
    return CompileError(diag.message, diagnostics=[diag])
