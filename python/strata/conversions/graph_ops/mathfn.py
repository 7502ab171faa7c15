"""Elementary functions as plain arithmetic, so that LLVM's loop vectorizer can vectorize them
(`math.exp` becomes a call to `expf` per element, which it cannot)."""

from __future__ import annotations

from mlir import ir
from mlir.dialects import arith
from mlir.dialects import math as mathd

from strata.irutil import float_constant

# Cephes expf: exp(x) = 2^n * p(r), x = n ln2 + r, |r| <= ln2 / 2; about 1 ulp over the range.
_LN2_HI, _LN2_LO, _LOG2E = 0.693359375, -2.12194440e-4, 1.44269504088896341
_P = (
    1.9875691500e-4,
    1.3981999507e-3,
    8.3334519073e-3,
    4.1665795894e-2,
    1.6666665459e-1,
    5.0000001201e-1,
)


def exp(x: ir.Value) -> ir.Value:
    """exp(x) for f32 by range reduction and a polynomial; other types use `math.exp`."""
    t = x.type
    if str(t) != "f32":
        return mathd.ExpOp(x).result

    def c(v: float) -> ir.Value:
        return float_constant(t, v)

    x = arith.MinimumFOp(arith.MaximumFOp(x, c(-87.33654)).result, c(88.72283)).result
    n = mathd.FloorOp(arith.AddFOp(arith.MulFOp(x, c(_LOG2E)).result, c(0.5)).result).result
    r = arith.SubFOp(x, arith.MulFOp(n, c(_LN2_HI)).result).result
    r = arith.SubFOp(r, arith.MulFOp(n, c(_LN2_LO)).result).result
    p = c(_P[0])
    for coef in _P[1:]:
        p = arith.AddFOp(arith.MulFOp(p, r).result, c(coef)).result
    r2 = arith.MulFOp(r, r).result
    y = arith.AddFOp(arith.AddFOp(arith.MulFOp(p, r2).result, r).result, c(1.0)).result
    i32 = ir.IntegerType.get_signless(32)
    bits = arith.AddIOp(arith.FPToSIOp(i32, n).result, arith.ConstantOp(i32, 127).result).result
    scale = arith.BitcastOp(t, arith.ShLIOp(bits, arith.ConstantOp(i32, 23).result).result).result
    return arith.MulFOp(y, scale).result
