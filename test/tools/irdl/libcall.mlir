// The libcall IRDL file loads in upstream mlir-opt, and a call round-trips there.
// RUN: mlir-opt --irdl-file=%strata_dialects/libcall.irdl.mlir %s | mlir-opt --irdl-file=%strata_dialects/libcall.irdl.mlir | FileCheck %s

// CHECK-LABEL: func.func @sgemm
// CHECK-SAME: (%[[A:.*]]: memref<4x8xf32>, %[[B:.*]]: memref<8x4xf32>, %[[C:.*]]: memref<4x4xf32>)
// CHECK: "libcall.matmul"(%[[A]], %[[B]], %[[C]]) {callee = "openblas.sgemm"} : (memref<4x8xf32>, memref<8x4xf32>, memref<4x4xf32>) -> ()
func.func @sgemm(%a: memref<4x8xf32>, %b: memref<8x4xf32>, %c: memref<4x4xf32>) {
  "libcall.matmul"(%a, %b, %c) {callee = "openblas.sgemm"} : (memref<4x8xf32>, memref<8x4xf32>, memref<4x4xf32>) -> ()
  return
}
