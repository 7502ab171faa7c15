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

// Matmuls the library does not take (1-D operands, f16) stay graph ops.
// CHECK-LABEL: func.func @unsupported
// CHECK: "graph.matmul"(%{{.*}}, %{{.*}}) : (tensor<8xf32>, tensor<8x3xf32>)
// CHECK: "graph.matmul"(%{{.*}}, %{{.*}}) : (tensor<4x8xf16>, tensor<8x3xf16>)
// CHECK-NOT: libcall
func.func @unsupported(%a: tensor<8xf32>, %b: tensor<8x3xf32>, %c: tensor<4x8xf16>, %d: tensor<8x3xf16>) -> (tensor<3xf32>, tensor<4x3xf16>) {
  %0 = "graph.matmul"(%a, %b) : (tensor<8xf32>, tensor<8x3xf32>) -> tensor<3xf32>
  %1 = "graph.matmul"(%c, %d) : (tensor<4x8xf16>, tensor<8x3xf16>) -> tensor<4x3xf16>
  return %0, %1 : tensor<3xf32>, tensor<4x3xf16>
}

// -----

// Batched matmuls (broadcast batch dimensions too) become one libcall.matmul on N-D memrefs.
// CHECK-LABEL: func.func private @openblas_sgemm
// CHECK-SAME: (%[[L:.*]]: memref<2x4x8xf32>, %[[R:.*]]: memref<8x3xf32>, %[[O:.*]]: memref<2x4x3xf32>)
// CHECK-NEXT: "libcall.matmul"(%[[L]], %[[R]], %[[O]]) {callee = "openblas.sgemm"}
func.func @batched(%a: tensor<2x4x8xf32>, %b: tensor<8x3xf32>) -> tensor<2x4x3xf32> {
  %0 = "graph.matmul"(%a, %b) : (tensor<2x4x8xf32>, tensor<8x3xf32>) -> tensor<2x4x3xf32>
  return %0 : tensor<2x4x3xf32>
}

// -----

// A transpose of the last two dimensions feeding the matmul is absorbed: the tensor program takes
// the untransposed tensor and the library reads it through a transposed view (no copy).
// CHECK-LABEL: func.func @attention_scores
// CHECK-SAME: (%[[Q:.*]]: tensor<4x16x8xf32>, %[[K:.*]]: tensor<4x16x8xf32>)
// CHECK-NOT: graph.transpose
// CHECK: %[[BK:.*]] = bufferization.to_buffer %[[K]]
// CHECK: call @openblas_sgemm(%{{.*}}, %[[BK]], %{{.*}}) : (memref<4x16x8xf32>, memref<4x16x8xf32>, memref<4x16x16xf32>)
// CHECK-LABEL: func.func private @openblas_sgemm
// CHECK-SAME: (%[[L:.*]]: memref<4x16x8xf32>, %[[R:.*]]: memref<4x16x8xf32>, %[[O:.*]]: memref<4x16x16xf32>)
// CHECK-NEXT: %[[T:.*]] = memref.transpose %[[R]] (d0, d1, d2) -> (d0, d2, d1) : memref<4x16x8xf32> to memref<4x8x16xf32, strided<[128, 1, 8]>>
// CHECK-NEXT: "libcall.matmul"(%[[L]], %[[T]], %[[O]])
func.func @attention_scores(%q: tensor<4x16x8xf32>, %k: tensor<4x16x8xf32>) -> tensor<4x16x16xf32> {
  %kt = "graph.transpose"(%k) {permutation = array<i64: 0, 2, 1>} : (tensor<4x16x8xf32>) -> tensor<4x8x16xf32>
  %0 = "graph.matmul"(%q, %kt) : (tensor<4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<4x16x16xf32>
  return %0 : tensor<4x16x16xf32>
}

// -----

// A transpose with other users stays (for them); the call still reads the untransposed tensor.
// CHECK-LABEL: func.func @shared_transpose
// CHECK: %[[T:.*]] = "graph.transpose"
// CHECK: call @openblas_sgemm(%{{.*}}, %{{.*}}, %{{.*}}) : (memref<16x8xf32>, memref<16x8xf32>, memref<16x16xf32>)
// CHECK: return %{{.*}}, %[[T]]
func.func @shared_transpose(%q: tensor<16x8xf32>, %k: tensor<16x8xf32>) -> (tensor<16x16xf32>, tensor<8x16xf32>) {
  %kt = "graph.transpose"(%k) {permutation = array<i64: 1, 0>} : (tensor<16x8xf32>) -> tensor<8x16xf32>
  %0 = "graph.matmul"(%q, %kt) : (tensor<16x8xf32>, tensor<8x16xf32>) -> tensor<16x16xf32>
  return %0, %kt : tensor<16x16xf32>, tensor<8x16xf32>
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
