// RUN: strata-opt %s --split-input-file --convert-graph-to-tprog | FileCheck %s

// A tanh is one spatial block of plain arithmetic (no math.tanh, which becomes a libm call
// per element): an odd polynomial below 0.625, 1 - 2 / (exp(2|x|) + 1) with x's sign above,
// exp itself a polynomial with a 2^n scale built from the exponent bits; a select picks.
// CHECK-LABEL: func.func private @tanh_1
// CHECK-SAME: (%[[X:.*]]: memref<4x8xf32>, %[[OUT:.*]]: memref<4x8xf32>) attributes {tprog.prim_func}
// CHECK-NOT: math.tanh
// CHECK: ^bb0(%[[I:.*]]: index, %[[J:.*]]: index):
// CHECK-NEXT: omp.terminator
// CHECK: ^bb0(%[[VI:.*]]: index, %[[VJ:.*]]: index):
// CHECK-NEXT: %[[L:.*]] = memref.load %[[X]][%[[VI]], %[[VJ]]]
// CHECK-NEXT: %[[ABS:.*]] = math.absf %[[L]] : f32
// CHECK-NEXT: %[[SQ:.*]] = arith.mulf %[[L]], %[[L]] : f32
// CHECK: arith.mulf %{{.*}}, %[[SQ]] fastmath<contract> : f32
// CHECK: %[[SMALL:.*]] = arith.addf %[[L]], %{{.*}} : f32
// CHECK: math.floor
// CHECK: arith.bitcast %{{.*}} : i32 to f32
// CHECK: arith.divf
// CHECK: %[[LARGE:.*]] = math.copysign %{{.*}}, %[[L]] : f32
// CHECK: %[[SPLIT:.*]] = arith.constant 6.250000e-01 : f32
// CHECK-NEXT: %[[IS_SMALL:.*]] = arith.cmpf olt, %[[ABS]], %[[SPLIT]] : f32
// CHECK-NEXT: %[[Y:.*]] = arith.select %[[IS_SMALL]], %[[SMALL]], %[[LARGE]] : f32
// CHECK-NEXT: memref.store %[[Y]], %[[OUT]][%[[VI]], %[[VJ]]]
// CHECK: {dom = array<i64: 4, 8>, iter_types = ["spatial", "spatial"], name = "tanh"}
// CHECK-NEXT: } {tprog.loop = "i1"}
// CHECK-NEXT: } {tprog.loop = "i0"}
func.func @tanh(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = "graph.tanh"(%x) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// gelu (erf form) is x * Phi(x): x is clamped to [-15, 15], Phi is 1/2 + erf(z)/2 near 0 and
// erfc(|z|) / 2 (t = 1 / (1 + |z| / 2), a polynomial in t, exp(-x^2 / 2) from x split into
// 12-bit halves) in the tails; math.erf has no lowering to LLVM and never appears.
// CHECK-LABEL: func.func private @gelu_1
// CHECK-SAME: (%[[X:.*]]: memref<16xf32>, %[[OUT:.*]]: memref<16xf32>)
// CHECK-NOT: math.erf
// CHECK: %[[L:.*]] = memref.load %[[X]]
// CHECK: %[[LO:.*]] = arith.constant -1.500000e+01 : f32
// CHECK-NEXT: arith.cmpf ogt, %[[L]], %[[LO]] : f32
// CHECK: %[[MASK:.*]] = arith.constant -4096 : i32
// CHECK-NEXT: arith.andi %{{.*}}, %[[MASK]] : i32
// CHECK: %[[T:.*]] = arith.divf
// CHECK: math.floor
// CHECK: %[[Y:.*]] = arith.mulf %[[L]], %{{.*}} : f32
// CHECK-NEXT: memref.store %[[Y]], %[[OUT]]
// CHECK: name = "gelu"
func.func @gelu(%x: tensor<16xf32>) -> tensor<16xf32> {
  %0 = "graph.gelu"(%x) {approximate = "none"} : (tensor<16xf32>) -> tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

// gelu's tanh form is computed as x * sigmoid(2u), 2u = x (a + b x^2): the same value as
// 0.5 x (1 + tanh(u)) without its cancellation for negative x. The sigmoid is
// select(2u >= 0, 1, e) / (1 + e) with e = exp(-|2u|), which never overflows.
// CHECK-LABEL: func.func private @gelu
// CHECK-SAME: (%[[X:.*]]: memref<16xf32>, %[[OUT:.*]]: memref<16xf32>)
// CHECK-NOT: math.tanh
// CHECK: %[[L:.*]] = memref.load %[[X]]
// CHECK-NEXT: %[[SQ:.*]] = arith.mulf %[[L]], %[[L]] : f32
// CHECK: %[[U2:.*]] = arith.mulf %[[L]], %{{.*}} : f32
// CHECK-NEXT: %[[ABS:.*]] = math.absf %[[U2]] : f32
// CHECK-NEXT: arith.negf %[[ABS]] : f32
// CHECK: %[[POS:.*]] = arith.cmpf oge, %[[U2]], %{{.*}} : f32
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[NUM:.*]] = arith.select %[[POS]], %[[ONE]], %[[E:.*]] : f32
// CHECK: %[[DEN:.*]] = arith.addf %{{.*}}, %[[E]] : f32
// CHECK-NEXT: %[[S:.*]] = arith.divf %[[NUM]], %[[DEN]] : f32
// CHECK-NEXT: %[[Y:.*]] = arith.mulf %[[L]], %[[S]] : f32
// CHECK-NEXT: memref.store %[[Y]], %[[OUT]]
// CHECK: name = "gelu"
func.func @gelu_tanh(%x: tensor<16xf32>) -> tensor<16xf32> {
  %0 = "graph.gelu"(%x) {approximate = "tanh"} : (tensor<16xf32>) -> tensor<16xf32>
  return %0 : tensor<16xf32>
}

// -----

// f16 is computed in f32 and rounded back, as PyTorch does on CPU.
// CHECK-LABEL: func.func private @sigmoid
// CHECK-SAME: (%[[X:.*]]: memref<16xf16>, %[[OUT:.*]]: memref<16xf16>)
// CHECK: %[[L:.*]] = memref.load %[[X]]
// CHECK-NEXT: %[[W:.*]] = arith.extf %[[L]] : f16 to f32
// CHECK: %[[S:.*]] = arith.divf %{{.*}}, %{{.*}} : f32
// CHECK-NEXT: %[[N:.*]] = arith.truncf %[[S]] : f32 to f16
// CHECK-NEXT: memref.store %[[N]], %[[OUT]]
func.func @sigmoid_f16(%x: tensor<16xf16>) -> tensor<16xf16> {
  %0 = "graph.sigmoid"(%x) : (tensor<16xf16>) -> tensor<16xf16>
  return %0 : tensor<16xf16>
}

// -----

// maximum broadcasts like add and propagates NaN (arith.maximumf); pow stays a math.powf
// (a powf call per element); rsqrt is math.rsqrt, which convert-to-llvm expands to
// 1 / sqrt(x).
// CHECK-LABEL: func.func private @rsqrt
// CHECK: %[[R:.*]] = math.rsqrt %{{.*}} : f32
// CHECK-NEXT: memref.store %[[R]]
// CHECK-LABEL: func.func private @pow
// CHECK: %[[P:.*]] = math.powf %{{.*}}, %{{.*}} : f32
// CHECK-NEXT: memref.store %[[P]]
// CHECK-LABEL: func.func private @maximum
// CHECK-SAME: (%[[X:.*]]: memref<4x8xf32>, %[[Y:.*]]: memref<4x1xf32>, %[[OUT:.*]]: memref<4x8xf32>)
// CHECK: }, {
// CHECK-NEXT: ^bb0(%[[VI:.*]]: index, %[[VJ:.*]]: index):
// CHECK-NEXT: %[[A:.*]] = memref.load %[[X]][%[[VI]], %[[VJ]]]
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[B:.*]] = memref.load %[[Y]][%[[VI]], %[[ZERO]]]
// CHECK-NEXT: %[[M:.*]] = arith.maximumf %[[A]], %[[B]] : f32
// CHECK-NEXT: memref.store %[[M]], %[[OUT]][%[[VI]], %[[VJ]]]
func.func @binary(%x: tensor<4x8xf32>, %y: tensor<4x1xf32>) -> tensor<4x8xf32> {
  %0 = "graph.maximum"(%x, %y) : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %1 = "graph.pow"(%0, %y) : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %2 = "graph.rsqrt"(%1) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %2 : tensor<4x8xf32>
}

