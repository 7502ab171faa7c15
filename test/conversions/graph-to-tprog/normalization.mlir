// RUN: strata-opt %s --split-input-file --convert-graph-to-tprog | FileCheck %s

// A softmax is a max reduction into a row buffer, exp(x - max) into the output, a sum
// reduction into a second row buffer, and an in-place division; the axis is the innermost loop,
// vectorized (reductions reassociate), and exp is a polynomial LLVM can vectorize.
// CHECK-LABEL: func.func @softmax_rows
// CHECK: call @softmax(%{{.*}}, %{{.*}}) : (memref<4x10xf32>, memref<4x10xf32>) -> ()
// CHECK-LABEL: func.func private @softmax
// CHECK-SAME: (%[[X:.*]]: memref<4x10xf32>, %[[OUT:.*]]: memref<4x10xf32>) attributes {tprog.prim_func}
// CHECK-DAG: %[[MAX:.*]] = memref.alloc() : memref<4xf32>
// CHECK-DAG: %[[SUM:.*]] = memref.alloc() : memref<4xf32>
// CHECK: ^bb0(%[[I:.*]]: index, %{{.*}}: index):
// CHECK-NEXT: %[[NEG_INF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-NEXT: memref.store %[[NEG_INF]], %[[MAX]][%[[I]]]
// CHECK: }, {
// CHECK-NEXT: ^bb0(%[[VI:.*]]: index, %[[VK:.*]]: index):
// CHECK-NEXT: %[[L:.*]] = memref.load %[[X]][%[[VI]], %[[VK]]]
// CHECK-NEXT: %[[M:.*]] = memref.load %[[MAX]][%[[VI]]]
// CHECK-NEXT: %[[NEW:.*]] = arith.maximumf %[[M]], %[[L]] fastmath<reassoc> : f32
// CHECK-NEXT: memref.store %[[NEW]], %[[MAX]][%[[VI]]]
// CHECK: {dom = array<i64: 4, 10>, iter_types = ["spatial", "reduction"], name = "softmax_max"}
// CHECK-NEXT: } {tprog.kind = "vectorized", tprog.loop = "r1"}
// CHECK-NEXT: } {tprog.loop = "i0"}
// CHECK: memref.load %[[MAX]]
// CHECK: %[[D:.*]] = arith.subf
// CHECK: math.floor
// CHECK: arith.bitcast %{{.*}} : i32 to f32
// CHECK: %[[E:.*]] = arith.mulf
// CHECK: memref.store %[[E]], %[[OUT]]
// CHECK: {dom = array<i64: 4, 10>, iter_types = ["spatial", "spatial"], name = "softmax_exp"}
// CHECK-NEXT: } {tprog.loop = "i1"}
// CHECK-NEXT: } {tprog.loop = "i0_1"}
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: memref.store %[[ZERO]], %[[SUM]]
// CHECK: memref.load %[[OUT]]
// CHECK: memref.load %[[SUM]]
// CHECK: arith.addf
// CHECK: memref.store %{{.*}}, %[[SUM]]
// CHECK: {dom = array<i64: 4, 10>, iter_types = ["spatial", "reduction"], name = "softmax_sum"}
// CHECK-NEXT: } {tprog.kind = "vectorized", tprog.loop = "r1_1"}
// CHECK-NEXT: } {tprog.loop = "i0_2"}
// CHECK: %[[S:.*]] = memref.load %[[SUM]]
// CHECK: %[[V:.*]] = memref.load %[[OUT]]
// CHECK: %[[Q:.*]] = arith.divf %[[V]], %[[S]] : f32
// CHECK: memref.store %[[Q]], %[[OUT]]
// CHECK: {dom = array<i64: 4, 10>, iter_types = ["spatial", "spatial"], name = "softmax_div"}
// CHECK-NOT: memref.dealloc
// CHECK: return
func.func @softmax_rows(%x: tensor<4x10xf32>) -> tensor<4x10xf32> {
  %0 = "graph.softmax"(%x) {axis = -1 : i64} : (tensor<4x10xf32>) -> tensor<4x10xf32>
  return %0 : tensor<4x10xf32>
}

// -----

