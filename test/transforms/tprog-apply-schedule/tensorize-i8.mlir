// RUN: strata-opt %s --split-input-file --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/tensorize-i8.sched | FileCheck %s

// An i8 matmul tensorized onto the VNNI kernel: rhs packed into VNNI layout (K/4 x N'*4, N
// padded to whole vectors, zeros outside), its column sums (k outside, rows read contiguously),
// lhs shifted into unsigned bytes, the accumulator initialized to -128 * colsum, 4-row tiles of
// dot_i8_microkernel, then the copy out (N = 20 is not whole vectors).
// CHECK-LABEL: func.func private @matmul
// CHECK: memref.alloc() : memref<16x128xi8>
// CHECK: name = "matmul_pack_rhs"
// CHECK: iter_types = ["reduction", "spatial"], name = "matmul_colsum"
// CHECK: arith.xori
// CHECK: name = "matmul_shift_lhs"
// CHECK: name = "matmul_init"
// CHECK: "hwprim.dot_i8_microkernel"(%{{.*}}, %{{.*}}, %{{.*}}) {vector_width = 16 : i64} : (memref<4x64xi8, {{.*}}>, memref<16x128xi8, {{.*}}>, memref<4x32xi32, {{.*}}>) -> ()
// CHECK: name = "matmul_copy_out"
func.func @mm(%x: tensor<16x64xi8>, %w: tensor<64x20xi8>) -> tensor<16x20xi32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xi8>, tensor<64x20xi8>) -> tensor<16x20xi32>
  return %0 : tensor<16x20xi32>
}

// -----

// With whole vectors (N = 32) the kernels accumulate in the output itself: no copy out.
// RUN: strata-opt %s --split-input-file --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/tensorize-i8.sched | FileCheck %s --check-prefix=DIRECT
// DIRECT-LABEL: func.func private @matmul({{.*}}: memref<64x32xi8>, %{{.*}}: memref<16x32xi32>)
// DIRECT: "hwprim.dot_i8_microkernel"
// DIRECT-NOT: name = "matmul_copy_out"
func.func @mm_direct(%x: tensor<16x64xi8>, %w: tensor<64x32xi8>) -> tensor<16x32xi32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xi8>, tensor<64x32xi8>) -> tensor<16x32xi32>
  return %0 : tensor<16x32xi32>
}
