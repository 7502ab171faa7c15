// RUN: strata-opt %s --split-input-file --convert-graph-to-libcall | FileCheck %s

// A 2-D f32 matmul becomes a call of a prim func holding one libcall.matmul; the other
// graph ops are left for convert-graph-to-tprog.
// CHECK-LABEL: func.func @mlp
// CHECK-SAME: (%[[X:.*]]: tensor<16x64xf32>, %[[W:.*]]: tensor<64x32xf32>, %[[B:.*]]: tensor<32xf32>)
// CHECK-NOT: graph.matmul
// CHECK: %[[BX:.*]] = bufferization.to_buffer %[[X]] read_only
// CHECK: %[[BW:.*]] = bufferization.to_buffer %[[W]] read_only
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<16x32xf32>
// CHECK: call @openblas_sgemm(%[[BX]], %[[BW]], %[[OUT]])
// CHECK: %[[M:.*]] = bufferization.to_tensor %[[OUT]]
// CHECK: %[[A:.*]] = "graph.add"(%[[M]], %[[B]])
// CHECK: "graph.relu"(%[[A]])
// CHECK-LABEL: func.func private @openblas_sgemm
// CHECK-SAME: (%[[L:.*]]: memref<16x64xf32>, %[[R:.*]]: memref<64x32xf32>, %[[O:.*]]: memref<16x32xf32>) attributes {tprog.prim_func}
// CHECK-NEXT: "libcall.matmul"(%[[L]], %[[R]], %[[O]]) {callee = "openblas.sgemm"}
// CHECK-NEXT: return
func.func @mlp(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>, %b: tensor<32xf32>) -> tensor<16x32xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  %1 = "graph.add"(%0, %b) : (tensor<16x32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
  %2 = "graph.relu"(%1) : (tensor<16x32xf32>) -> tensor<16x32xf32>
  return %2 : tensor<16x32xf32>
}

// -----

// Matmuls the library does not take (batched, f16) stay graph ops.
// CHECK-LABEL: func.func @unsupported
// CHECK: "graph.matmul"(%{{.*}}, %{{.*}}) : (tensor<2x4x8xf32>, tensor<8x3xf32>)
// CHECK: "graph.matmul"(%{{.*}}, %{{.*}}) : (tensor<4x8xf16>, tensor<8x3xf16>)
// CHECK-NOT: libcall
func.func @unsupported(%a: tensor<2x4x8xf32>, %b: tensor<8x3xf32>, %c: tensor<4x8xf16>, %d: tensor<8x3xf16>) -> (tensor<2x4x3xf32>, tensor<4x3xf16>) {
  %0 = "graph.matmul"(%a, %b) : (tensor<2x4x8xf32>, tensor<8x3xf32>) -> tensor<2x4x3xf32>
  %1 = "graph.matmul"(%c, %d) : (tensor<4x8xf16>, tensor<8x3xf16>) -> tensor<4x3xf16>
  return %0, %1 : tensor<2x4x3xf32>, tensor<4x3xf16>
}

// -----

// Matmuls inside fused subgraphs are left to the fused lowering.
// CHECK-LABEL: func.func private @fused_matmul_relu
// CHECK: "graph.matmul"
// CHECK-NOT: libcall
func.func private @fused_matmul_relu(%x: tensor<2x4xf32>, %w: tensor<4x3xf32>) -> tensor<2x3xf32> attributes {graph.fused} {
  %0 = "graph.matmul"(%x, %w) : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  %1 = "graph.relu"(%0) : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}