// A softmax along axis 0 reduces over the first dimension: the row buffers drop it, and the
// reduction loop (innermost) indexes the input's first dimension.
// CHECK-LABEL: func.func private @softmax
// CHECK-SAME: (%[[X:.*]]: memref<2x3x5xf32>, %{{.*}}: memref<2x3x5xf32>)
// CHECK: %[[MAX:.*]] = memref.alloc() : memref<3x5xf32>
// CHECK: }, {
// CHECK-NEXT: ^bb0(%[[VJ:.*]]: index, %[[VK:.*]]: index, %[[VR:.*]]: index):
// CHECK-NEXT: memref.load %[[X]][%[[VR]], %[[VJ]], %[[VK]]]
// CHECK-NEXT: memref.load %[[MAX]][%[[VJ]], %[[VK]]]
// CHECK: {dom = array<i64: 3, 5, 2>, iter_types = ["spatial", "spatial", "reduction"], name = "softmax_max"}
// CHECK-NEXT: } {tprog.kind = "vectorized", tprog.loop = "r0"}
// CHECK-NEXT: } {tprog.loop = "i2"}
// CHECK-NEXT: } {tprog.loop = "i1"}
func.func @softmax_axis0(%x: tensor<2x3x5xf32>) -> tensor<2x3x5xf32> {
  %0 = "graph.softmax"(%x) {axis = 0 : i64} : (tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// -----

// A layer_norm reduces over the trailing rank(weight) dims: a mean block and a variance block,
// each scaling its terms by 1/count, then (x - mean) * rsqrt(var + epsilon) * weight + bias.
// CHECK-LABEL: func.func @layer_norm_3d
// CHECK: call @layer_norm(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (memref<2x3x8xf32>, memref<3x8xf32>, memref<3x8xf32>, memref<2x3x8xf32>) -> ()
// CHECK-LABEL: func.func private @layer_norm
// CHECK-SAME: (%[[X:.*]]: memref<2x3x8xf32>, %[[W:.*]]: memref<3x8xf32>, %[[B:.*]]: memref<3x8xf32>, %[[OUT:.*]]: memref<2x3x8xf32>)
// CHECK-DAG: %[[MEAN:.*]] = memref.alloc() : memref<2xf32>
// CHECK-DAG: %[[VAR:.*]] = memref.alloc() : memref<2xf32>
// CHECK: memref.load %[[X]]
// CHECK: %[[INV:.*]] = arith.constant 0.0416666679 : f32
// CHECK: arith.mulf %{{.*}}, %[[INV]]
// CHECK: memref.store %{{.*}}, %[[MEAN]]
// CHECK: {dom = array<i64: 2, 3, 8>, iter_types = ["spatial", "reduction", "reduction"], name = "layer_norm_mean"}
// CHECK-NEXT: } {tprog.kind = "vectorized", tprog.loop = "r2"}
// CHECK-NEXT: } {tprog.loop = "r1"}
// CHECK-NEXT: } {tprog.loop = "i0"}
// CHECK: memref.load %[[MEAN]]
// CHECK: %[[C:.*]] = arith.subf
// CHECK: arith.mulf %[[C]], %[[C]] : f32
// CHECK: memref.store %{{.*}}, %[[VAR]]
// CHECK: {dom = array<i64: 2, 3, 8>, iter_types = ["spatial", "reduction", "reduction"], name = "layer_norm_var"}
// CHECK: }, {
// CHECK-NEXT: ^bb0(%{{.*}}: index, %[[VJ:.*]]: index, %[[VK:.*]]: index):
// CHECK: %[[V:.*]] = memref.load %[[VAR]]
// CHECK-NEXT: %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
// CHECK-NEXT: %[[VE:.*]] = arith.addf %[[V]], %[[EPS]] : f32
// CHECK-NEXT: %[[RSTD:.*]] = math.rsqrt %[[VE]] : f32
// CHECK-NEXT: %[[G:.*]] = memref.load %[[W]][%[[VJ]], %[[VK]]]
// CHECK: memref.load %[[B]][%[[VJ]], %[[VK]]]
// CHECK: memref.store %{{.*}}, %[[OUT]]
// CHECK: {dom = array<i64: 2, 3, 8>, iter_types = ["spatial", "spatial", "spatial"], name = "layer_norm_out"}
// CHECK-NOT: memref.dealloc
// CHECK: return
func.func @layer_norm_3d(%x: tensor<2x3x8xf32>, %w: tensor<3x8xf32>, %b: tensor<3x8xf32>) -> tensor<2x3x8xf32> {
  %0 = "graph.layer_norm"(%x, %w, %b) {epsilon = 1.0e-05 : f64} : (tensor<2x3x8xf32>, tensor<3x8xf32>, tensor<3x8xf32>) -> tensor<2x3x8xf32>
  return %0 : tensor<2x3x8xf32>
}

// -----

// A layer_norm over every dimension keeps its statistics in rank-0 buffers.
// CHECK-LABEL: func.func private @layer_norm
// CHECK: %[[MEAN:.*]] = memref.alloc() : memref<f32>
// CHECK: memref.store %{{.*}}, %[[MEAN]][] : memref<f32>
// CHECK: iter_types = ["reduction"], name = "layer_norm_mean"
func.func @layer_norm_all(%x: tensor<16xf32>, %w: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<16xf32> {
  %0 = "graph.layer_norm"(%x, %w, %b) {epsilon = 1.0e-03 : f64} : (tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  return %0 : tensor<16xf32>
}
