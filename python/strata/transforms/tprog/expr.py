"""Index expressions over named loops: the bindings of block iteration variables.

Schedules rewrite loops by name (`i` -> `i_0 * 8 + i_1`), so bindings are kept as small
expression trees over loop names, converted from and to MLIR affine expressions at the edges.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mlir import ir


@dataclass(frozen=True)
class Expr:
    """`op` is "var", "const", "add", "mul", "floordiv" or "mod"; `mul`, `floordiv` and `mod` take
    a constant right-hand side, as affine expressions do."""

    op: str
    args: tuple = ()

    # construction ------------------------------------------------------------------------------
    @staticmethod
    def var(name: str) -> Expr:
        return Expr("var", (name,))

    @staticmethod
    def const(value: int) -> Expr:
        return Expr("const", (value,))

    def __add__(self, other: Expr | int) -> Expr:
        other = _lift(other)
        if self.op == "const" and other.op == "const":
            return Expr.const(self.args[0] + other.args[0])
        if other.op == "const" and other.args[0] == 0:
            return self
        if self.op == "const" and self.args[0] == 0:
            return other
        return Expr("add", (self, other))

    def __mul__(self, factor: int) -> Expr:
        if self.op == "const":
            return Expr.const(self.args[0] * factor)
        if factor == 1:
            return self
        if factor == 0:
            return Expr.const(0)
        return Expr("mul", (self, factor))

    def __floordiv__(self, divisor: int) -> Expr:
        if self.op == "const":
            return Expr.const(self.args[0] // divisor)
        return self if divisor == 1 else Expr("floordiv", (self, divisor))

    def __mod__(self, modulus: int) -> Expr:
        if self.op == "const":
            return Expr.const(self.args[0] % modulus)
        return Expr.const(0) if modulus == 1 else Expr("mod", (self, modulus))

    # queries -----------------------------------------------------------------------------------
    def vars(self) -> set[str]:
        if self.op == "var":
            return {self.args[0]}
        if self.op == "const":
            return set()
        found: set[str] = set()
        for a in self.args:
            if isinstance(a, Expr):
                found |= a.vars()
        return found

    def substitute(self, mapping: Mapping[str, Expr]) -> Expr:
        if self.op == "var":
            return mapping.get(self.args[0], self)
        if self.op == "const":
            return self
        a = self.args[0].substitute(mapping)
        if self.op == "add":
            return a + self.args[1].substitute(mapping)
        return {"mul": a.__mul__, "floordiv": a.__floordiv__, "mod": a.__mod__}[self.op](
            self.args[1]
        )

    def bounds(self, extents: Mapping[str, int]) -> tuple[int, int]:
        """Inclusive (min, max) when each loop `v` ranges over [0, extents[v])."""
        if self.op == "var":
            return 0, extents[self.args[0]] - 1
        if self.op == "const":
            return self.args[0], self.args[0]
        lo, hi = self.args[0].bounds(extents)
        if self.op == "add":
            lo2, hi2 = self.args[1].bounds(extents)
            return lo + lo2, hi + hi2
        c = self.args[1]
        if self.op == "mul":
            return (lo * c, hi * c) if c >= 0 else (hi * c, lo * c)
        if self.op == "floordiv":
            return lo // c, hi // c
        return (lo, hi) if 0 <= lo and hi < c else (0, c - 1)

    def __str__(self) -> str:
        if self.op in ("var", "const"):
            return str(self.args[0])
        sym = {"add": "+", "mul": "*", "floordiv": "//", "mod": "%"}[self.op]
        return f"({self.args[0]} {sym} {self.args[1]})"

    # MLIR --------------------------------------------------------------------------------------
    def to_affine(self, dims: Mapping[str, int]) -> ir.AffineExpr:
        if self.op == "var":
            return ir.AffineDimExpr.get(dims[self.args[0]])
        if self.op == "const":
            return ir.AffineConstantExpr.get(self.args[0])
        a = self.args[0].to_affine(dims)
        if self.op == "add":
            return ir.AffineAddExpr.get(a, self.args[1].to_affine(dims))
        c = ir.AffineConstantExpr.get(self.args[1])
        make = {"mul": ir.AffineMulExpr, "floordiv": ir.AffineFloorDivExpr, "mod": ir.AffineModExpr}
        return make[self.op].get(a, c)


def _lift(value: Expr | int) -> Expr:
    return value if isinstance(value, Expr) else Expr.const(value)


def from_affine(expr: ir.AffineExpr, dims: list[Expr]) -> Expr | None:
    """Our form of an affine expression over `dims`; None if it uses symbols or ceildiv."""
    if isinstance(expr, ir.AffineDimExpr):
        return dims[expr.position]
    if isinstance(expr, ir.AffineConstantExpr):
        return Expr.const(expr.value)
    if not isinstance(
        expr, (ir.AffineAddExpr, ir.AffineMulExpr, ir.AffineFloorDivExpr, ir.AffineModExpr)
    ):
        return None
    lhs, rhs = from_affine(expr.lhs, dims), from_affine(expr.rhs, dims)
    if lhs is None or rhs is None:
        return None
    if isinstance(expr, ir.AffineAddExpr):
        return lhs + rhs
    if rhs.op != "const":
        if isinstance(expr, ir.AffineMulExpr) and lhs.op == "const":
            return rhs * lhs.args[0]
        return None
    c = rhs.args[0]
    if isinstance(expr, ir.AffineMulExpr):
        return lhs * c
    return lhs // c if isinstance(expr, ir.AffineFloorDivExpr) else lhs % c
