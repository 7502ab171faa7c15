// RUN: strata-opt %s --convert-graph-to-tprog --tprog-apply-tuning-db='file=%S/Inputs/db.jsonl vector-width=16' | FileCheck %s
// RUN: not strata-opt %s --convert-graph-to-tprog --tprog-apply-tuning-db=file=%S/Inputs/bad.jsonl 2>&1 | FileCheck %s --check-prefix=BAD

// The database's best record for this workload (4-row tiles, 41.0 us) is applied; the slower
// 8-row one is not.
// CHECK-LABEL: func.func private @matmul
// CHECK: "hwprim.fma_microkernel"{{.*}} : (memref<4x64xf32, {{.*}}>, memref<64x32xf32, {{.*}}>, memref<4x32xf32, {{.*}}>) -> ()
// CHECK-NOT: memref<8x64xf32

// BAD: error: cannot use tuning database: {{.*}}bad.jsonl:1: not a tuning record
func.func @mm(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>
  return %0 : tensor<16x32xf32>
}
