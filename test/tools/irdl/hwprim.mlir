// The hwprim IRDL file loads in upstream mlir-opt, and a micro-kernel round-trips there.
// RUN: mlir-opt --irdl-file=%strata_dialects/hwprim.irdl.mlir %s | mlir-opt --irdl-file=%strata_dialects/hwprim.irdl.mlir | FileCheck %s

// CHECK-LABEL: func.func @tile
// CHECK-SAME: (%[[A:.*]]: memref<4x2xf32>, %[[B:.*]]: memref<2x8xf32>, %[[C:.*]]: memref<4x8xf32>)
// CHECK: "hwprim.fma_microkernel"(%[[A]], %[[B]], %[[C]]) {vector_width = 8 : i64} : (memref<4x2xf32>, memref<2x8xf32>, memref<4x8xf32>) -> ()
func.func @tile(%a: memref<4x2xf32>, %b: memref<2x8xf32>, %c: memref<4x8xf32>) {
  "hwprim.fma_microkernel"(%a, %b, %c) {vector_width = 8 : i64} : (memref<4x2xf32>, memref<2x8xf32>, memref<4x8xf32>) -> ()
  return
}