// -----

// A fused chain of unary ops is one tensor program: a block per op, the intermediate in a
// local buffer, the last block writing the output argument.
// CHECK-LABEL: func.func private @fused_erf_exp
// CHECK-SAME: (%[[X:.*]]: memref<8xf32>, %[[OUT:.*]]: memref<8xf32>) attributes {tprog.prim_func}
// CHECK: %[[TMP:.*]] = memref.alloc() : memref<8xf32>
// CHECK: memref.load %[[X]]
// CHECK: memref.store %{{.*}}, %[[TMP]]
// CHECK: name = "erf"
// CHECK: memref.load %[[TMP]]
// CHECK: memref.store %{{.*}}, %[[OUT]]
// CHECK: name = "exp"
// CHECK-NOT: graph.
func.func @chain(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = call @fused_erf_exp(%x) : (tensor<8xf32>) -> tensor<8xf32>
  return %0 : tensor<8xf32>
}
func.func private @fused_erf_exp(%x: tensor<8xf32>) -> tensor<8xf32> attributes {graph.fused} {
  %0 = "graph.erf"(%x) : (tensor<8xf32>) -> tensor<8xf32>
  %1 = "graph.exp"(%0) : (tensor<8xf32>) -> tensor<8xf32>
  return %1 : tensor<8xf32>
}
