// RUN: strata-opt %s --convert-graph-to-tprog --tprog-apply-schedule=file=%S/Inputs/tensorize-i8.sched | FileCheck %s

// An i8 matmul tensorized onto the VNNI kernel: rhs packed into VNNI layout (K/4 x N'*4, N
// padded to whole vectors), its column sums, lhs shifted into unsigned bytes, the accumulator
// initialized to -128 * colsum, 4-row tiles of dot_i8_microkernel, then the copy out.
// CHECK-LABEL: func.func private @matmul
// CHECK: memref.alloc() : memref<16x128xi8>
// CHECK: name = "matmul_pack_zero"
// CHECK: name = "matmul_pack_rhs"
// CHECK: name = "matmul_colsum"
// CHECK: arith.xori
// CHECK: name = "matmul_shift_lhs"
// CHECK: name = "matmul_init"
// CHECK: "hwprim.dot_i8_microkernel"(%{{.*}}, %{{.*}}, %{{.*}}) {vector_width = 16 : i64} : (memref<4x64xi8, {{.*}}>, memref<16x128xi8, {{.*}}>, memref<4x32xi32, {{.*}}>) -> ()
// CHECK: name = "matmul_copy_out"
func.func @mm(%x: tensor<16x64xi8>, %w: tensor<64x20xi8>) -> tensor<16x20xi32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xi8>, tensor<64x20xi8>) -> tensor<16x20xi32>
  return %0 : tensor<16x20xi32>
}
