// RUN: strata-opt %s --split-input-file --convert-graph-to-tprog | FileCheck %s

// A sum over the last axis is one reduction block accumulating into the output: the init
// region stores 0, the body adds with reassociation, and the reduction loop is innermost and
// vectorized.
// CHECK-LABEL: func.func @sum_rows
// CHECK: call @reduce_sum(%{{.*}}, %{{.*}}) : (memref<4x10xf32>, memref<4xf32>) -> ()
// CHECK-LABEL: func.func private @reduce_sum
// CHECK-SAME: (%[[X:.*]]: memref<4x10xf32>, %[[OUT:.*]]: memref<4xf32>) attributes {tprog.prim_func}
// CHECK-NOT: memref.collapse_shape
// CHECK: ^bb0(%[[I:.*]]: index, %{{.*}}: index):
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: memref.store %[[ZERO]], %[[OUT]][%[[I]]]
// CHECK: }, {
// CHECK-NEXT: ^bb0(%[[VI:.*]]: index, %[[VK:.*]]: index):
// CHECK-NEXT: %[[ACC:.*]] = memref.load %[[OUT]][%[[VI]]]
// CHECK-NEXT: %[[L:.*]] = memref.load %[[X]][%[[VI]], %[[VK]]]
// CHECK-NEXT: %[[S:.*]] = arith.addf %[[ACC]], %[[L]] fastmath<reassoc> : f32
// CHECK-NEXT: memref.store %[[S]], %[[OUT]][%[[VI]]]
// CHECK: {dom = array<i64: 4, 10>, iter_types = ["spatial", "reduction"], name = "reduce_sum"}
// CHECK-NEXT: } {tprog.kind = "vectorized", tprog.loop = "r1"}
// CHECK-NEXT: } {tprog.loop = "i0"}
// CHECK-NEXT: return
func.func @sum_rows(%x: tensor<4x10xf32>) -> tensor<4xf32> {
  %0 = "graph.reduce_sum"(%x) {axes = array<i64: -1>, keepdim = false} : (tensor<4x10xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// A max over the first axis keeps the contiguous kept dimension innermost (independent lanes)
// and runs the reduction loop just outside it; the keepdim output is viewed without its size-1
// dimension. The maximum propagates NaN.
// CHECK-LABEL: func.func private @reduce_max
// CHECK-SAME: (%[[X:.*]]: memref<6x5xf32>, %[[OUT:.*]]: memref<1x5xf32>)
// CHECK: %[[V:.*]] = memref.collapse_shape %[[OUT]] {{\[\[}}0, 1]] : memref<1x5xf32> into memref<5xf32>
// CHECK: ^bb0(%{{.*}}: index, %[[J:.*]]: index):
// CHECK-NEXT: %[[NEG_INF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-NEXT: memref.store %[[NEG_INF]], %[[V]][%[[J]]]
// CHECK: }, {
// CHECK-NEXT: ^bb0(%[[VR:.*]]: index, %[[VJ:.*]]: index):
// CHECK-NEXT: %[[ACC:.*]] = memref.load %[[V]][%[[VJ]]]
// CHECK-NEXT: %[[L:.*]] = memref.load %[[X]][%[[VR]], %[[VJ]]]
// CHECK-NEXT: %[[M:.*]] = arith.maximumf %[[ACC]], %[[L]] fastmath<reassoc> : f32
// CHECK-NEXT: memref.store %[[M]], %[[V]][%[[VJ]]]
// CHECK: {dom = array<i64: 6, 5>, iter_types = ["reduction", "spatial"], name = "reduce_max"}
// CHECK-NEXT: } {tprog.loop = "i1"}
// CHECK-NEXT: } {tprog.loop = "r0"}
func.func @max_cols(%x: tensor<6x5xf32>) -> tensor<1x5xf32> {
  %0 = "graph.reduce_max"(%x) {axes = array<i64: 0>, keepdim = true} : (tensor<6x5xf32>) -> tensor<1x5xf32>
  return %0 : tensor<1x5xf32>
}

// -----

// A mean over H and W of NCHW: adjacent dimensions of one kind are collapsed (N*C kept, H*W
// reduced) so the reduction is one vectorized loop of 20; the sum is then divided by the count
// in a spatial block, in place.
// CHECK-LABEL: func.func private @reduce_mean
// CHECK-SAME: (%[[X:.*]]: memref<2x3x4x5xf32>, %[[OUT:.*]]: memref<2x3x1x1xf32>)
// CHECK: %[[XV:.*]] = memref.collapse_shape %[[X]] {{\[\[}}0, 1], [2, 3]] : memref<2x3x4x5xf32> into memref<6x20xf32>
// CHECK: %[[OV:.*]] = memref.collapse_shape %[[OUT]] {{\[\[}}0, 1, 2, 3]] : memref<2x3x1x1xf32> into memref<6xf32>
// CHECK: memref.load %[[XV]]
// CHECK: arith.addf %{{.*}}, %{{.*}} fastmath<reassoc> : f32
// CHECK: {dom = array<i64: 6, 20>, iter_types = ["spatial", "reduction"], name = "reduce_mean"}
// CHECK-NEXT: } {tprog.kind = "vectorized", tprog.loop = "r2"}
// CHECK: %[[S:.*]] = memref.load %[[OV]]
// CHECK-NEXT: %[[COUNT:.*]] = arith.constant 2.000000e+01 : f32
// CHECK-NEXT: %[[M:.*]] = arith.divf %[[S]], %[[COUNT]] : f32
// CHECK-NEXT: memref.store %[[M]], %[[OV]]
// CHECK: {dom = array<i64: 6>, iter_types = ["spatial"], name = "reduce_mean_div"}
func.func @mean_hw(%x: tensor<2x3x4x5xf32>) -> tensor<2x3x1x1xf32> {
  %0 = "graph.reduce_mean"(%x) {axes = array<i64: 2, 3>, keepdim = true} : (tensor<2x3x4x5xf32>) -> tensor<2x3x1x1xf32>
  return %0 : tensor<2x3x1x1xf32>
}

// -----

// An f16 sum of everything accumulates in a rank-0 f32 buffer, rounded into the output by a
// block without loops.
// CHECK-LABEL: func.func private @reduce_sum
// CHECK-SAME: (%[[X:.*]]: memref<8x16xf16>, %[[OUT:.*]]: memref<f16>)
// CHECK: %[[XV:.*]] = memref.collapse_shape %[[X]] {{\[\[}}0, 1]] : memref<8x16xf16> into memref<128xf16>
// CHECK: %[[ACC:.*]] = memref.alloc() : memref<f32>
// CHECK: memref.load %[[XV]]
// CHECK-NEXT: arith.extf %{{.*}} : f16 to f32
// CHECK: memref.store %{{.*}}, %[[ACC]][] : memref<f32>
// CHECK: iter_types = ["reduction"], name = "reduce_sum"
// CHECK: %[[S:.*]] = memref.load %[[ACC]][] : memref<f32>
// CHECK-NEXT: %[[H:.*]] = arith.truncf %[[S]] : f32 to f16
// CHECK-NEXT: memref.store %[[H]], %[[OUT]][] : memref<f16>
// CHECK: {dom = array<i64>, iter_types = [], name = "reduce_sum_round"}
func.func @sum_f16(%x: tensor<8x16xf16>) -> tensor<f16> {
  %0 = "graph.reduce_sum"(%x) {axes = array<i64: 0, 1>, keepdim = false} : (tensor<8x16xf16>) -> tensor<f16>
  return %0 : tensor<f16>
}

// -----

// A log_softmax: a max reduction, a sum of exp(x - max) computed inside the reduction (nothing
// stored), one log per row turning the sum into max + log(sum), and x minus that.
// CHECK-LABEL: func.func private @log_softmax_1
// CHECK-SAME: (%[[X:.*]]: memref<4x10xf32>, %[[OUT:.*]]: memref<4x10xf32>)
// CHECK-DAG: %[[MAX:.*]] = memref.alloc() : memref<4xf32>
// CHECK-DAG: %[[LSE:.*]] = memref.alloc() : memref<4xf32>
// CHECK: arith.maximumf
// CHECK: name = "log_softmax_max"
// CHECK-NEXT: } {tprog.kind = "vectorized", tprog.loop = "r1"}
// CHECK: }, {
// CHECK-NEXT: ^bb0(%[[VI:.*]]: index, %[[VK:.*]]: index):
// CHECK-NEXT: %[[L:.*]] = memref.load %[[X]][%[[VI]], %[[VK]]]
// CHECK-NEXT: %[[M:.*]] = memref.load %[[MAX]][%[[VI]]]
// CHECK-NEXT: arith.subf %[[L]], %[[M]] : f32
// CHECK: math.floor
// CHECK: %[[ACC:.*]] = memref.load %[[LSE]][%[[VI]]]
// CHECK-NEXT: %[[S:.*]] = arith.addf %[[ACC]], %{{.*}} fastmath<reassoc> : f32
// CHECK-NEXT: memref.store %[[S]], %[[LSE]][%[[VI]]]
// CHECK: name = "log_softmax_sum"
// CHECK-NEXT: } {tprog.kind = "vectorized", tprog.loop = "r1_1"}
// CHECK: }, {
// CHECK-NEXT: ^bb0(%[[R:.*]]: index):
// CHECK-NEXT: %[[SUM:.*]] = memref.load %[[LSE]][%[[R]]]
// CHECK-NOT: math.log
// CHECK: arith.bitcast %{{.*}} : f32 to i32
// CHECK: %[[RM:.*]] = memref.load %[[MAX]][%[[R]]]
// CHECK-NEXT: %[[T:.*]] = arith.addf %[[RM]], %{{.*}} : f32
// CHECK-NEXT: memref.store %[[T]], %[[LSE]][%[[R]]]
// CHECK: {dom = array<i64: 4>, iter_types = ["spatial"], name = "log_softmax_lse"}
// CHECK: %[[Z:.*]] = memref.load %[[LSE]]
// CHECK-NEXT: %[[XL:.*]] = memref.load %[[X]]
// CHECK-NEXT: %[[Y:.*]] = arith.subf %[[XL]], %[[Z]] : f32
// CHECK-NEXT: memref.store %[[Y]], %[[OUT]]
// CHECK: {dom = array<i64: 4, 10>, iter_types = ["spatial", "spatial"], name = "log_softmax_out"}
func.func @log_softmax(%x: tensor<4x10xf32>) -> tensor<4x10xf32> {
  %0 = "graph.log_softmax"(%x) {axis = 1 : i64} : (tensor<4x10xf32>) -> tensor<4x10xf32>
  return %0 : tensor<4x10xf32>
}
