// RUN: strata-opt %s --split-input-file --convert-graph-to-tprog | FileCheck %s

// A matmul becomes a call, on buffers, of a prim func with an i/j/k loop nest around a
// reduction block.
// CHECK-LABEL: func.func @mm
// CHECK-SAME: (%[[A:.*]]: tensor<4x2xf32>, %[[B:.*]]: tensor<2x8xf32>)
// CHECK-NOT: graph.
// CHECK: %[[BA:.*]] = bufferization.to_buffer %[[A]] read_only : tensor<4x2xf32> to memref<4x2xf32>
// CHECK: %[[BB:.*]] = bufferization.to_buffer %[[B]] read_only
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<4x8xf32>
// CHECK: call @matmul(%[[BA]], %[[BB]], %[[OUT]]) : (memref<4x2xf32>, memref<2x8xf32>, memref<4x8xf32>) -> ()
// CHECK: %[[R:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: return %[[R]]
// CHECK-LABEL: func.func private @matmul
// CHECK-SAME: (%[[LHS:.*]]: memref<4x2xf32>, %[[RHS:.*]]: memref<2x8xf32>, %[[C:.*]]: memref<4x8xf32>) attributes {tprog.prim_func}
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for
// CHECK: "tprog.block"
// CHECK: memref.store %{{.*}}, %[[C]]
// CHECK: memref.load %[[LHS]]
// CHECK: memref.load %[[RHS]]
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: {dom = array<i64: 4, 8, 2>, iter_types = ["spatial", "spatial", "reduction"], name = "matmul"}
// CHECK: {tprog.loop = "k"}
// CHECK: {tprog.loop = "j"}
// CHECK: {tprog.loop = "i"}
func.func @mm(%a: tensor<4x2xf32>, %b: tensor<2x8xf32>) -> tensor<4x8xf32> {
  %r = "graph.matmul"(%a, %b) : (tensor<4x2xf32>, tensor<2x8xf32>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

// A broadcast add reads the bias with the inner iteration variable only.
// CHECK-LABEL: func.func private @add
// CHECK-SAME: (%[[X:.*]]: memref<4x8xf32>, %[[B:.*]]: memref<8xf32>, %[[OUT:.*]]: memref<4x8xf32>)
// CHECK: ^bb0(%[[I:.*]]: index, %[[J:.*]]: index):
// CHECK-NEXT: omp.terminator
// CHECK: ^bb0(%[[VI:.*]]: index, %[[VJ:.*]]: index):
// CHECK-NEXT: %[[L:.*]] = memref.load %[[X]][%[[VI]], %[[VJ]]]
// CHECK-NEXT: %[[R:.*]] = memref.load %[[B]][%[[VJ]]]
// CHECK-NEXT: %[[S:.*]] = arith.addf %[[L]], %[[R]] : f32
// CHECK-NEXT: memref.store %[[S]], %[[OUT]][%[[VI]], %[[VJ]]]
// CHECK: {dom = array<i64: 4, 8>, iter_types = ["spatial", "spatial"], name = "add"}
func.func @bias_add(%x: tensor<4x8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %r = "graph.add"(%x, %b) : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

// A size-1 dimension is broadcast by reading index 0.
// CHECK-LABEL: func.func private @add
// CHECK-SAME: (%{{.*}}: memref<4x8xf32>, %[[B:.*]]: memref<4x1xf32>, %{{.*}}: memref<4x8xf32>)
// CHECK: ^bb0(%[[VI:.*]]: index, %{{.*}}: index):
// CHECK: %[[ZERO:.*]] = arith.constant 0 : index
// CHECK: memref.load %[[B]][%[[VI]], %[[ZERO]]]
func.func @add_column(%x: tensor<4x8xf32>, %b: tensor<4x1xf32>) -> tensor<4x8xf32> {
  %r = "graph.add"(%x, %b) : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

// A relu is a max with 0.0.
// CHECK-LABEL: func.func private @relu
// CHECK-SAME: (%[[X:.*]]: memref<16xf32>, %[[OUT:.*]]: memref<16xf32>) attributes {tprog.prim_func}
// CHECK: %[[L:.*]] = memref.load %[[X]]
// CHECK: %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[M:.*]] = arith.maximumf %[[L]], %[[Z]] : f32
// CHECK: memref.store %[[M]], %[[OUT]]
// CHECK: name = "relu"
// CHECK: {tprog.loop = "i0"}
func.func @relu_fn(%x: tensor<16xf32>) -> tensor<16xf32> {
  %r = "graph.relu"(%x) : (tensor<16xf32>) -> tensor<16xf32>
  return %r : tensor<16xf32>
}

// -----

// A constant becomes arith.constant.
// CHECK-LABEL: func.func @constant
// CHECK: %[[C:.*]] = arith.constant dense<1.000000e+00> : tensor<4xf32>
// CHECK: bufferization.to_buffer %[[C]]
// CHECK: call @relu(
func.func @constant() -> tensor<4xf32> {
  %c = "graph.constant"() {value = dense<1.0> : tensor<4xf32>} : () -> tensor<4xf32>
  %r = "graph.relu"(%c) : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// A fused subgraph becomes one prim func with a block per op; intermediates live in local
// buffers and the last block writes the output argument.
// CHECK-LABEL: func.func @mlp
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<2x3xf32>
// CHECK: call @fused_matmul_add_relu(%{{.*}}, %{{.*}}, %{{.*}}, %[[OUT]]) : (memref<2x4xf32>, memref<4x3xf32>, memref<3xf32>, memref<2x3xf32>) -> ()
// CHECK-LABEL: func.func private @fused_matmul_add_relu
// CHECK-SAME: (%{{.*}}: memref<2x4xf32>, %{{.*}}: memref<4x3xf32>, %{{.*}}: memref<3xf32>, %[[RES:.*]]: memref<2x3xf32>) attributes {tprog.prim_func}
// CHECK-NOT: graph.fused
// CHECK: %[[T0:.*]] = memref.alloc() : memref<2x3xf32>
// CHECK: memref.store %{{.*}}, %[[T0]]
// CHECK: name = "matmul"
// CHECK: %[[T1:.*]] = memref.alloc() : memref<2x3xf32>
// CHECK: memref.load %[[T0]]
// CHECK: memref.store %{{.*}}, %[[T1]]
// CHECK: name = "add"
// CHECK: memref.load %[[T1]]
// CHECK: memref.store %{{.*}}, %[[RES]]
// CHECK: name = "relu"
// CHECK: return
// CHECK-NOT: graph.
func.func @mlp(%x: tensor<2x4xf32>, %w: tensor<4x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  %r = func.call @fused_matmul_add_relu(%x, %w, %b) : (tensor<2x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}
func.func private @fused_matmul_add_relu(%x: tensor<2x4xf32>, %w: tensor<4x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> attributes {graph.fused} {
  %0 = "graph.matmul"(%x, %w) : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  %1 = "graph.add"(%0, %b) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %2 = "graph.relu"(%1) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %2 : tensor<2x3xf32>
}

// -----

// A prim func never takes a name that is already a symbol of the module.
// CHECK-LABEL: func.func @relu
// CHECK: call @relu_1(
// CHECK-LABEL: func.func private @relu_1
// CHECK-SAME: attributes {tprog.prim_func}
func.func @relu(%x: tensor<16xf32>) -> tensor<16xf32> {
  %r = "graph.relu"(%x) : (tensor<16xf32>) -> tensor<16xf32>
  return %r : tensor<16xf32>
}
