"""The four Strata dialects: IRDL definitions loaded at run time, and their Python op classes.

`make_context()` is the one way Strata creates a `Context`: upstream dialects plus `graph`, `tprog`,
`libcall` and `hwprim` loaded from `dialects/*.irdl.mlir`. Loading the same IRDL twice into one
context aborts the process (the wheels are built with assertions), so `load_dialects` checks first.
"""

from __future__ import annotations

from pathlib import Path

from mlir import ir
from mlir.dialects import _ods_common, irdl

DIALECTS = ("graph", "tprog", "libcall", "hwprim")

# Dialect Python modules are found as `strata.dialects.<namespace>` so that `op.opview` returns our
# op classes (the bindings import `<prefix>.<namespace>` on first lookup).
_ods_common._cext.globals.append_dialect_search_prefix("strata.dialects")


def irdl_dir() -> Path:
    """Where `<dialect>.irdl.mlir` live: the source tree's `dialects/`, or the packaged copy."""
    source_tree = Path(__file__).resolve().parents[3] / "dialects"
    if (source_tree / "graph.irdl.mlir").is_file():
        return source_tree
    return Path(__file__).resolve().parent / "irdl"


def irdl_files() -> list[Path]:
    return [irdl_dir() / f"{name}.irdl.mlir" for name in DIALECTS]


def load_dialects(context: ir.Context) -> None:
    """Load the Strata dialects into `context`, once; later calls are no-ops."""
    if context.is_registered_operation("graph.matmul"):
        return
    text = "\n".join(path.read_text() for path in irdl_files())
    with context, ir.Location.unknown():
        irdl.load_dialects(ir.Module.parse(text))
    # Make the op classes known before the first `opview` lookup.
    from strata.dialects import graph, hwprim, libcall, tprog  # noqa: F401


def make_context() -> ir.Context:
    """A new context with every upstream dialect and the Strata dialects loaded."""
    context = ir.Context()
    load_dialects(context)
    return context
