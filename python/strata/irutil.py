"""Small helpers over the MLIR Python bindings, kept in one place (the compatibility layer)."""

from __future__ import annotations

from collections.abc import Iterator

from mlir import ir


def walk(op: ir.Operation | ir.OpView) -> Iterator[ir.Operation]:
    """Pre-order walk that lets exceptions through (callbacks of `Operation.walk` wrap them)."""
    op = op.operation
    yield op
    for region in op.regions:
        for block in region.blocks:
            for inner in list(block.operations):
                yield from walk(inner)


def module_body(module: ir.Operation | ir.Module) -> ir.Block:
    return module.operation.regions[0].blocks[0]


def symbol_name(op: ir.Operation | ir.OpView) -> str:
    return ir.StringAttr(op.operation.attributes["sym_name"]).value


def functions(module: ir.Operation | ir.Module) -> list[ir.Operation]:
    return [
        op.operation for op in module_body(module).operations if op.operation.name == "func.func"
    ]


def lookup_function(module: ir.Operation | ir.Module, name: str) -> ir.Operation | None:
    for fn in functions(module):
        if symbol_name(fn) == name:
            return fn
    return None


def enclosing_module(op: ir.Operation) -> ir.Operation | None:
    while op is not None and op.name != "builtin.module":
        op = op.parent
    return op


def is_declaration(fn: ir.Operation) -> bool:
    return not fn.regions[0].blocks


def is_public(fn: ir.Operation) -> bool:
    vis = fn.attributes["sym_visibility"] if "sym_visibility" in fn.attributes else None
    return vis is None or ir.StringAttr(vis).value == "public"


def callee_of(op: ir.Operation) -> str:
    return ir.FlatSymbolRefAttr(op.attributes["callee"]).value


def is_dense_resource(attr: ir.Attribute) -> bool:
    try:
        ir.DenseResourceElementsAttr(attr)
    except ValueError:
        return False
    return True


def elements_type(attr: ir.Attribute) -> ir.Type | None:
    """The shaped type of a `dense` or `dense_resource` attribute, else None."""
    if isinstance(attr, ir.DenseElementsAttr):
        return attr.type
    if is_dense_resource(attr):
        return ir.DenseResourceElementsAttr(attr).type
    return None


def unique_symbol(base: str, taken: set[str]) -> str:
    """`base`, or `base_1`, `base_2`, ... whichever is not in `taken`; records the choice."""
    name, n = base, 0
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


def symbol_names(module: ir.Operation | ir.Module) -> set[str]:
    return {
        symbol_name(op)
        for op in module_body(module).operations
        if "sym_name" in op.operation.attributes
    }


def index_constant(value: int) -> ir.Value:
    from mlir.dialects import arith

    return arith.ConstantOp(ir.IndexType.get(), value).result


def float_constant(element_type: ir.Type, value: float) -> ir.Value:
    from mlir.dialects import arith

    return arith.ConstantOp(element_type, value).result


def erase(op: ir.Operation | ir.OpView) -> None:
    """Erase `op`; MLIR aborts the process when a result still has uses, so check first."""
    op = op.operation
    for result in op.results:
        users = [u.owner.operation.name for u in result.uses]
        if users:
            raise RuntimeError(f"internal: erasing '{op.name}' whose result is used by {users}")
    op.erase()
